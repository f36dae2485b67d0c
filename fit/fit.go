package fit

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/fmnist/fmnist/internal/kernels"
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/optim"
	"github.com/fmnist/fmnist/tensor"
)

// Batches is a source of labelled batches; dataset.Loader and FeatureLoader
// are two. Epoch(e) starts epoch e with an order derived from the seed and e.
type Batches interface {
	Epoch(e int)
	Batches() int
	Next() (x *tensor.Tensor, y []uint8, ok bool)
}

// Config holds the hyperparameters of one training run.
type Config struct {
	Epochs         int     `json:"epochs"`
	Batch          int     `json:"batch"`
	Optimizer      string  `json:"optimizer"` // "sgd" or "adamw"
	LR             float64 `json:"lr"`
	Schedule       string  `json:"schedule"` // "constant", "step", "cosine" or "onecycle"
	WarmupEpochs   float64 `json:"warmup_epochs"`
	Momentum       float64 `json:"momentum"`
	Nesterov       bool    `json:"nesterov"`
	WeightDecay    float64 `json:"weight_decay"`
	LabelSmoothing float64 `json:"label_smoothing"`
	Patience       int     `json:"patience"` // stop after this many epochs without a better val acc; 0 = never
	// EMA, when above 0, is the decay of an exponential moving average of
	// the weights, updated every EMAEvery steps (0 means every step); the
	// average, not the last weights, is validated and kept.
	EMA      float64 `json:"ema"`
	EMAEvery int     `json:"ema_every"`
}

// Limits that keep a typo from asking for more memory or steps than any
// machine has: past them a config is refused rather than crashing later.
const (
	MaxEpochs = 100_000
	MaxBatch  = 65_536
)

// Validate reports the first nonsensical value. Comparisons are written so
// that NaN fails them.
func (c Config) Validate() error {
	switch {
	case c.Epochs <= 0 || c.Epochs > MaxEpochs:
		return fmt.Errorf("fit: epochs %d, want 1 to %d", c.Epochs, MaxEpochs)
	case c.Batch <= 0 || c.Batch > MaxBatch:
		return fmt.Errorf("fit: batch %d, want 1 to %d", c.Batch, MaxBatch)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("fit: learning rate %v, want > 0", c.LR)
	case !(c.LabelSmoothing >= 0 && c.LabelSmoothing < 1):
		return fmt.Errorf("fit: label smoothing %v, want in [0, 1)", c.LabelSmoothing)
	case !(c.WeightDecay >= 0 && c.WeightDecay <= 1):
		// Past 1 a step can shrink the weights more than they are.
		return fmt.Errorf("fit: weight decay %v, want 0 to 1", c.WeightDecay)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return fmt.Errorf("fit: momentum %v, want in [0, 1)", c.Momentum)
	case !(c.WarmupEpochs >= 0 && c.WarmupEpochs <= float64(c.Epochs)):
		return fmt.Errorf("fit: warmup epochs %v, want 0 to %d (the epochs)", c.WarmupEpochs, c.Epochs)
	case c.Patience < 0:
		return fmt.Errorf("fit: patience %d, want >= 0", c.Patience)
	case !(c.EMA >= 0 && c.EMA < 1):
		return fmt.Errorf("fit: ema %v, want in [0, 1)", c.EMA)
	case c.EMAEvery < 0 || c.EMAEvery > 1_000_000:
		return fmt.Errorf("fit: ema_every %d, want 0 to 1000000", c.EMAEvery)
	}
	if c.Optimizer != "sgd" && c.Optimizer != "adamw" {
		return fmt.Errorf("fit: unknown optimizer %q (want sgd or adamw)", c.Optimizer)
	}
	if _, err := optim.ParseSchedule(c.Schedule, c.LR, 1, 0); err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	return nil
}

// Record is one epoch of one model: a row of metrics.csv, and of timing.csv
// for ImgPerS and Seconds, which vary from run to run.
type Record struct {
	Model     string  `json:"model"`
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_acc"`
	ValLoss   float64 `json:"val_loss"`
	ValAcc    float64 `json:"val_acc"`
	LR        float64 `json:"lr"`
	ImgPerS   float64 `json:"img_per_s"`
	Seconds   float64 `json:"seconds"`
}

// Progress is sent after every training step, and with a Phase before
// work that sends no steps, so that a display need not sit still.
type Progress struct {
	Model       string
	Epoch       int
	Epochs      int // to run in all, unless stopped early
	Step, Steps int // within the epoch
	Images      int // seen so far in the epoch
	Elapsed     time.Duration
	RunningLoss float64
	RunningAcc  float64
	// Phase is "" for a training step, else what starts: PhaseValidate
	// (after the last step of Epoch), or from a Pipeline PhaseFeatures or
	// PhaseTest.
	Phase string
	// Stage is the 1-based place of Model among a Pipeline's Stages;
	// 0 outside a Pipeline.
	Stage, Stages int
}

// The phases of a Progress that is not a training step.
const (
	PhaseValidate = "validate"
	PhaseFeatures = "features"
	PhaseTest     = "test"
)

// Hooks receive what happens. Any may be nil.
type Hooks struct {
	Epoch    func(Record)
	Progress func(Progress)
	// Stop is polled after every step; when it returns true the run ends
	// after that step with an *InterruptedError.
	Stop func() bool
	// Checkpoint receives the complete state of the run at the end of
	// every epoch and, when Stop ends it, after the last step. The state
	// shares storage with the run and is valid only during the call. An
	// error from it ends Fit with that error.
	Checkpoint func(*State) error
}

// Result summarises a finished run. The model holds the best weights.
type Result struct {
	BestEpoch int
	BestVal   float64
	Epochs    int // epochs actually run
	Records   []Record
	Seconds   float64
}

// ErrDiverged is returned when the loss becomes NaN or infinite.
var ErrDiverged = errors.New("fit: loss diverged")

// ErrInterrupted is matched (errors.Is) by the *InterruptedError returned
// when Hooks.Stop asked to stop.
var ErrInterrupted = errors.New("fit: interrupted")

// InterruptedError says where a run stopped and, when one was written,
// which checkpoint holds it.
type InterruptedError struct {
	Model       string
	Epoch       int // 1-based
	Step, Steps int // steps of Epoch done, of Steps
	Checkpoint  string
}

// Error says where the run stopped.
func (e *InterruptedError) Error() string {
	s := fmt.Sprintf("fit: interrupted in %s epoch %d after step %d of %d", e.Model, e.Epoch, e.Step, e.Steps)
	if e.Steps == 0 {
		s = fmt.Sprintf("fit: interrupted before %s", e.Model)
	}
	if e.Checkpoint != "" {
		s += "; checkpoint " + e.Checkpoint
	}
	return s
}

// Is makes errors.Is(err, ErrInterrupted) true.
func (e *InterruptedError) Is(target error) bool { return target == ErrInterrupted }

// Fit trains m on tr, validates on va after every epoch, and leaves m with
// the weights of the best validation epoch.
//
// Fit takes no seed: it draws nothing itself. Its randomness is the
// batches' (order and augmentation, seeded in their loader) and the
// model's dropout streams (seeded by nn.Build with the weights), so that
// a checkpoint that holds the position in tr and the model's RNG state
// resumes the same run.
func Fit(name string, m *nn.Model, tr, va Batches, cfg Config, h Hooks) (*Result, error) {
	return FitFrom(name, m, tr, va, cfg, h, nil)
}

// FitFrom is Fit continued from a state that Hooks.Checkpoint received:
// with the same model spec, data and config it ends bit for bit where the
// uninterrupted Fit ends. A nil from starts afresh.
func FitFrom(name string, m *nn.Model, tr, va Batches, cfg Config, h Hooks, from *State) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	steps := tr.Batches()
	if steps == 0 {
		return nil, fmt.Errorf("fit: %s: no training data", name)
	}
	total := cfg.Epochs * steps
	sched, err := optim.ParseSchedule(cfg.Schedule, cfg.LR, total, int(cfg.WarmupEpochs*float64(steps)))
	if err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	f := &fitter{name: name, m: m, tr: tr, va: va, cfg: cfg, h: h, sched: sched, steps: steps,
		params: m.Params(), res: &Result{BestEpoch: -1, BestVal: -1}}
	if cfg.Optimizer == "adamw" {
		f.opt = optim.NewAdam(0.9, 0.999, 1e-8, cfg.WeightDecay, true)
	} else {
		f.opt = optim.NewSGD(cfg.Momentum, cfg.WeightDecay, cfg.Nesterov)
	}
	f.opt.Init(f.params)
	if from != nil {
		if err := f.restore(from); err != nil {
			return nil, err
		}
	}
	if cfg.EMA > 0 {
		f.ema = nn.NewEMA(m)
		if from != nil && from.Step > 0 {
			if from.EMA == nil {
				return nil, fmt.Errorf("%w: %s: no weight average, the config has ema %v", ErrCheckpoint, name, cfg.EMA)
			}
			if err := f.ema.LoadStateDict(from.EMA); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrCheckpoint, name, err)
			}
		}
	}
	return f.run()
}

// fitter is the state of one Fit: everything a checkpoint holds.
type fitter struct {
	name   string
	m      *nn.Model
	tr, va Batches
	cfg    Config
	h      Hooks
	sched  optim.Schedule
	opt    optim.Optimizer
	params []*nn.Param
	steps  int // per epoch

	epoch, batch, step int     // epochs done, batches of this epoch done, steps done
	lossSum            float64 // of this epoch so far
	hits, seen         int
	prevEpochSecs      float64 // this epoch's training time before a resume
	prevSecs           float64 // the whole fit's time before a resume
	res                *Result
	best               []nn.Named
	dlogits            *tensor.Tensor
	ema                *nn.EMA // nil unless cfg.EMA > 0
}

func (f *fitter) run() (*Result, error) {
	start := time.Now()
	cfg, h := f.cfg, f.h
	for f.epoch < cfg.Epochs {
		if cfg.Patience > 0 && f.epoch > 0 && f.epoch-f.res.BestEpoch >= cfg.Patience {
			break
		}
		t0 := time.Now()
		f.tr.Epoch(f.epoch)
		if f.batch > 0 {
			seek(f.tr, f.batch)
		}
		for {
			x, y, ok := f.tr.Next()
			if !ok {
				break
			}
			if err := f.trainStep(x, y); err != nil {
				return f.res, err
			}
			if h.Progress != nil {
				h.Progress(Progress{Model: f.name, Epoch: f.epoch + 1, Epochs: cfg.Epochs, Step: f.batch, Steps: f.steps, Images: f.seen,
					Elapsed:     time.Duration(f.prevEpochSecs*float64(time.Second)) + time.Since(t0),
					RunningLoss: f.lossSum / float64(f.seen), RunningAcc: float64(f.hits) / float64(f.seen)})
			}
			if h.Stop != nil && h.Stop() {
				ie := &InterruptedError{Model: f.name, Epoch: f.epoch + 1, Step: f.batch, Steps: f.steps}
				if h.Checkpoint != nil {
					if err := h.Checkpoint(f.state(t0, start, true)); err != nil {
						return f.res, fmt.Errorf("fit: interrupted, and saving the checkpoint failed: %w", err)
					}
				}
				return f.res, ie
			}
		}
		trainSecs := f.prevEpochSecs + time.Since(t0).Seconds()
		if h.Progress != nil {
			h.Progress(Progress{Model: f.name, Epoch: f.epoch + 1, Epochs: cfg.Epochs, Step: f.batch, Steps: f.steps,
				Images: f.seen, Elapsed: time.Duration(trainSecs * float64(time.Second)), Phase: PhaseValidate})
		}
		if f.ema != nil {
			f.ema.Swap() // validate, and keep if best, the average
		}
		ev := Evaluate(nn.Eval{Model: f.m}, f.va, nil)
		rec := Record{Model: f.name, Epoch: f.epoch + 1, TrainLoss: f.lossSum / float64(max(f.seen, 1)),
			TrainAcc: float64(f.hits) / float64(max(f.seen, 1)), ValLoss: ev.Loss, ValAcc: ev.Acc,
			LR: f.sched.LR(f.step - 1), ImgPerS: float64(f.seen) / trainSecs,
			Seconds: f.prevEpochSecs + time.Since(t0).Seconds()}
		f.res.Records = append(f.res.Records, rec)
		f.epoch++
		f.res.Epochs = f.epoch
		if h.Epoch != nil {
			h.Epoch(rec)
		}
		if ev.Acc > f.res.BestVal {
			f.res.BestVal, f.res.BestEpoch = ev.Acc, f.epoch
			f.best = snapshot(f.best, f.m.StateDict())
		}
		if f.ema != nil {
			f.ema.Swap()
		}
		f.batch, f.lossSum, f.hits, f.seen, f.prevEpochSecs = 0, 0, 0, 0, 0
		if h.Checkpoint != nil {
			if err := h.Checkpoint(f.state(time.Now(), start, false)); err != nil {
				return f.res, err
			}
		}
	}
	f.res.Seconds = f.prevSecs + time.Since(start).Seconds()
	if f.best != nil {
		if err := f.m.LoadStateDict(f.best); err != nil {
			return f.res, fmt.Errorf("fit: restoring best weights: %w", err)
		}
	}
	return f.res, nil
}

// trainStep does one optimiser step on a batch. In steady state it
// allocates nothing.
func (f *fitter) trainStep(x *tensor.Tensor, y []uint8) error {
	lr := f.sched.LR(f.step)
	logits := f.m.Forward(x, true)
	n, classes := logits.Shape[0], logits.Shape[1]
	f.dlogits = tensor.Ensure(f.dlogits, n, classes)
	loss, correct := kernels.SoftmaxCrossEntropy(f.dlogits.Data, logits.Data, y, n, classes, float32(f.cfg.LabelSmoothing))
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return fmt.Errorf("%w: %s epoch %d step %d: loss %v (the learning rate, %g at this step, is likely too high)",
			ErrDiverged, f.name, f.epoch+1, f.batch+1, loss, lr)
	}
	f.m.Backward(f.dlogits)
	f.opt.Step(f.params, lr)
	f.step++
	if f.ema != nil {
		every := max(f.cfg.EMAEvery, 1)
		if f.step%every == 0 {
			// A short warm-up of the decay, so that the average is not
			// held back by the random initial weights.
			u := float64(f.step / every)
			f.ema.Update(float32(min(f.cfg.EMA, (1+u)/(10+u))))
		}
	}
	f.batch++
	f.lossSum += loss * float64(n)
	f.hits += correct
	f.seen += n
	return nil
}

// seek makes batch k of the current epoch the next one: by Seek when the
// source has it, else by reading k batches.
func seek(b Batches, k int) {
	if s, ok := b.(interface{ Seek(int) }); ok {
		s.Seek(k)
		return
	}
	for range k {
		if _, _, ok := b.Next(); !ok {
			return
		}
	}
}

// snapshot deep-copies a state dict into dst's storage when it fits.
func snapshot(dst []nn.Named, src []nn.Named) []nn.Named {
	if len(dst) != len(src) {
		dst = make([]nn.Named, len(src))
	}
	for i, t := range src {
		d := dst[i].Data
		if len(d) != len(t.Data) {
			d = make([]float32, len(t.Data))
		}
		copy(d, t.Data)
		dst[i] = nn.Named{Name: t.Name, Shape: append([]int(nil), t.Shape...), Data: d}
	}
	return dst
}
