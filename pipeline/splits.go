package pipeline

import (
	"fmt"

	"github.com/fmnist/fmnist/dataset"
)

// Splits is the data a pipeline runs on.
type Splits struct {
	Train, Val, Test *dataset.Set
	Mean, Std        float32 // of the train split's pixels, used to normalise
}

// Prepare splits and subsets the data as cfg says.
func Prepare(f *dataset.Fashion, cfg RunConfig) (*Splits, error) {
	tr, va, err := dataset.Split(f.Train, cfg.Val, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if cfg.Subset > tr.Len() {
		return nil, fmt.Errorf("pipeline: subset %d: the train split has only %d images (%d held out for validation)",
			cfg.Subset, tr.Len(), va.Len())
	}
	if cfg.Subset > 0 && cfg.Subset < tr.Len() {
		tr = tr.Subset(cfg.Subset)
	}
	for _, s := range []struct {
		name string
		st   Stage
	}{{"mlp", cfg.MLP}, {"cnn", cfg.CNN}, {"cnn_mlp", cfg.CNNMLP}} {
		if err := checkTrainSize(s.name, s.st.Spec, s.st.Train.Batch, tr.Len()); err != nil {
			return nil, err
		}
	}
	mean, std := dataset.Stats(tr)
	return &Splits{Train: tr, Val: va, Test: f.Test, Mean: float32(mean), Std: float32(std)}, nil
}

// trainLoader is the shuffled, augmented loader of the train split for st.
func (s *Splits) trainLoader(st Stage, seed uint64) *dataset.Loader {
	b := st.Train.Batch
	return dataset.NewLoader(s.Train, dataset.LoaderConfig{Batch: b, Shuffle: true, Seed: seed,
		Mean: s.Mean, Std: s.Std, Augment: st.Augment, DropLast: dropLast(st.Spec, s.Train.Len(), b)})
}

func (s *Splits) loader(set *dataset.Set, batch int, shuffle bool, seed uint64, aug dataset.Augment) *dataset.Loader {
	return dataset.NewLoader(set, dataset.LoaderConfig{Batch: batch, Shuffle: shuffle, Seed: seed,
		Mean: s.Mean, Std: s.Std, Augment: aug})
}
