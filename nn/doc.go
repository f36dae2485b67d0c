// Package nn holds the layers, the loss and the models of fmnist: the MLP,
// the five-convolution backbone and its feature extractor.
//
// A Layer owns its parameters, their gradients and its scratch buffers, and
// sizes them once per batch shape, so that a training step in steady state
// allocates nothing. Forward returns a tensor the layer owns, valid until its
// next Forward; Backward overwrites the parameter gradients (it does not
// accumulate) and returns the gradient with respect to the input, also owned
// by the layer. Activations are NHWC.
package nn
