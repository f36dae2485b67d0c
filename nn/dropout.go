package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/fmnist/fmnist/tensor"
)

// Dropout zeroes each input with probability P in training and scales the
// others by 1/(1−P) (inverted dropout), so that eval is the identity. The
// mask comes from the layer's own PCG stream, seeded from the model's
// generator, so a rerun draws the same masks.
type Dropout struct {
	P float64

	src     *rand.PCG
	mask    []float32
	y, dx   *tensor.Tensor
	applied bool // the last Forward drew a mask
	shape   []int
}

// NewDropout returns a dropout layer whose stream is seeded from rng.
func NewDropout(p float64, rng *rand.Rand) *Dropout {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("nn: dropout probability %v out of [0, 1)", p))
	}
	return &Dropout{P: p, src: rand.NewPCG(rng.Uint64(), rng.Uint64())}
}

// Forward applies a fresh mask in training; in eval (or with P = 0) it
// returns x itself.
func (l *Dropout) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	l.shape = append(l.shape[:0], x.Shape...)
	l.applied = train && l.P > 0
	if !l.applied {
		return x
	}
	l.mask = grow(l.mask, len(x.Data))
	dropoutMask(l.mask, l.P, l.src)
	l.y = tensor.Ensure(l.y, x.Shape...)
	mulMask(l.y.Data, x.Data, l.mask)
	return l.y
}

// Backward applies the last mask to dy; when no mask was drawn it returns
// dy itself.
func (l *Dropout) Backward(dy *tensor.Tensor) *tensor.Tensor {
	tensor.MustShape("nn: dropout output gradient", dy, l.shape...)
	if !l.applied {
		return dy
	}
	l.dx = tensor.Ensure(l.dx, dy.Shape...)
	mulMask(l.dx.Data, dy.Data, l.mask)
	return l.dx
}

// Params is empty.
func (l *Dropout) Params() []*Param { return nil }

// RNGState returns the state of the model's random streams (those of its
// dropout layers, in layer order) so that a checkpoint can resume the same
// masks; it is empty when the model draws nothing.
func (m *Model) RNGState() []byte {
	var out []byte
	for _, l := range m.layers {
		if d, ok := l.(*Dropout); ok {
			b, _ := d.src.MarshalBinary() // a PCG always marshals
			out = append(out, b...)
		}
	}
	return out
}

// SetRNGState restores what RNGState returned. It is strict: the bytes must
// hold one stream per dropout layer; on error nothing is changed.
func (m *Model) SetRNGState(b []byte) error {
	var ds []*Dropout
	for _, l := range m.layers {
		if d, ok := l.(*Dropout); ok {
			ds = append(ds, d)
		}
	}
	size := 0
	if len(ds) > 0 {
		s, _ := ds[0].src.MarshalBinary()
		size = len(s)
	}
	if len(b) != size*len(ds) {
		return fmt.Errorf("nn: RNG state of %d bytes, want %d for %d dropout layers", len(b), size*len(ds), len(ds))
	}
	srcs := make([]rand.PCG, len(ds))
	for i := range ds {
		if err := srcs[i].UnmarshalBinary(b[i*size : (i+1)*size]); err != nil {
			return fmt.Errorf("nn: RNG state of dropout layer %d: %w", i, err)
		}
	}
	for i, d := range ds {
		*d.src = srcs[i]
	}
	return nil
}
