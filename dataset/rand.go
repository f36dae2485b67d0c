package dataset

import (
	"math/bits"
	"math/rand/v2"
)

// Streams of randomness, each derived from the user's seed and a tag, so
// that the split, the epoch order and the augmentation never share draws.
const (
	tagSplit   = 0x73706c6974 // "split"
	tagShuffle = 0x73687566   // "shuf"
	tagAugment = 0x61756720   // "aug "
)

// splitmix64 is a bijective 64-bit mixer (Steele et al.), used to turn
// small, related seeds into unrelated PCG states.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// mix combines two words into one seed.
func mix(a, b uint64) uint64 { return splitmix64(a ^ splitmix64(b)) }

// rng draws from a PCG source. It uses only PCG's Uint64, whose sequence is
// defined by the algorithm, and does its own bounded and float conversions,
// so results do not depend on the Go version's math/rand helpers.
type rng struct{ pcg rand.PCG }

func newRNG(a, b uint64) *rng {
	r := &rng{}
	r.seed(a, b)
	return r
}

func (r *rng) seed(a, b uint64) { r.pcg.Seed(splitmix64(a), splitmix64(b^0x5851f42d4c957f2d)) }

// below returns a uniform integer in [0, n), n > 0 (Lemire's method).
func (r *rng) below(n uint64) uint64 {
	hi, lo := bits.Mul64(r.pcg.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.pcg.Uint64(), n)
		}
	}
	return hi
}

// float returns a uniform float64 in [0, 1).
func (r *rng) float() float64 { return float64(r.pcg.Uint64()>>11) * 0x1p-53 }
