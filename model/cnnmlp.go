package model

import (
	"math"

	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/tensor"
)

// Standardizer maps each feature to zero mean and unit variance, with the
// statistics of the training features.
type Standardizer struct {
	Mean, Std []float32
}

// FitStandardizer computes per-feature mean and std (float64 sums; a
// constant feature gets std 1).
func FitStandardizer(x []float32, dim int) Standardizer {
	n := len(x) / dim
	mean := make([]float64, dim)
	sq := make([]float64, dim)
	for i := 0; i < n; i++ {
		for j, v := range x[i*dim : (i+1)*dim] {
			mean[j] += float64(v)
			sq[j] += float64(v) * float64(v)
		}
	}
	s := Standardizer{Mean: make([]float32, dim), Std: make([]float32, dim)}
	for j := range mean {
		m := mean[j] / float64(n)
		v := sq[j]/float64(n) - m*m
		sd := math.Sqrt(max(v, 0))
		if sd < 1e-6 {
			sd = 1
		}
		s.Mean[j], s.Std[j] = float32(m), float32(sd)
	}
	return s
}

// Apply standardises x (rows of len(s.Mean)) in place.
func (s Standardizer) Apply(x []float32) {
	dim := len(s.Mean)
	for i := 0; i+dim <= len(x); i += dim {
		row := x[i : i+dim]
		for j := range row {
			row[j] = (row[j] - s.Mean[j]) / s.Std[j]
		}
	}
}

// CNNMLP is the model of kind cnn_mlp: an MLP on the CNN's features, the
// CNN's pooled features standardised by Norm, into the MLP.
type CNNMLP struct {
	CNN  *nn.Model // only its backbone (Features) is used
	Norm Standardizer
	MLP  *nn.Model
	buf  *tensor.Tensor
}

// Predict returns the MLP's logits for a batch of images.
func (s *CNNMLP) Predict(x *tensor.Tensor) *tensor.Tensor {
	f := s.CNN.Features(x)
	s.buf = tensor.Ensure(s.buf, f.Shape...)
	copy(s.buf.Data, f.Data)
	s.Norm.Apply(s.buf.Data)
	return s.MLP.Forward(s.buf, false)
}
