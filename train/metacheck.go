package train

import (
	"errors"
	"fmt"
	"math"
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
		err = inRange(r.key, v, r.lo, r.hi, r.open)
	}
	if err != nil {
		return fmt.Errorf("%w: %s %.40q", ErrMetadata, r.key, s)
	}
	return nil
}

// inRange is nil when v is in [lo, hi], or (lo, hi] when open; NaN is
// never in range.
func inRange(what string, v, lo, hi float64, open bool) error {
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
			return fmt.Errorf("train: %s (%v, so its values are checked): %w", path, f.Check, err)
		}
	}
	return nil
}

// checkResumeValues returns c, or an error when a number of a checkpoint
// whose metadata its checksums did not cover is out of its range: the
// pixel normalisation, and the accuracies and losses a resumed run would
// report as its own.
func checkResumeValues(c *Checkpoint, check checkpoint.Check) (*Checkpoint, error) {
	if check == checkpoint.AllChecked {
		return c, nil
	}
	type value struct {
		what    string
		v       float64
		lo, hi  float64
		openLow bool
	}
	vs := []value{{"pixel_mean", float64(c.Mean), 0, 1, false}, {"pixel_std", float64(c.Std), 0, 1, true}}
	for _, r := range c.Records {
		p := fmt.Sprintf("record %s epoch %d: ", r.Model, r.Epoch)
		vs = append(vs, value{p + "train_acc", r.TrainAcc, 0, 1, false}, value{p + "val_acc", r.ValAcc, 0, 1, false},
			value{p + "train_loss", r.TrainLoss, 0, math.MaxFloat64, false},
			value{p + "val_loss", r.ValLoss, 0, math.MaxFloat64, false}, value{p + "lr", r.LR, 0, math.MaxFloat64, false})
	}
	for _, m := range Stages {
		r := c.Results[m]
		if r == nil {
			continue
		}
		vs = append(vs, value{m + " test_acc", r.TestAcc, 0, 1, false}, value{m + " val_acc", r.ValAcc, 0, 1, false},
			value{m + " test_loss", r.TestLoss, 0, math.MaxFloat64, false},
			value{m + " best_epoch", float64(r.BestEpoch), 0, float64(r.Epochs), false})
	}
	if s := c.Fit; s != nil && s.BestVal != -1 { // -1: no epoch finished yet
		vs = append(vs, value{"fit best_val", s.BestVal, 0, 1, false})
	}
	for _, v := range vs {
		if err := inRange(v.what, v.v, v.lo, v.hi, v.openLow); err != nil {
			return nil, fmt.Errorf("%w: %s: %v, so its values are checked: %w", ErrCheckpoint, c.Path, check, err)
		}
	}
	return c, nil
}
