package pipeline

import (
	"fmt"
	"math"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/model"
)

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
		if err := model.InRange(v.what, v.v, v.lo, v.hi, v.openLow); err != nil {
			return nil, fmt.Errorf("%w: %s: %v, so its values are checked: %w", fit.ErrCheckpoint, c.Path, check, err)
		}
	}
	return c, nil
}
