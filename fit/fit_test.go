package fit

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/internal/alloctest"
	"github.com/fmnist/fmnist/nn"
)

// fitCase is one model and recipe to fit on synthSplits.
type fitCase struct {
	name string
	spec nn.Spec
	cfg  Config
	aug  dataset.Augment
}

var fitCases = []fitCase{
	{"mlp sgd nesterov dropout", nn.Spec{Kind: "mlp", Hidden: []int{24, 16}, Dropout: 0.25},
		Config{Epochs: 3, Batch: 50, Optimizer: "sgd", LR: 0.05, Schedule: "onecycle", Momentum: 0.9, Nesterov: true,
			WeightDecay: 5e-4, LabelSmoothing: 0.1, EMA: 0.9, EMAEvery: 2}, dataset.Augment{Pad: 2, Erase: 0.5}},
	{"mlp adamw batch norm", nn.Spec{Kind: "mlp", Hidden: []int{16}, BatchNorm: true, Dropout: 0.1},
		Config{Epochs: 2, Batch: 64, Optimizer: "adamw", LR: 0.003, Schedule: "cosine", WarmupEpochs: 1,
			WeightDecay: 0.01}, dataset.Augment{Flip: true}},
	{"cnn batch norm dropout", nn.Spec{Kind: "cnn", Widths: []int{4, 6}, PoolAfter: []int{0, 1}, BatchNorm: true, Dropout: 0.2},
		Config{Epochs: 2, Batch: 100, Optimizer: "sgd", LR: 0.02, Schedule: "step", Momentum: 0.9, Patience: 5, EMA: 0.95},
		dataset.Augment{Pad: 1, Flip: true}},
}

// fitRun fits a fresh model (weights from seed) with hooks h, from a state
// or not.
func fitRun(t *testing.T, d *synthData, fc fitCase, seed uint64, h Hooks, from *State) (*nn.Model, *Result, error) {
	t.Helper()
	m := nn.MustBuild(fc.spec, seed)
	tr := d.loader(d.Train, fc.cfg.Batch, true, 11, fc.aug)
	va := d.loader(d.Val, 100, false, 0, dataset.Augment{})
	r, err := FitFrom("mlp", m, tr, va, fc.cfg, h, from)
	return m, r, err
}

// A Fit stopped after any step and continued from its checkpoint ends with the same weights and records, bit for bit, as
// one never stopped. The continued model starts from other weights, so
// everything must come from the checkpoint.
func TestFitResumeBitIdentical(t *testing.T) {
	full := newSynth(640)
	for _, fc := range fitCases {
		t.Run(fc.name, func(t *testing.T) {
			d := full
			if (testing.Short() || raceEnabled) && fc.spec.Kind == "cnn" {
				d = newSynth(200) // the cnn is slow under the race detector: every stop, fewer images
			}
			want, wantRes, err := fitRun(t, d, fc, 1, Hooks{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			steps := (d.Train.Len() + fc.cfg.Batch - 1) / fc.cfg.Batch
			total := steps * fc.cfg.Epochs
			stops := []int{1, steps / 2, steps, steps + 1, total - 1, total}
			if testing.Short() {
				stops = []int{steps + steps/2} // mid-epoch, with best weights and records
			}
			for _, k := range stops {
				n := 0
				var saved *State
				h := Hooks{
					Stop:       func() bool { n++; return n == k },
					Checkpoint: func(s *State) error { saved = s; return nil },
				}
				_, _, err := fitRun(t, d, fc, 1, h, nil)
				var ie *InterruptedError
				if !errors.As(err, &ie) || !errors.Is(err, ErrInterrupted) {
					t.Fatalf("stop at %d: err %v, want an InterruptedError", k, err)
				}
				if ie.Epoch != (k-1)/steps+1 || ie.Step != (k-1)%steps+1 || ie.Steps != steps || !saved.Final {
					t.Errorf("stop at %d: %+v, final %v", k, ie, saved.Final)
				}
				// A deep copy: the state shares storage with the stopped fit.
				// pipeline's tests pass it through a checkpoint file.
				back := *saved
				back.Weights, back.Best = cloneState(saved.Weights), cloneState(saved.Best)
				back.Records = append([]Record(nil), saved.Records...)
				got, gotRes, err := fitRun(t, d, fc, 99, Hooks{}, &back)
				if err != nil {
					t.Fatalf("resume after %d: %v", k, err)
				}
				sameBits(t, fmt.Sprintf("weights after a stop at step %d", k), want.StateDict(), got.StateDict())
				if !reflect.DeepEqual(noTiming(wantRes.Records), noTiming(gotRes.Records)) ||
					wantRes.BestEpoch != gotRes.BestEpoch || wantRes.BestVal != gotRes.BestVal || wantRes.Epochs != gotRes.Epochs {
					t.Errorf("stop at %d: result %+v\nwant %+v", k, gotRes, wantRes)
				}
			}
		})
	}
}

// The weight average is what Fit validates and keeps: with a decay of
// (nearly) zero the average is the last weights, and the fit is bit for bit
// the one without an average; with a real decay it is another model.
func TestFitEMA(t *testing.T) {
	d := newSynth(640)
	fc := fitCases[0]
	fc.cfg.EMA, fc.cfg.EMAEvery = 0, 0
	plain, plainRes, err := fitRun(t, d, fc, 1, Hooks{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fc.cfg.EMA = 1e-30
	same, sameRes, err := fitRun(t, d, fc, 1, Hooks{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "weights with a zero-decay average", plain.StateDict(), same.StateDict())
	if !reflect.DeepEqual(noTiming(plainRes.Records), noTiming(sameRes.Records)) {
		t.Errorf("records with a zero-decay average:\n%+v\nwant %+v", sameRes.Records, plainRes.Records)
	}
	fc.cfg.EMA = 0.9
	avg, avgRes, err := fitRun(t, d, fc, 1, Hooks{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(noTiming(plainRes.Records), noTiming(avgRes.Records)) {
		t.Error("validation records with an average of decay 0.9 equal those without one")
	}
	if reflect.DeepEqual(plain.StateDict(), avg.StateDict()) {
		t.Error("kept weights with an average of decay 0.9 equal those without one")
	}
}

// A checkpoint comes at the end of every epoch, at its start position.
func TestFitEpochCheckpoints(t *testing.T) {
	d := newSynth(640)
	fc := fitCases[0]
	var got []string
	_, r, err := fitRun(t, d, fc, 1, Hooks{Checkpoint: func(s *State) error {
		got = append(got, fmt.Sprintf("%d/%d/%d/%d/%v", s.Epoch, s.Batch, s.Step, len(s.Records), s.Best != nil))
		return nil
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1/0/13/1/true", "2/0/26/2/true", "3/0/39/3/true"}
	if !reflect.DeepEqual(got, want) || r.Epochs != 3 {
		t.Errorf("checkpoints %v, want %v", got, want)
	}
	// An error saving one ends the fit with it.
	boom := errors.New("disk full")
	_, _, err = fitRun(t, d, fc, 1, Hooks{Checkpoint: func(*State) error { return boom }}, nil)
	if !errors.Is(err, boom) {
		t.Errorf("err %v, want %v", err, boom)
	}
}

// A state from another run is refused with a message saying what differs,
// and the model is left for the caller to discard.
func TestFitFromMismatch(t *testing.T) {
	d := newSynth(640)
	fc := fitCases[0]
	var saved *State
	n := 0
	_, _, err := fitRun(t, d, fc, 1, Hooks{Stop: func() bool { n++; return n == 20 },
		Checkpoint: func(s *State) error { saved = s; return nil }}, nil)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatal(err)
	}
	other := nn.MustBuild(nn.Spec{Kind: "mlp", Hidden: []int{8}}, 1)
	for _, tc := range []struct {
		name string
		edit func(s *State)
		want string
	}{
		{"epoch past the config", func(s *State) { s.Epoch = 9 }, "epoch 9, the config has 3"},
		{"batch past the epoch", func(s *State) { s.Batch = 99 }, "batch 99, an epoch has 13"},
		{"step off", func(s *State) { s.Step++ }, "the data or batch size differ"},
		{"records missing", func(s *State) { s.Records = nil }, "0 epoch records for 1 epochs"},
		{"hits over seen", func(s *State) { s.Hits = s.Seen + 1 }, "hits of"},
		{"best epoch ahead", func(s *State) { s.BestEpoch = 2 }, "best epoch 2 of 1"},
		{"no best weights", func(s *State) { s.Best = nil }, "best weights present: false"},
		{"best weights of another model", func(s *State) { s.Best = other.StateDict() }, "best weights:"},
		{"weights of another model", func(s *State) { s.Weights = other.StateDict() }, "state dict"},
		{"no rng", func(s *State) { s.RNG = nil }, "RNG state of 0 bytes"},
		{"optimiser slots missing", func(s *State) { s.Optim = s.Optim[1:] }, "optim: state does not match"},
		{"record of another model", func(s *State) { s.Records = []Record{{Model: "x", Epoch: 1}} }, "record 0 is x epoch 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := *saved
			s.Records = append([]Record(nil), saved.Records...)
			tc.edit(&s)
			_, _, err := fitRun(t, d, fc, 1, Hooks{}, &s)
			if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want ErrCheckpoint and %q", err, tc.want)
			}
		})
	}
}

// A diverging loss stops the fit with where and the learning rate, and
// what finished is kept.
func TestFitDiverges(t *testing.T) {
	d := newSynth(640)
	fc := fitCases[0]
	fc.cfg.LR, fc.cfg.Schedule, fc.cfg.LabelSmoothing = 1e12, "constant", 0
	var epochs int
	_, r, err := fitRun(t, d, fc, 1, Hooks{Epoch: func(Record) { epochs++ }}, nil)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("err %v, want ErrDiverged", err)
	}
	for _, s := range []string{"mlp epoch 1 step ", "loss ", "learning rate, 1e+12 at this step, is likely too high"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q lacks %q", err, s)
		}
	}
	if r == nil || len(r.Records) != epochs {
		t.Errorf("result %+v after %d epochs", r, epochs)
	}
}

// Config.Validate refuses nonsense, NaN included.
func TestConfigValidate(t *testing.T) {
	good := fitCases[0].cfg
	nan := math.NaN()
	for _, tc := range []struct {
		edit func(c *Config)
		want string // "" when valid
	}{
		{func(c *Config) {}, ""},
		{func(c *Config) { c.Epochs = 0 }, "epochs 0"},
		{func(c *Config) { c.Epochs = MaxEpochs + 1 }, "epochs 100001"},
		{func(c *Config) { c.Batch = -1 }, "batch -1"},
		{func(c *Config) { c.Batch = MaxBatch + 1 }, "batch 65537"},
		{func(c *Config) { c.LR = nan }, "learning rate NaN"},
		{func(c *Config) { c.LR = math.Inf(1) }, "learning rate +Inf"},
		{func(c *Config) { c.LR = 0 }, "learning rate 0"},
		{func(c *Config) { c.LabelSmoothing = nan }, "label smoothing NaN"},
		{func(c *Config) { c.LabelSmoothing = 1 }, "label smoothing 1"},
		{func(c *Config) { c.WeightDecay = nan }, "weight decay NaN"},
		{func(c *Config) { c.WeightDecay = -1 }, "weight decay -1"},
		{func(c *Config) { c.Momentum = 1 }, "momentum 1"},
		{func(c *Config) { c.Momentum = nan }, "momentum NaN"},
		{func(c *Config) { c.WarmupEpochs = nan }, "warmup epochs NaN"},
		{func(c *Config) { c.WarmupEpochs = 4 }, "warmup epochs 4"},
		{func(c *Config) { c.Patience = -1 }, "patience -1"},
		{func(c *Config) { c.Optimizer = "lbfgs" }, `unknown optimizer "lbfgs"`},
		{func(c *Config) { c.Schedule = "zigzag" }, `unknown schedule "zigzag"`},
	} {
		c := good
		tc.edit(&c)
		err := c.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", c, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), "fit: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", c, err, tc.want)
		}
	}
}

// In steady state a step of Fit's loop (next batch, forward, loss,
// backward, optimiser, hooks) allocates nothing. The data size is a
// multiple of the batch, so every batch has the same shape. The GC is off,
// so that it cannot empty a sync.Pool under the loop. With GOMAXPROCS 1 (as
// in testing.AllocsPerRun) every step must allocate nothing; with 2, where
// the kernels split work over goroutines, the mean over the epoch rounded
// down must be 0: the parallel Sgemm takes its jobs from a sync.Pool, which
// allocates when a goroutine moves to another P (the kernels' to fix, not
// the loop's), once in a few runs. The hook itself must not allocate, or
// one allocation would be counted again at every later step.
func TestFitSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	d := newSynth(640)
	defer alloctest.Start()()
	for _, procs := range []int{1, 2} {
		for _, fc := range fitCases[:2] {
			fc.cfg.Batch, fc.cfg.Epochs = 64, 2
			var ms runtime.MemStats
			var steps [64]uint64 // Mallocs at each call of the hook in epoch 2
			var first, last alloctest.Profile
			n := 0
			h := Hooks{
				Progress: func(p Progress) {
					if p.Epoch == 2 && p.Step > 1 && n < len(steps) {
						if procs > 1 {
							// On two goroutines the runtime allocates now and then
							// for a goroutine that parks: count by call site.
							last = alloctest.Snapshot()
							if first == nil {
								first = last
							}
						}
						runtime.ReadMemStats(&ms)
						steps[n] = ms.Mallocs
						n++
					}
				},
				Stop: func() bool { return false },
			}
			old := runtime.GOMAXPROCS(procs)
			_, _, err := fitRun(t, d, fc, 1, h, nil)
			runtime.GOMAXPROCS(old)
			if err != nil {
				t.Fatal(err)
			}
			if n < 5 {
				t.Fatalf("%s: %d calls of the hook in epoch 2", fc.name, n)
			}
			if a, site := alloctest.Ours(first, last); procs > 1 && a != 0 {
				t.Errorf("%s, GOMAXPROCS %d: %d allocations over %d steps, one at %s", fc.name, procs, a, n-1, site)
			}
			for i := 1; procs == 1 && i < n; i++ {
				if steps[i] != steps[i-1] {
					t.Errorf("%s, GOMAXPROCS 1: call %d: %d allocations", fc.name, i, steps[i]-steps[i-1])
				}
			}
		}
	}
}

// TimeToAccuracy adds up the seconds of the model's own epochs, up to the
// first that reaches each mark, and leaves a mark never reached at epoch 0.
func TestTimeToAccuracy(t *testing.T) {
	recs := []Record{
		{Model: "mlp", Epoch: 1, ValAcc: 0.99, Seconds: 100},
		{Model: "cnn", Epoch: 1, ValAcc: 0.90, Seconds: 10},
		{Model: "cnn", Epoch: 2, ValAcc: 0.935, Seconds: 11},
		{Model: "cnn", Epoch: 3, ValAcc: 0.93, Seconds: 12},
		{Model: "cnn", Epoch: 4, ValAcc: 0.94, Seconds: 13},
	}
	got := TimeToAccuracy(recs, "cnn", []float64{0.9, 0.93, 0.94, 0.95})
	want := []Reached{{0.9, 1, 10}, {0.93, 2, 21}, {0.94, 4, 46}, {0.95, 0, 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}
