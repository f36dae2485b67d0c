package fit

import (
	"testing"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/internal/synth"
	"github.com/fmnist/fmnist/nn"
)

// synthData is a small made-up dataset: n train and 200 val images.
type synthData struct {
	Train, Val *dataset.Set
	Mean, Std  float32
}

func newSynth(n int) *synthData {
	tr := synth.Set(n, 1)
	mean, std := dataset.Stats(tr)
	return &synthData{Train: tr, Val: synth.Set(200, 2), Mean: float32(mean), Std: float32(std)}
}

func (d *synthData) loader(set *dataset.Set, batch int, shuffle bool, seed uint64, aug dataset.Augment) *dataset.Loader {
	return dataset.NewLoader(set, dataset.LoaderConfig{Batch: batch, Shuffle: shuffle, Seed: seed,
		Mean: d.Mean, Std: d.Std, Augment: aug})
}

func cloneState(sd []nn.Named) []nn.Named {
	if sd == nil {
		return nil
	}
	return snapshot(nil, sd)
}

// sameBits fails unless two state dicts are equal bit for bit.
func sameBits(t *testing.T, what string, a, b []nn.Named) {
	t.Helper()
	if err := synth.SameBits(a, b); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// noTiming drops the fields of a record that vary from run to run.
func noTiming(rs []Record) []Record {
	out := make([]Record, len(rs))
	for i, r := range rs {
		r.ImgPerS, r.Seconds = 0, 0
		out[i] = r
	}
	return out
}
