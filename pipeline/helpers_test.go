package pipeline

import (
	"bytes"
	"github.com/fmnist/fmnist/fit"
	"os"
	"path/filepath"
	"testing"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/internal/synth"
	"github.com/fmnist/fmnist/nn"
)

// synthSet is synth.Set, for the tests.
func synthSet(t testing.TB, n int, seed uint64) *dataset.Set {
	t.Helper()
	return synth.Set(n, seed)
}

// synthSplits is a small made-up dataset: 640 train, 200 val, 200 test.
func synthSplits(t testing.TB) *Splits { return synthSplitsN(t, 640) }

// synthSplitsN is synthSplits with n training images.
func synthSplitsN(t testing.TB, n int) *Splits {
	tr := synthSet(t, n, 1)
	mean, std := dataset.Stats(tr)
	return &Splits{Train: tr, Val: synthSet(t, 200, 2), Test: synthSet(t, 200, 3), Mean: float32(mean), Std: float32(std)}
}

// tinyConfig is a pipeline of small models, 10 steps an epoch on
// synthSplits, with dropout, batch norm and augmentation so that every
// kind of state a resume must restore is used.
func tinyConfig() RunConfig {
	c := DefaultConfig()
	c.Seed, c.Val, c.Subset = 3, 200, 0
	c.MLP.Spec = nn.Spec{Kind: "mlp", Hidden: []int{32}, Dropout: 0.2}
	c.MLP.Train = fit.Config{Epochs: 2, Batch: 64, Optimizer: "sgd", LR: 0.05, Schedule: "onecycle", Momentum: 0.9,
		Nesterov: true, WeightDecay: 5e-4, LabelSmoothing: 0.1}
	c.MLP.Augment = dataset.Augment{Pad: 2}
	c.CNN.Spec = nn.Spec{Kind: "cnn", Widths: []int{4, 8}, PoolAfter: []int{0, 1}, BatchNorm: true, Dropout: 0.1}
	c.CNN.Train = fit.Config{Epochs: 2, Batch: 64, Optimizer: "adamw", LR: 0.01, Schedule: "cosine", WarmupEpochs: 0.5,
		WeightDecay: 0.01}
	c.CNN.Augment = dataset.Augment{Pad: 2, Flip: true, Erase: 0.3}
	c.CNNMLP.Spec = nn.Spec{Kind: "mlp", Hidden: []int{16}, BatchNorm: true, Dropout: 0.3}
	c.CNNMLP.Train = fit.Config{Epochs: 2, Batch: 64, Optimizer: "sgd", LR: 0.01, Schedule: "step", Momentum: 0.9}
	c.CNNMLP.Augment = dataset.Augment{}
	return c
}

// sameFiles fails unless dirs a and b hold the same bytes in each of names.
func sameFiles(t *testing.T, a, b string, names ...string) {
	t.Helper()
	for _, n := range names {
		x, err := os.ReadFile(filepath.Join(a, n))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between %s and %s", n, a, b)
		}
	}
}

// sameBits fails unless two state dicts are equal bit for bit.
func sameBits(t *testing.T, what string, a, b []nn.Named) {
	t.Helper()
	if err := synth.SameBits(a, b); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// noTiming drops the fields of a record that vary from run to run.
func noTiming(rs []fit.Record) []fit.Record {
	out := make([]fit.Record, len(rs))
	for i, r := range rs {
		r.ImgPerS, r.Seconds = 0, 0
		out[i] = r
	}
	return out
}
