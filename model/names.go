package model

import "github.com/fmnist/fmnist/nn"

// The kinds of model, each also the name of its stage in a run, of its file
// (Kind + ".safetensors") and of its rows in a run folder's files.
const (
	KindMLP    = "mlp"     // an MLP on pixels
	KindCNN    = "cnn"     // the convolutional network with its linear head
	KindCNNMLP = "cnn_mlp" // an MLP on the CNN's features, standardised
)

// Names lists the kinds in the order a run trains them.
var Names = []string{KindMLP, KindCNN, KindCNNMLP}

// FileName is the name of the model file of a kind in a run folder.
func FileName(kind string) string { return kind + ".safetensors" }

// ParamCount is the number of weights of m that training changes or
// batch norm tracks.
func ParamCount(m *nn.Model) int {
	n := 0
	for _, p := range m.Params() {
		n += p.Value.Len()
	}
	return n
}
