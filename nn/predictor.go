package nn

import "github.com/fmnist/fmnist/tensor"

// Predictor maps a batch of inputs to logits (B, classes), in eval mode.
// A *Model is one through Eval; a model file of kind cnn_mlp is another.
// It lives here, beside the layers, so that the fit loop and the model
// files can both speak of it without importing each other.
type Predictor interface {
	Predict(x *tensor.Tensor) *tensor.Tensor
}

// Eval adapts a model to Predictor: a forward pass in eval mode.
type Eval struct{ *Model }

// Predict runs the model in eval mode.
func (e Eval) Predict(x *tensor.Tensor) *tensor.Tensor { return e.Forward(x, false) }
