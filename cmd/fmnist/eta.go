package main

import (
	"slices"
	"time"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/pipeline"
)

// The run's ETA. The stages differ too much for one speed: the MLP's steps
// are a few large products, the CNN's many convolutions. So each stage's
// work is counted in multiply-adds (MACs) of forward passes, by the kind
// of model doing them, and a kind's seconds per MAC is measured from its
// training steps. A stage whose kind has not run yet borrows the other
// kind's speed through cnnPerMLP, and its ETA is marked as a guess.

// cnnPerMLP is a CNN's seconds per MAC over an MLP's: the convolutions
// (Winograd, large tiles) do a MAC in about a quarter of the time of the
// MLP's thinner products. Measured in `fmnist run --seed 3` (default
// preset) on a 2-core Zen 5: MLP 784-1024-512 at ~10500 img/s (2.4e-11 s
// a MAC), CNN at 1114 img/s (6.1e-12); the long preset's 3×1024 MLP gave
// the same 2.3e-11.
const cnnPerMLP = 0.26

// work is a number of MACs, by the kind of model that does them.
type work struct{ mlp, cnn float64 }

func (w work) plus(v work) work     { return work{w.mlp + v.mlp, w.cnn + v.cnn} }
func (w work) times(k float64) work { return work{w.mlp * k, w.cnn * k} }
func (w work) total() float64       { return w.mlp + w.cnn }
func (w work) isCNN() bool          { return w.cnn > w.mlp }
func (w work) zero() bool           { return w.mlp == 0 && w.cnn == 0 }

// stagePlan is the work of one stage.
type stagePlan struct {
	name          string
	epochs, steps int
	images        int  // per epoch
	image         work // one training image, forward and backward
	val           work // one validation pass
	before, after work // feature extraction, the test set
}

// forwardMACs is the multiply-adds of one image through s: 3×3 same
// convolutions on 28×28 inputs, and the linear layers.
func forwardMACs(s nn.Spec) float64 {
	s, err := s.Normalize()
	if err != nil {
		return 0
	}
	var m float64
	switch s.Kind {
	case "mlp":
		in := s.In
		for _, h := range append(s.Hidden, s.Classes) {
			m += float64(in * h)
			in = h
		}
	case "cnn":
		side, c := 28, s.In
		for k, w := range s.Widths {
			m += float64(9 * c * w * side * side)
			if slices.Contains(s.PoolAfter, k) {
				side /= 2
			}
			c = w
		}
		m += float64(c * s.Classes)
	}
	return m
}

// planStages is the work of each of stages for a config and split sizes.
// The backward pass is counted as twice the forward.
func planStages(cfg pipeline.RunConfig, stages []string, nTrain, nVal, nTest int) []stagePlan {
	var out []stagePlan
	cnn := forwardMACs(cfg.CNN.Spec)
	for _, name := range stages {
		var st pipeline.Stage
		sp := stagePlan{name: name}
		switch name {
		case "mlp":
			st = cfg.MLP
			f := forwardMACs(st.Spec)
			sp.image, sp.val, sp.after = work{mlp: 3 * f}, work{mlp: f * float64(nVal)}, work{mlp: f * float64(nTest)}
		case "cnn":
			st = cfg.CNN
			sp.image, sp.val, sp.after = work{cnn: 3 * cnn}, work{cnn: cnn * float64(nVal)}, work{cnn: cnn * float64(nTest)}
		case "cnn_mlp":
			st = cfg.CNNMLP
			hs := st.Spec
			if n := len(cfg.CNN.Spec.Widths); n > 0 {
				hs.In = cfg.CNN.Spec.Widths[n-1]
			} else if norm, err := cfg.CNN.Spec.Normalize(); err == nil {
				hs.In = norm.Widths[len(norm.Widths)-1]
			}
			f := forwardMACs(hs)
			sp.before = work{cnn: cnn * float64(nTrain+nVal)}
			sp.image = work{mlp: 3 * f}
			if st.Augment != (dataset.Augment{}) {
				sp.image.cnn = cnn // new features of every augmented image
			}
			sp.val, sp.after = work{mlp: f * float64(nVal)}, work{mlp: f * float64(nTest), cnn: cnn * float64(nTest)}
		default:
			continue
		}
		sp.epochs, sp.images = st.Train.Epochs, nTrain
		if b := st.Train.Batch; b > 0 {
			sp.steps = (nTrain + b - 1) / b // the last batch may be short
		}
		out = append(out, sp)
	}
	return out
}

// runETA estimates the time left of a run from its plan and the speeds
// measured so far.
type runETA struct {
	stages []stagePlan
	secs   work // seconds per MAC of each kind; 0 until measured
}

func (e *runETA) plan(model string) *stagePlan {
	if e == nil {
		return nil
	}
	for i := range e.stages {
		if e.stages[i].name == model {
			return &e.stages[i]
		}
	}
	return nil
}

func (e *runETA) epochs(model string) int {
	if sp := e.plan(model); sp != nil {
		return sp.epochs
	}
	return 0
}

// observe measures the speed of p's kind of model from a training step.
func (e *runETA) observe(p fit.Progress) {
	sp := e.plan(p.Model)
	if sp == nil || p.Phase != "" || p.Images == 0 || p.Elapsed <= 0 || sp.image.zero() {
		return
	}
	// Not from the first steps of an epoch, which warm the caches.
	if p.Step < 3 && p.Step < p.Steps {
		return
	}
	rate := p.Elapsed.Seconds() / (float64(p.Images) * sp.image.total())
	if sp.image.isCNN() {
		e.secs.cnn = rate
	} else {
		e.secs.mlp = rate
	}
}

// seconds is the time w takes at the measured speeds, and whether a speed
// was borrowed; ok is false before any speed is known.
func (e *runETA) seconds(w work) (s float64, guess, ok bool) {
	mlp, cnn := e.secs.mlp, e.secs.cnn
	if mlp == 0 && cnn == 0 {
		return 0, false, false
	}
	if mlp == 0 {
		mlp, guess = cnn/cnnPerMLP, w.mlp > 0
	}
	if cnn == 0 {
		cnn, guess = mlp*cnnPerMLP, w.cnn > 0
	}
	return w.mlp*mlp + w.cnn*cnn, guess, true
}

// left is the time left of the run at p.
func (e *runETA) left(p fit.Progress) (left time.Duration, guess, ok bool) {
	if e == nil {
		return 0, false, false
	}
	i := slices.IndexFunc(e.stages, func(s stagePlan) bool { return s.name == p.Model })
	if i < 0 {
		return 0, false, false
	}
	sp := e.stages[i]
	var w work
	epochsLeft := sp.epochs - p.Epoch // whole epochs after this one
	switch p.Phase {
	case "":
		thisEpoch := 1 - float64(p.Step)/float64(max(p.Steps, 1))
		w = sp.image.times((float64(epochsLeft) + thisEpoch) * float64(sp.images)).
			plus(sp.val.times(float64(epochsLeft + 1))).plus(sp.after)
	case fit.PhaseValidate:
		w = sp.image.times(float64(epochsLeft * sp.images)).plus(sp.val.times(float64(epochsLeft + 1))).plus(sp.after)
	case fit.PhaseFeatures:
		w = whole(sp)
	case fit.PhaseTest:
		w = sp.after
	}
	for _, later := range e.stages[i+1:] {
		w = w.plus(whole(later))
	}
	s, guess, ok := e.seconds(w)
	return time.Duration(s * float64(time.Second)), guess, ok
}

// afterEpoch is the time left once epoch r of its model is done: that of
// the next epoch before its first step.
func (e *runETA) afterEpoch(r fit.Record) (time.Duration, bool, bool) {
	sp := e.plan(r.Model)
	if sp == nil {
		return 0, false, false
	}
	return e.left(fit.Progress{Model: r.Model, Epoch: r.Epoch + 1, Steps: sp.steps})
}

// whole is all the work of a stage.
func whole(sp stagePlan) work {
	return sp.before.plus(sp.image.times(float64(sp.epochs * sp.images))).
		plus(sp.val.times(float64(sp.epochs))).plus(sp.after)
}
