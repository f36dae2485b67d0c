package pipeline

import (
	"errors"
	"fmt"
	"slices"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/model"
)

// TrainToAccuracy trains stage name (mlp or cnn) of cfg on s as a run
// does: the same model, batches and schedule, so the same bits epoch by
// epoch as `fmnist run` with that config. It writes no files and never
// touches the test set. It stops at the end of the first epoch whose
// validation accuracy reaches stopAt (0: never), or when the recipe ends,
// or when h.Stop says so, and returns the epoch records so far.
//
// It is the measurement of time to accuracy: the records' Seconds are the
// wall time of each epoch, validation included.
func TrainToAccuracy(s *Splits, cfg RunConfig, name string, stopAt float64, h fit.Hooks) ([]fit.Record, error) {
	if name != model.KindMLP && name != model.KindCNN {
		return nil, fmt.Errorf("pipeline: time to accuracy of %q: want mlp or cnn (they train on images)", name)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.CheckMemory(); err != nil {
		return nil, err
	}
	p := &Pipeline{Config: cfg, Data: s}
	p.valL = s.loader(s.Val, model.EvalBatch, false, 0, dataset.Augment{})
	def := stageTable[name]
	st := def.recipe(&p.Config)
	t, err := def.prepare(p, st, cfg.Seed+uint64(slices.Index(model.Names, name)+1))
	if err != nil {
		return nil, err
	}
	var recs []fit.Record
	reached := false
	epoch := h.Epoch
	h.Epoch = func(r fit.Record) {
		recs = append(recs, r)
		reached = reached || (stopAt > 0 && r.ValAcc >= stopAt)
		if epoch != nil {
			epoch(r)
		}
	}
	stop := h.Stop
	h.Stop = func() bool { return reached || (stop != nil && stop()) }
	h.Checkpoint = nil
	_, err = fit.Fit(name, t.m, t.tr, t.va, st.Train, h)
	if reached && errors.Is(err, fit.ErrInterrupted) {
		err = nil
	}
	return recs, err
}
