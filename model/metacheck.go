package model

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/fmnist/fmnist/checkpoint"
)

// The values in a file's metadata are covered by its checksums only in
// files this version wrote (checkpoint.AllChecked). A format 1 file, or a
// model file PyTorch wrote, could say anything there: before a reader uses
// such values they are checked to be numbers in the range they can have,
// so that an edited digit cannot pass as a result (an accuracy of 1.7)
// or break every prediction (a pixel_std of 0).

// ErrMetadata is wrapped by the errors about a metadata value out of its
// range in a file whose checksums do not cover it.
var ErrMetadata = errors.New("metadata value out of range")

// metaRange is a numeric metadata key and its range, lo and hi included
// unless open says lo is not.
type metaRange struct {
	key      string
	lo, hi   float64
	open     bool
	optional bool
}

// modelMeta is what a model file's readers use: the pixel normalisation
// (pixels are in [0, 1], so their mean is and their std cannot exceed it)
// and, when a file carries them, accuracies.
var modelMeta = []metaRange{
	{key: "pixel_mean", lo: 0, hi: 1},
	{key: "pixel_std", lo: 0, hi: 1, open: true},
	{key: "test_acc", lo: 0, hi: 1, optional: true},
	{key: "val_acc", lo: 0, hi: 1, optional: true},
}

func (r metaRange) check(meta map[string]string) error {
	s, ok := meta[r.key]
	if !ok {
		if r.optional {
			return nil
		}
		return fmt.Errorf("%w: no %s", ErrMetadata, r.key)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err == nil {
		err = InRange(r.key, v, r.lo, r.hi, r.open)
	}
	if err != nil {
		return fmt.Errorf("%w: %s %.40q", ErrMetadata, r.key, s)
	}
	return nil
}

// InRange is nil when v is in [lo, hi], or (lo, hi] when open; NaN is
// never in range. Its error wraps ErrMetadata.
func InRange(what string, v, lo, hi float64, open bool) error {
	if v >= lo && v <= hi && !(open && v == lo) {
		return nil
	}
	return fmt.Errorf("%w: %s %v, want %v to %v", ErrMetadata, what, v, lo, hi)
}

// checkModelMeta checks the metadata values of a model file that its
// checksums did not cover. The spec in "arch" is checked by CheckSpec
// wherever the file came from.
func checkModelMeta(path string, f *checkpoint.File) error {
	if f.Check == checkpoint.AllChecked {
		return nil
	}
	for _, r := range modelMeta {
		if err := r.check(f.Metadata); err != nil {
			return fmt.Errorf("model: %s (%v, so its values are checked): %w", path, f.Check, err)
		}
	}
	return nil
}
