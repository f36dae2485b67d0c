// Package onnx writes a saved fmnist classifier as one ONNX graph, so that
// ONNX Runtime (or any ONNX runtime) gives the logits fmnist gives.
//
// The one idea: the graph is the model file's forward pass in eval mode,
// and nothing else to know. Its input "pixels" is float32 (batch, 1, 28, 28)
// holding pixel/255, and the graph itself subtracts the training set's pixel
// mean and divides by its std (kept in the metadata too, for the record), so
// a user cannot get the normalisation wrong. Its output "logits" is float32
// (batch, classes). The batch dimension is symbolic ("batch"). The metadata
// (metadata_props) holds class_names as a JSON array, the input contract,
// pixel_mean and pixel_std, the kind and the nn.Spec JSON of each part.
//
// Batch norms are folded into the Gemm or Conv before them (in float64):
// the graph has only Sub, Div, Flatten, Gemm, Conv, Relu, MaxPool and
// GlobalMaxPool, all of opset 13, and runtimes fuse the rest themselves.
// Dropout is the identity in eval mode and is left out. cnn_mlp is one
// graph: the backbone, the feature standardisation (Sub, Div) and the MLP.
//
// The protobuf is written by hand with protowire: the dozen fields of
// onnx.proto that a classifier needs (proto.go), no generated code and no
// cgo. The IR version is 8, the newest that Debian's python3-onnx (1.12)
// checks. The exporter reads only what model.LoadModel returns (specs and
// state dicts); it refuses, with an error wrapping ErrUnsupported, a model
// whose weights do not match its spec or that the graph cannot express.
package onnx
