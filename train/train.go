package train

import (
	"errors"
	"fmt"
	"math"
	"time"

	"fmnist/internal/kernels"
	"fmnist/nn"
	"fmnist/optim"
	"fmnist/tensor"
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
}

// Validate reports the first nonsensical value.
func (c Config) Validate() error {
	switch {
	case c.Epochs <= 0:
		return fmt.Errorf("train: epochs %d, want > 0", c.Epochs)
	case c.Batch <= 0:
		return fmt.Errorf("train: batch %d, want > 0", c.Batch)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("train: learning rate %v, want > 0", c.LR)
	case c.LabelSmoothing < 0 || c.LabelSmoothing >= 1:
		return fmt.Errorf("train: label smoothing %v, want in [0, 1)", c.LabelSmoothing)
	case c.WeightDecay < 0 || c.Momentum < 0 || c.Momentum >= 1:
		return fmt.Errorf("train: weight decay %v / momentum %v out of range", c.WeightDecay, c.Momentum)
	case c.Patience < 0:
		return fmt.Errorf("train: patience %d, want >= 0", c.Patience)
	}
	if c.Optimizer != "sgd" && c.Optimizer != "adamw" {
		return fmt.Errorf("train: unknown optimizer %q (want sgd or adamw)", c.Optimizer)
	}
	return nil
}

// Record is one epoch of one model: a row of metrics.csv.
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

// Progress is sent after every training step.
type Progress struct {
	Model       string
	Epoch       int
	Step, Steps int // within the epoch
	Images      int // seen so far in the epoch
	Elapsed     time.Duration
	RunningLoss float64
	RunningAcc  float64
}

// Hooks receive what happens. Any may be nil.
type Hooks struct {
	Epoch    func(Record)
	Progress func(Progress)
	// Stop is polled after every step; when it returns true the run ends
	// after that step with ErrInterrupted.
	Stop func() bool
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
var ErrDiverged = errors.New("train: loss diverged")

// ErrInterrupted is returned when Hooks.Stop asked to stop.
var ErrInterrupted = errors.New("train: interrupted")

// Fit trains m on tr, validates on va after every epoch, and leaves m with
// the weights of the best validation epoch.
func Fit(name string, m *nn.Model, tr, va Batches, cfg Config, seed uint64, h Hooks) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	steps := tr.Batches()
	total := cfg.Epochs * steps
	sched, err := optim.ParseSchedule(cfg.Schedule, cfg.LR, total, int(cfg.WarmupEpochs*float64(steps)))
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	var opt optim.Optimizer
	if cfg.Optimizer == "adamw" {
		opt = optim.NewAdam(0.9, 0.999, 1e-8, cfg.WeightDecay, true)
	} else {
		opt = optim.NewSGD(cfg.Momentum, cfg.WeightDecay, cfg.Nesterov)
	}
	params := m.Params()
	res := &Result{BestEpoch: -1, BestVal: -1}
	var best []nn.Named
	var dlogits *tensor.Tensor
	start := time.Now()
	step := 0
	for e := 0; e < cfg.Epochs; e++ {
		t0 := time.Now()
		tr.Epoch(e)
		var lossSum float64
		var hits, seen int
		lr := sched.LR(step)
		for k := 0; ; k++ {
			x, y, ok := tr.Next()
			if !ok {
				break
			}
			lr = sched.LR(step)
			logits := m.Forward(x, true)
			n, classes := logits.Shape[0], logits.Shape[1]
			dlogits = tensor.Ensure(dlogits, n, classes)
			loss, correct := kernels.SoftmaxCrossEntropy(dlogits.Data, logits.Data, y, n, classes, float32(cfg.LabelSmoothing))
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return res, fmt.Errorf("%w: %s epoch %d step %d: loss %v (learning rate %g is likely too high)",
					ErrDiverged, name, e+1, k+1, loss, lr)
			}
			m.Backward(dlogits)
			opt.Step(params, lr)
			step++
			lossSum += loss * float64(n)
			hits += correct
			seen += n
			if h.Progress != nil {
				h.Progress(Progress{Model: name, Epoch: e + 1, Step: k + 1, Steps: steps, Images: seen,
					Elapsed: time.Since(t0), RunningLoss: lossSum / float64(seen), RunningAcc: float64(hits) / float64(seen)})
			}
			if h.Stop != nil && h.Stop() {
				return res, ErrInterrupted
			}
		}
		trainSecs := time.Since(t0).Seconds()
		ev := Evaluate(Eval{m}, va, nil)
		rec := Record{Model: name, Epoch: e + 1, TrainLoss: lossSum / float64(max(seen, 1)),
			TrainAcc: float64(hits) / float64(max(seen, 1)), ValLoss: ev.Loss, ValAcc: ev.Acc, LR: lr,
			ImgPerS: float64(seen) / trainSecs, Seconds: time.Since(t0).Seconds()}
		res.Records = append(res.Records, rec)
		res.Epochs = e + 1
		if h.Epoch != nil {
			h.Epoch(rec)
		}
		if ev.Acc > res.BestVal {
			res.BestVal, res.BestEpoch = ev.Acc, e+1
			best = snapshot(best, m.StateDict())
		}
		if cfg.Patience > 0 && e+1-res.BestEpoch >= cfg.Patience {
			break
		}
	}
	res.Seconds = time.Since(start).Seconds()
	if best != nil {
		if err := m.LoadStateDict(best); err != nil {
			return res, fmt.Errorf("train: restoring best weights: %w", err)
		}
	}
	return res, nil
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

// Predictor maps a batch of inputs to logits (B, classes), in eval mode.
type Predictor interface {
	Predict(x *tensor.Tensor) *tensor.Tensor
}

// Eval adapts a model to Predictor: a forward pass in eval mode.
type Eval struct{ *nn.Model }

// Predict runs the model in eval mode.
func (e Eval) Predict(x *tensor.Tensor) *tensor.Tensor { return e.Forward(x, false) }

// Score is the outcome of Evaluate.
type Score struct {
	Loss float64
	Acc  float64
	N    int
}

// Evaluate runs m over one pass of src (epoch 0, which a
// non-shuffling source serves in order) and returns the mean loss and
// accuracy. When pred is non-nil it is called for each item with its label,
// predicted class and the softmax probability of that class.
func Evaluate(m Predictor, src Batches, pred func(i int, label, class uint8, prob float32)) Score {
	src.Epoch(0)
	var lossSum float64
	var hits, seen int
	for {
		x, y, ok := src.Next()
		if !ok {
			break
		}
		logits := m.Predict(x)
		n, classes := logits.Shape[0], logits.Shape[1]
		loss, correct := kernels.SoftmaxCrossEntropy(nil, logits.Data, y, n, classes, 0)
		lossSum += loss * float64(n)
		hits += correct
		if pred != nil {
			for i := 0; i < n; i++ {
				c, p := argmaxProb(logits.Data[i*classes : (i+1)*classes])
				pred(seen+i, y[i], uint8(c), p)
			}
		}
		seen += n
	}
	if seen == 0 {
		return Score{}
	}
	return Score{Loss: lossSum / float64(seen), Acc: float64(hits) / float64(seen), N: seen}
}

// argmaxProb returns the first maximal index of a row of logits and its
// softmax probability.
func argmaxProb(row []float32) (int, float32) {
	arg := 0
	for j, v := range row {
		if v > row[arg] {
			arg = j
		}
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v - row[arg]))
	}
	return arg, float32(1 / s)
}
