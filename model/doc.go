// Package model saves and loads fmnist's trained models as safetensors
// files, one file per model, of any of the three kinds in Names.
//
// The one idea: a model file alone is enough to rebuild its model. The
// tensors carry PyTorch's state_dict names and layouts; the metadata says
// the kind, the architecture (an nn.Spec as JSON) and the pixel
// normalisation (PixelMeta), so LoadModel needs nothing else, and a file
// that PyTorch wrote with that metadata loads too.
//
// It also holds what a loaded model must satisfy before anything is
// allocated for it: the size limits of CheckSpec and the memory budget of
// CheckMemory, since a file may claim any architecture.
//
// Imports: checkpoint (the safetensors format), nn and tensor, dataset for
// the image size. It knows nothing of training: the fit loop makes the
// weights, the pipeline decides when to save them, and the classifier
// package builds the public Load/Classify API on LoadModel.
package model
