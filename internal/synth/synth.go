// Package synth makes small labelled image sets for tests: each class shows
// as a bright bar at a row of its own over faint noise, so that a tiny
// model learns it in a few steps, and the same seed gives the same bytes.
package synth

import (
	"math/rand/v2"

	"github.com/fmnist/fmnist/dataset"
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
