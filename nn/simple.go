package nn

import (
	"fmt"

	"github.com/fmnist/fmnist/tensor"
)

// ReLU is max(x, 0), elementwise, on any shape.
type ReLU struct {
	y, dx *tensor.Tensor
}

// NewReLU returns a ReLU layer.
func NewReLU() *ReLU { return &ReLU{} }

// Forward returns max(x, 0).
func (l *ReLU) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	l.y = tensor.Ensure(l.y, x.Shape...)
	relu(l.y.Data, x.Data)
	return l.y
}

// Backward passes dy where the output was positive.
func (l *ReLU) Backward(dy *tensor.Tensor) *tensor.Tensor {
	tensor.MustShape("nn: relu output gradient", dy, l.y.Shape...)
	l.dx = tensor.Ensure(l.dx, l.y.Shape...)
	reluBackward(l.dx.Data, dy.Data, l.y.Data)
	return l.dx
}

// Params is empty.
func (l *ReLU) Params() []*Param { return nil }

// MaxPool2D is a 2×2 max-pool with stride 2 on NHWC input, in floor mode
// (PyTorch's MaxPool2d(2)): an odd last row or column is dropped. On a tie
// the first maximum in (dy, dx) order takes the gradient.
type MaxPool2D struct {
	x, y, dx *tensor.Tensor
	idx      []int32
}

// NewMaxPool2D returns a 2×2 max-pool layer.
func NewMaxPool2D() *MaxPool2D { return &MaxPool2D{} }

// Forward pools x (B, H, W, C) to (B, H/2, W/2, C).
func (l *MaxPool2D) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	tensor.MustShape("nn: maxpool input", x, -1, -1, -1, -1)
	n, h, w, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	if h < 2 || w < 2 {
		panic(fmt.Sprintf("nn: maxpool input %s: too small for a 2×2 pool", tensor.ShapeString(x.Shape)))
	}
	l.x = x
	l.y = tensor.Ensure(l.y, n, h/2, w/2, c)
	l.idx = grow(l.idx, len(l.y.Data))
	maxPool2x2(l.y.Data, l.idx, x.Data, n, h, w, c)
	return l.y
}

// Backward routes each dy to the input that was the maximum.
func (l *MaxPool2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	tensor.MustShape("nn: maxpool output gradient", dy, l.y.Shape...)
	l.dx = tensor.Ensure(l.dx, l.x.Shape...)
	s := l.x.Shape
	maxPool2x2Backward(l.dx.Data, dy.Data, l.idx, s[0], s[1], s[2], s[3])
	return l.dx
}

// Params is empty.
func (l *MaxPool2D) Params() []*Param { return nil }

// GlobalMaxPool takes the maximum over all positions of NHWC input:
// (B, H, W, C) → (B, C). It stands for PyTorch's AdaptiveMaxPool2d(1)
// followed by Flatten.
type GlobalMaxPool struct {
	x, y, dx *tensor.Tensor
	idx      []int32
}

// NewGlobalMaxPool returns a global max-pool layer.
func NewGlobalMaxPool() *GlobalMaxPool { return &GlobalMaxPool{} }

// Forward pools x (B, H, W, C) to (B, C).
func (l *GlobalMaxPool) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	tensor.MustShape("nn: global maxpool input", x, -1, -1, -1, -1)
	n, hw, c := x.Shape[0], x.Shape[1]*x.Shape[2], x.Shape[3]
	if hw == 0 {
		panic(fmt.Sprintf("nn: global maxpool input %s: no positions", tensor.ShapeString(x.Shape)))
	}
	l.x = x
	l.y = tensor.Ensure(l.y, n, c)
	l.idx = grow(l.idx, n*c)
	globalMaxPool(l.y.Data, l.idx, x.Data, n, hw, c)
	return l.y
}

// Backward routes each dy to the position that was the maximum.
func (l *GlobalMaxPool) Backward(dy *tensor.Tensor) *tensor.Tensor {
	tensor.MustShape("nn: global maxpool output gradient", dy, l.y.Shape...)
	l.dx = tensor.Ensure(l.dx, l.x.Shape...)
	poolBackward(l.dx.Data, dy.Data, l.idx)
	return l.dx
}

// Params is empty.
func (l *GlobalMaxPool) Params() []*Param { return nil }

// Flatten reshapes (B, d1, d2, ...) to (B, d1·d2·...) without copying: its
// output and its input gradient are views of its input and of dy. On NHWC
// images the order is (h, w, c), which is PyTorch's NCHW order when C is 1.
type Flatten struct {
	in       []int
	out, dxv tensor.Tensor
	outShape [2]int
}

// NewFlatten returns a Flatten layer.
func NewFlatten() *Flatten { return &Flatten{} }

// Forward returns a (B, rest) view of x.
func (l *Flatten) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	if len(x.Shape) < 1 {
		panic("nn: flatten input: a scalar has no batch axis")
	}
	l.in = append(l.in[:0], x.Shape...)
	b := x.Shape[0]
	rest := 1
	for _, d := range x.Shape[1:] {
		rest *= d
	}
	l.outShape = [2]int{b, rest}
	l.out.Shape, l.out.Data = l.outShape[:], x.Data
	return &l.out
}

// Backward returns a view of dy with the input's shape.
func (l *Flatten) Backward(dy *tensor.Tensor) *tensor.Tensor {
	tensor.MustShape("nn: flatten output gradient", dy, l.outShape[:]...)
	l.dxv.Shape, l.dxv.Data = l.in, dy.Data
	return &l.dxv
}

// Params is empty.
func (l *Flatten) Params() []*Param { return nil }

// Sequential chains layers.
type Sequential struct {
	Layers []Layer
}

// NewSequential returns the chain of the given layers.
func NewSequential(layers ...Layer) *Sequential { return &Sequential{Layers: layers} }

// Forward runs the layers in order.
func (s *Sequential) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	for _, l := range s.Layers {
		x = l.Forward(x, train)
	}
	return x
}

// Backward runs the layers in reverse. A layer that returns a nil input
// gradient (built WithoutInputGrad) ends the pass, and Backward returns nil:
// the layers before it must have no parameters.
func (s *Sequential) Backward(dy *tensor.Tensor) *tensor.Tensor {
	for i := len(s.Layers) - 1; i >= 0 && dy != nil; i-- {
		dy = s.Layers[i].Backward(dy)
	}
	return dy
}

// Params lists the layers' parameters in order.
func (s *Sequential) Params() []*Param {
	var ps []*Param
	for _, l := range s.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}
