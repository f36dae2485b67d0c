package dataset

import (
	"fmt"
	"math"
	"slices"
)

// Set is the raw view of a split: N images of 28×28 unsigned bytes,
// row-major, and their N labels. As numpy arrays they are (N, 28, 28) and
// (N,) uint8.
type Set struct {
	Images []uint8 // N*Pixels, row-major
	Labels []uint8 // N, each 0..Classes-1
}

// NewSet checks that images and labels describe the same items and wraps
// them (not copied).
func NewSet(images, labels []uint8) (*Set, error) {
	if len(images)%Pixels != 0 {
		return nil, fmt.Errorf("dataset: %d pixels is not a whole number of %d-pixel images", len(images), Pixels)
	}
	if n := len(images) / Pixels; n != len(labels) {
		return nil, fmt.Errorf("dataset: %w: %d images, %d labels", ErrCountMismatch, n, len(labels))
	}
	if i, ok := badLabel(labels); ok {
		return nil, fmt.Errorf("dataset: %w: label %d at index %d, want 0..%d", ErrLabelRange, labels[i], i, Classes-1)
	}
	return &Set{Images: images, Labels: labels}, nil
}

// Len is the number of items.
func (s *Set) Len() int { return len(s.Labels) }

// Image returns the 784 pixels of item i (shares storage).
func (s *Set) Image(i int) []uint8 { return s.Images[i*Pixels : (i+1)*Pixels : (i+1)*Pixels] }

// Subset returns the first n items, sharing storage. n is clamped to
// 0..Len.
func (s *Set) Subset(n int) *Set {
	n = max(0, min(n, s.Len()))
	return &Set{Images: s.Images[: n*Pixels : n*Pixels], Labels: s.Labels[:n:n]}
}

// ImageShape is the numpy shape of Images: (N, 28, 28).
func (s *Set) ImageShape() []int { return []int{s.Len(), Rows, Cols} }

// LabelShape is the numpy shape of Labels: (N,).
func (s *Set) LabelShape() []int { return []int{s.Len()} }

// ClassCounts counts the items of each class. Labels out of range are not
// counted.
func (s *Set) ClassCounts() [Classes]int {
	var c [Classes]int
	for _, l := range s.Labels {
		if l < Classes {
			c[l]++
		}
	}
	return c
}

// Split divides s into a training and a validation set of nVal items,
// stratified by class: each class gives the validation set its share of
// nVal (largest remainders, ties to the lower class), chosen by a PCG
// stream seeded from seed. Both sets are copies, in the order of s. The
// same seed gives the same split on every machine.
func Split(s *Set, nVal int, seed uint64) (train, val *Set, err error) {
	n := s.Len()
	if nVal < 0 || nVal > n {
		return nil, nil, fmt.Errorf("dataset: split: %d validation items of %d", nVal, n)
	}
	if len(s.Images) != n*Pixels {
		return nil, nil, fmt.Errorf("dataset: split: %w: %d pixels for %d labels", ErrCountMismatch, len(s.Images), n)
	}
	if i, ok := badLabel(s.Labels); ok {
		return nil, nil, fmt.Errorf("dataset: split: %w: label %d at index %d", ErrLabelRange, s.Labels[i], i)
	}
	var byClass [Classes][]int
	for i, l := range s.Labels {
		byClass[l] = append(byClass[l], i)
	}
	quota := stratify(s.ClassCounts(), nVal)

	rng := newRNG(mix(seed, tagSplit), 0)
	inVal := make([]bool, n)
	for c := range byClass {
		idx := byClass[c]
		// A partial Fisher–Yates: the first quota[c] places are a uniform
		// sample without replacement.
		for i := range quota[c] {
			j := i + int(rng.below(uint64(len(idx)-i)))
			idx[i], idx[j] = idx[j], idx[i]
			inVal[idx[i]] = true
		}
	}
	train, val = newSetCap(n-nVal), newSetCap(nVal)
	for i := range n {
		dst := train
		if inVal[i] {
			dst = val
		}
		dst.Images = append(dst.Images, s.Image(i)...)
		dst.Labels = append(dst.Labels, s.Labels[i])
	}
	return train, val, nil
}

func newSetCap(n int) *Set {
	return &Set{Images: make([]uint8, 0, n*Pixels), Labels: make([]uint8, 0, n)}
}

// stratify shares nVal among the classes in proportion to their counts,
// by largest remainders; ties go to the lower class.
func stratify(counts [Classes]int, nVal int) [Classes]int {
	total := 0
	for _, c := range counts {
		total += c
	}
	var q [Classes]int
	if total == 0 {
		return q
	}
	var rem [Classes]int
	left := nVal
	for c := range counts {
		q[c] = nVal * counts[c] / total
		rem[c] = nVal * counts[c] % total
		left -= q[c]
	}
	order := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	slices.SortStableFunc(order, func(a, b int) int { return rem[b] - rem[a] })
	for _, c := range order[:left] {
		q[c]++
	}
	return q
}

// Stats returns the mean and the (population) standard deviation of the
// pixels of s scaled to [0, 1]. It counts a histogram first, so the result
// does not depend on the order of the pixels.
func Stats(s *Set) (mean, std float64) {
	var hist [256]uint64
	for _, p := range s.Images {
		hist[p]++
	}
	n := float64(len(s.Images))
	if n == 0 {
		return 0, 0
	}
	var sum float64
	for v, c := range hist {
		sum += float64(c) * float64(v)
	}
	mean = sum / n / 255
	var ss float64
	for v, c := range hist {
		d := float64(v)/255 - mean
		ss += float64(c) * d * d
	}
	return mean, math.Sqrt(ss / n)
}
