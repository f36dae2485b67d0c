// Package classifier is the public way to use a saved fmnist model: Load a
// model file of any kind (mlp, cnn or cnn_mlp), then classify pictures,
// 28×28 pixels or batches of them, and get each class's probability.
//
// The one idea: a model file alone is enough to classify, with the same
// numbers as training saw. Load reads the architecture and the pixel
// normalisation from the file's metadata; pictures go through imageprep as
// in `fmnist predict`, and pixels are normalised with the same formula as
// the dataset's loader, (v/255 − mean)/std, so a batch gives the logits
// that `fmnist eval` gives the same items.
//
// A Classifier is safe for concurrent use. The nn layers own scratch
// buffers, so one model cannot run two forward passes at once; the
// Classifier keeps a small pool of replicas of the model (Options.Replicas,
// made on first need from the loaded weights) and a call waits for a free
// one. The replicas bound the memory: each holds the scratch of at most
// Options.MaxBatch images.
//
// Imports: model (LoadModel reads the file), imageprep, dataset (the class
// names), nn and tensor. Nothing of training: not fit, not pipeline.
package classifier
