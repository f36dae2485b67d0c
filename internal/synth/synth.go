// Package synth makes small labelled image sets for tests: each class shows
// as a bright bar at a row of its own over faint noise, so that a tiny
// model learns it in a few steps, and the same seed gives the same bytes.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/nn"
)

// Set makes n images of dataset.Rows × dataset.Cols with seed.
func Set(n int, seed uint64) *dataset.Set {
	rng := rand.New(rand.NewPCG(seed, 7))
	images, labels := make([]uint8, n*dataset.Pixels), make([]uint8, n)
	for i := range labels {
		c := rng.IntN(dataset.Classes)
		labels[i] = uint8(c)
		img := images[i*dataset.Pixels : (i+1)*dataset.Pixels]
		for p := range img {
			img[p] = uint8(rng.IntN(40))
		}
		r := 3 + 2*c
		for x := 4 + rng.IntN(3); x < 24; x++ {
			img[r*dataset.Cols+x] = uint8(200 + rng.IntN(55))
		}
	}
	s, err := dataset.NewSet(images, labels)
	if err != nil {
		panic(err) // the sizes above always agree
	}
	return s
}

// SameBits says how two state dicts differ, nil when they are equal bit
// for bit: what a resumed training must give.
func SameBits(a, b []nn.Named) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d tensors vs %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Name != b[i].Name || len(a[i].Data) != len(b[i].Data) {
			return fmt.Errorf("tensor %d: %s vs %s", i, a[i].Name, b[i].Name)
		}
		for j := range a[i].Data {
			if math.Float32bits(a[i].Data[j]) != math.Float32bits(b[i].Data[j]) {
				return fmt.Errorf("%s[%d] = %v vs %v", a[i].Name, j, a[i].Data[j], b[i].Data[j])
			}
		}
	}
	return nil
}
