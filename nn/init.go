package nn

import (
	"math"
	"math/rand/v2"

	"github.com/fmnist/fmnist/tensor"
)

// NewRNG returns the generator a model draws its initial weights and its
// dropout seeds from: PCG seeded with seed and a fixed stream constant, so
// that the same seed gives the same bits on every machine.
func NewRNG(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

// heNormal fills w with Kaiming-normal values for fan-in fanIn: standard
// deviation sqrt(2/fanIn), which keeps the activation variance steady
// through ReLU layers (PyTorch's kaiming_normal_ with its defaults).
func heNormal(w []float32, fanIn int, rng *rand.Rand) {
	std := math.Sqrt(2 / float64(max(fanIn, 1)))
	for i := range w {
		w[i] = float32(rng.NormFloat64() * std)
	}
}

// newParam returns a parameter with a zero value and gradient.
func newParam(name string, decay bool, shape ...int) *Param {
	return &Param{Name: name, Value: tensor.New(shape...), Grad: tensor.New(shape...), Decay: decay}
}

// grow returns s resliced to n elements, reallocating only when its
// capacity is short. The contents are not preserved.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
