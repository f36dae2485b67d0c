package nn

import "github.com/fmnist/fmnist/tensor"

// Param is a trainable tensor and its gradient. Decay says whether weight
// decay applies (weights yes; biases and batch-norm parameters no).
type Param struct {
	Name  string
	Value *tensor.Tensor
	Grad  *tensor.Tensor
	Decay bool
}

// Layer is one differentiable step of a model.
type Layer interface {
	// Forward computes the output for a batch. train selects training
	// behaviour (batch statistics, dropout).
	Forward(x *tensor.Tensor, train bool) *tensor.Tensor
	// Backward takes the gradient of the loss with respect to the last
	// Forward's output, sets the parameter gradients and returns the
	// gradient with respect to that Forward's input.
	Backward(dy *tensor.Tensor) *tensor.Tensor
	// Params lists the trainable parameters, in a fixed order.
	Params() []*Param
}
