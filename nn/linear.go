package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/fmnist/fmnist/internal/kernels"
	"github.com/fmnist/fmnist/tensor"
)

// Linear is a dense layer y = x·W + b on (B, In) inputs, optionally
// followed by a fused ReLU.
//
// W is stored (In, Out), so that the forward pass and both gradients are
// the same three GEMM shapes as a convolution's (plain, Aᵀ·B and A·Bᵀ).
// The state dict exports PyTorch's (Out, In).
type Linear struct {
	In, Out int
	Weight  *Param // (In, Out)
	Bias    *Param // (Out,), or nil

	relu bool // a ReLU is fused on the output
	noDX bool // Backward skips the input gradient and returns nil

	x, y, dz, dx *tensor.Tensor
}

// NewLinear returns a Linear layer with Kaiming-normal weights drawn from
// rng and a zero bias.
func NewLinear(in, out int, rng *rand.Rand) *Linear {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("nn: linear %d→%d: sizes must be positive", in, out))
	}
	l := &Linear{In: in, Out: out,
		Weight: newParam("weight", true, in, out),
		Bias:   newParam("bias", false, out)}
	heNormal(l.Weight.Value.Data, in, rng)
	return l
}

// WithReLU fuses a ReLU on the output (PyTorch: Linear then ReLU).
func (l *Linear) WithReLU() *Linear { l.relu = true; return l }

// WithoutBias drops the bias, as before a batch norm.
func (l *Linear) WithoutBias() *Linear { l.Bias = nil; return l }

// WithoutInputGrad makes Backward skip the input gradient (one GEMM) and
// return nil; for the first layer of a model.
func (l *Linear) WithoutInputGrad() *Linear { l.noDX = true; return l }

// Forward computes x·W + b for x of shape (B, In).
func (l *Linear) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	tensor.MustShape("nn: linear input", x, -1, l.In)
	b := x.Shape[0]
	l.x = x
	l.y = tensor.Ensure(l.y, b, l.Out)
	if bias := l.bias(); bias != nil {
		// The bias and ReLU applied to each tile of y while it is in L1.
		kernels.SgemmBias(false, false, b, l.Out, l.In, x.Data, l.In, l.Weight.Value.Data, l.Out, bias, l.relu, l.y.Data, l.Out)
		return l.y
	}
	gemm(false, false, b, l.Out, l.In, x.Data, l.In, l.Weight.Value.Data, l.Out, 0, l.y.Data, l.Out)
	biasAct(l.y.Data, nil, b, l.Out, l.relu)
	return l.y
}

// Backward sets the weight and bias gradients and returns dx (B, In).
func (l *Linear) Backward(dy *tensor.Tensor) *tensor.Tensor {
	b := l.x.Shape[0]
	tensor.MustShape("nn: linear output gradient", dy, b, l.Out)
	dz := dy
	if l.relu {
		l.dz = tensor.Ensure(l.dz, b, l.Out)
		reluBackward(l.dz.Data, dy.Data, l.y.Data)
		dz = l.dz
	}
	gemm(true, false, l.In, l.Out, b, l.x.Data, l.In, dz.Data, l.Out, 0, l.Weight.Grad.Data, l.Out)
	if l.Bias != nil {
		biasGrad(l.Bias.Grad.Data, dz.Data, b)
	}
	if l.noDX {
		return nil
	}
	l.dx = tensor.Ensure(l.dx, b, l.In)
	gemm(false, true, b, l.In, l.Out, dz.Data, l.Out, l.Weight.Value.Data, l.Out, 0, l.dx.Data, l.In)
	return l.dx
}

// Params returns the weight, then the bias if there is one.
func (l *Linear) Params() []*Param {
	if l.Bias == nil {
		return []*Param{l.Weight}
	}
	return []*Param{l.Weight, l.Bias}
}

func (l *Linear) bias() []float32 {
	if l.Bias == nil {
		return nil
	}
	return l.Bias.Value.Data
}
