package nn

import (
	"fmt"
	"math"

	"github.com/fmnist/fmnist/tensor"
)

// BatchNorm normalises each channel of the last axis: (B, F) for dense
// activations (PyTorch's BatchNorm1d) and (B, H, W, C) for NHWC images
// (BatchNorm2d). It may fuse a ReLU on its output.
//
// In training it uses the batch mean and the biased batch variance, and
// moves the running statistics by Momentum towards the batch mean and the
// unbiased batch variance, as PyTorch does. In eval it uses the running
// statistics.
type BatchNorm struct {
	C        int
	Momentum float64 // 0.1
	Eps      float64 // BatchNormEps
	Weight   *Param  // γ, (C,), starts at 1
	Bias     *Param  // β, (C,), starts at 0

	RunningMean       []float32 // starts at 0
	RunningVar        []float32 // starts at 1
	NumBatchesTracked int64

	relu bool

	x, y, dx *tensor.Tensor
	xhat     []float32 // (x − mean)·invstd of the last training Forward
	train    bool      // the mode of the last Forward
	rows     int
	// Statistics of the last Forward (batch or running), per channel.
	mean, variance, invStd []float32
	s1, s2                 []float64 // scratch of the eval-mode Backward
}

// BatchNormEps is the ε every batch norm of a built model adds to the
// variance, PyTorch's default. Model files do not record it, so an exporter
// that folds batch norms reads it from here.
const BatchNormEps = 1e-5

// NewBatchNorm returns a batch norm over c channels with PyTorch's defaults.
func NewBatchNorm(c int) *BatchNorm {
	if c <= 0 {
		panic(fmt.Sprintf("nn: batchnorm over %d channels", c))
	}
	l := &BatchNorm{C: c, Momentum: 0.1, Eps: BatchNormEps,
		Weight:      newParam("weight", false, c),
		Bias:        newParam("bias", false, c),
		RunningMean: make([]float32, c),
		RunningVar:  make([]float32, c),
		mean:        make([]float32, c),
		variance:    make([]float32, c),
		invStd:      make([]float32, c),
		s1:          make([]float64, c),
		s2:          make([]float64, c),
	}
	for i := range c {
		l.Weight.Value.Data[i] = 1
		l.RunningVar[i] = 1
	}
	return l
}

// WithReLU fuses a ReLU on the output (PyTorch: BatchNorm then ReLU).
func (l *BatchNorm) WithReLU() *BatchNorm { l.relu = true; return l }

// Forward normalises x, whose last axis has C channels.
func (l *BatchNorm) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	if len(x.Shape) < 2 || x.Shape[len(x.Shape)-1] != l.C {
		panic(fmt.Sprintf("nn: batchnorm input: shape %v, want (..., %d)", x.Shape, l.C))
	}
	rows := len(x.Data) / l.C
	l.x, l.train, l.rows = x, train, rows
	l.y = tensor.Ensure(l.y, x.Shape...)
	var xhat []float32
	if train {
		if rows < 2 {
			panic(fmt.Sprintf("nn: batchnorm input %s: training needs more than one value per channel",
				tensor.ShapeString(x.Shape)))
		}
		bnStats(l.mean, l.variance, x.Data, rows)
		n, m := float64(rows), l.Momentum
		for j := range l.C {
			v := float64(l.variance[j])
			l.invStd[j] = float32(1 / math.Sqrt(v+l.Eps))
			l.RunningMean[j] = float32((1-m)*float64(l.RunningMean[j]) + m*float64(l.mean[j]))
			l.RunningVar[j] = float32((1-m)*float64(l.RunningVar[j]) + m*v*n/(n-1))
		}
		l.NumBatchesTracked++
		l.xhat = grow(l.xhat, len(x.Data))
		xhat = l.xhat
	} else {
		for j := range l.C {
			l.mean[j] = l.RunningMean[j]
			l.invStd[j] = float32(1 / math.Sqrt(float64(l.RunningVar[j])+l.Eps))
		}
	}
	bnForward(l.y.Data, xhat, x.Data, l.mean, l.invStd, l.Weight.Value.Data, l.Bias.Value.Data, rows, l.relu)
	return l.y
}

// Backward sets dγ and dβ and returns dx. After a training Forward the
// batch statistics depend on x, which adds the two mean terms:
// dx = γ·σ⁻¹·(dz − mean(dz) − x̂·mean(dz·x̂)).
func (l *BatchNorm) Backward(dy *tensor.Tensor) *tensor.Tensor {
	tensor.MustShape("nn: batchnorm output gradient", dy, l.y.Shape...)
	l.dx = tensor.Ensure(l.dx, l.x.Shape...)
	g, b := l.Weight.Value.Data, l.Bias.Value.Data
	dg, db := l.Weight.Grad.Data, l.Bias.Grad.Data
	if l.train {
		bnBackward(l.dx.Data, dg, db, dy.Data, l.xhat, l.invStd, g, b, l.rows, l.relu)
	} else {
		bnEvalBackward(l.dx.Data, dg, db, dy.Data, l.x.Data, l.y.Data, l.mean, l.invStd, g, l.s1, l.s2, l.relu)
	}
	return l.dx
}

// Params returns γ then β.
func (l *BatchNorm) Params() []*Param { return []*Param{l.Weight, l.Bias} }
