package fit

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/optim"
	"github.com/fmnist/fmnist/tensor"
)

// State is everything an unfinished Fit needs to go on as if it had not
// stopped: the position in the data, the running sums of the epoch in
// progress, the weights, the optimiser's slots, the dropout streams and the
// best weights so far. The learning rate needs only Step (schedules are
// pure functions of it) and the batches only (Epoch, Batch) (loaders are
// pure functions of the seed and the position).
type State struct {
	Epoch   int     // epochs done; the one in progress is Epoch+1
	Batch   int     // batches of the epoch in progress done
	Step    int     // optimiser steps done, Epoch·batches + Batch
	LossSum float64 // sum of loss·n over the epoch's batches so far
	Hits    int
	Seen    int

	EpochSeconds float64 // training time of the epoch in progress so far
	Seconds      float64 // time of the whole Fit so far

	BestEpoch int     // 1-based; -1 before the first epoch ends
	BestVal   float64 // -1 before the first epoch ends
	Records   []Record

	Weights []nn.Named   // the model's state dict
	Best    []nn.Named   // the best weights, nil before the first epoch ends
	Optim   []optim.Slot // the optimiser's state
	RNG     []byte       // the model's random streams (nn.Model.RNGState)
	EMA     []nn.Named   // the weight average, nil when the config has none

	// Final is true when Fit is stopping after this checkpoint; it is not
	// saved.
	Final bool
}

// ErrCheckpoint is wrapped by the errors about a checkpoint that does not
// fit the run it is meant to resume.
var ErrCheckpoint = errors.New("fit: checkpoint does not match")

// state captures f. Weights, optimiser slots and RNG are copies; Records and
// Best share storage with f, which is fine for the synchronous hook.
func (f *fitter) state(epochStart, fitStart time.Time, final bool) *State {
	s := &State{Epoch: f.epoch, Batch: f.batch, Step: f.step, LossSum: f.lossSum, Hits: f.hits, Seen: f.seen,
		Seconds:   f.prevSecs + time.Since(fitStart).Seconds(),
		BestEpoch: f.res.BestEpoch, BestVal: f.res.BestVal, Records: f.res.Records,
		Weights: f.m.StateDict(), Best: f.best, Optim: f.opt.State(), RNG: f.m.RNGState(), Final: final}
	if f.ema != nil {
		s.EMA = f.ema.StateDict()
	}
	if f.batch > 0 {
		s.EpochSeconds = f.prevEpochSecs + time.Since(epochStart).Seconds()
	}
	return s
}

// restore loads s into f after checking that it belongs to this run: the
// same number of batches per epoch, this model's records, weights of this
// model's shapes.
func (f *fitter) restore(s *State) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrCheckpoint, f.name, fmt.Sprintf(format, args...))
	}
	switch {
	case s.Epoch < 0 || s.Epoch > f.cfg.Epochs:
		return bad("epoch %d, the config has %d", s.Epoch, f.cfg.Epochs)
	case s.Batch < 0 || s.Batch > f.steps:
		return bad("batch %d, an epoch has %d", s.Batch, f.steps)
	case s.Step != s.Epoch*f.steps+s.Batch:
		return bad("step %d is not epoch %d × %d batches + %d: the data or batch size differ", s.Step, s.Epoch, f.steps, s.Batch)
	case s.Epoch == f.cfg.Epochs && s.Batch != 0:
		return bad("batch %d after the last epoch", s.Batch)
	case len(s.Records) != s.Epoch:
		return bad("%d epoch records for %d epochs", len(s.Records), s.Epoch)
	case s.Seen < 0 || s.Hits < 0 || s.Hits > s.Seen || (s.Batch == 0) != (s.Seen == 0):
		return bad("%d hits of %d seen after %d batches", s.Hits, s.Seen, s.Batch)
	case s.Epoch == 0 && (s.BestEpoch != -1 || s.Best != nil):
		return bad("best epoch %d before any epoch ended", s.BestEpoch)
	case s.Epoch > 0 && (s.BestEpoch < 1 || s.BestEpoch > s.Epoch || s.Best == nil):
		return bad("best epoch %d of %d (best weights present: %v)", s.BestEpoch, s.Epoch, s.Best != nil)
	}
	for i, r := range s.Records {
		if r.Model != f.name || r.Epoch != i+1 {
			return bad("record %d is %s epoch %d", i, r.Model, r.Epoch)
		}
	}
	if s.Best != nil {
		if err := sameLayout(f.m.StateDict(), s.Best); err != nil {
			return bad("best weights: %v", err)
		}
	}
	if err := f.m.LoadStateDict(s.Weights); err != nil {
		return bad("%v", err)
	}
	if err := f.m.SetRNGState(s.RNG); err != nil {
		return bad("%v", err)
	}
	if err := f.opt.SetState(s.Optim); err != nil {
		return bad("%v", err)
	}
	f.epoch, f.batch, f.step = s.Epoch, s.Batch, s.Step
	f.lossSum, f.hits, f.seen = s.LossSum, s.Hits, s.Seen
	f.prevEpochSecs, f.prevSecs = s.EpochSeconds, s.Seconds
	f.res.BestEpoch, f.res.BestVal, f.res.Epochs = s.BestEpoch, s.BestVal, s.Epoch
	f.res.Records = slices.Clone(s.Records)
	if s.Best != nil {
		f.best = snapshot(nil, s.Best)
	}
	return nil
}

// sameLayout checks that got has want's names and shapes, in order.
func sameLayout(want, got []nn.Named) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d tensors, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Name != want[i].Name || !tensor.SameShape(got[i].Shape, want[i].Shape) ||
			len(got[i].Data) != len(want[i].Data) {
			return fmt.Errorf("tensor %d is %q %v, want %q %v", i, got[i].Name, got[i].Shape, want[i].Name, want[i].Shape)
		}
	}
	return nil
}
