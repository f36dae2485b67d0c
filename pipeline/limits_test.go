package pipeline

import (
	"github.com/fmnist/fmnist/fit"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/nn"
)

func TestMinTrainBatch(t *testing.T) {
	for _, c := range []struct {
		name string
		spec nn.Spec
		want int
	}{
		{"mlp", nn.Spec{Kind: "mlp", Hidden: []int{4}}, 1},
		{"mlp with batch norm", nn.Spec{Kind: "mlp", Hidden: []int{4}, BatchNorm: true}, 2},
		{"cnn with batch norm", nn.Spec{Kind: "cnn", Widths: []int{2, 2}, PoolAfter: []int{0}, BatchNorm: true}, 1},
		{"cnn whose last conv sees 1×1", nn.Spec{Kind: "cnn", Widths: []int{2, 2, 2, 2, 2}, PoolAfter: []int{0, 1, 2, 3}, BatchNorm: true}, 2},
		{"cnn pooled to 1×1 after its last conv", nn.Spec{Kind: "cnn", Widths: []int{2, 2, 2, 2}, PoolAfter: []int{0, 1, 2, 3}, BatchNorm: true}, 1},
	} {
		if got := minTrainBatch(c.spec); got != c.want {
			t.Errorf("%s: minTrainBatch = %d, want %d", c.name, got, c.want)
		}
	}
}

// Every subset size from 1 to 300 either trains an epoch of each kind of
// model with batch norm (a last batch of one dropped) or is refused with
// a clear error by Prepare, never a panic. The models are tiny, so the 300
// sizes take seconds.
func TestEverySubsetSize(t *testing.T) {
	f := &dataset.Fashion{Train: synthSet(t, 302, 1), Test: synthSet(t, 4, 3)}
	cfg := tinyConfig()
	cfg.Val = 2
	cfg.MLP.Spec = nn.Spec{Kind: "mlp", In: dataset.Pixels, Hidden: []int{4}, BatchNorm: true, Classes: 10}
	cfg.MLP.Augment = dataset.Augment{}
	cfg.CNN.Spec = nn.Spec{Kind: "cnn", In: 1, Widths: []int{1, 1, 1, 1, 2}, PoolAfter: []int{0, 1, 2, 3}, BatchNorm: true, Classes: 10}
	cfg.CNN.Augment = dataset.Augment{}
	cfg.CNNMLP.Spec = nn.Spec{Kind: "mlp", In: 2, Hidden: []int{4}, BatchNorm: true, Classes: 10}
	for _, st := range []*Stage{&cfg.MLP, &cfg.CNN, &cfg.CNNMLP} {
		st.Train.Epochs, st.Train.Batch = 1, 128
	}
	var cnn *nn.Model
	for n := 1; n <= 301; n++ {
		if r := n % 128; raceEnabled && n > 10 && r > 3 && r < 125 && n%17 != 0 {
			// Under the race detector (several minutes for all 300): the
			// sizes near a multiple of the batch, whose last batch is tiny,
			// and every 17th.
			continue
		}
		cfg.Subset = n
		sp, err := Prepare(f, cfg)
		want := ""
		switch {
		case n == 1:
			want = "pipeline: mlp: 1 training images: batch norm needs at least 2"
		case n == 301:
			want = "pipeline: subset 301: the train split has only 300 images"
		}
		if want != "" {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("subset %d: Prepare: %v, want %q", n, err, want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("subset %d: %v", n, err)
		}
		if sp.Train.Len() != n {
			t.Fatalf("subset %d: %d training images", n, sp.Train.Len())
		}
		va := sp.loader(sp.Val, 500, false, 0, dataset.Augment{})
		for _, st := range []struct {
			name string
			s    Stage
		}{{"mlp", cfg.MLP}, {"cnn", cfg.CNN}} {
			m := nn.MustBuild(st.s.Spec, 1)
			tr := sp.trainLoader(st.s, 1)
			if want := (n + 127) / 128; n%128 == 1 && tr.Batches() != want-1 || n%128 != 1 && tr.Batches() != want {
				t.Fatalf("subset %d: %s: %d batches", n, st.name, tr.Batches())
			}
			if _, err := fit.Fit(st.name, m, tr, va, st.s.Train, fit.Hooks{}); err != nil {
				t.Fatalf("subset %d: %s: %v", n, st.name, err)
			}
			if st.name == "cnn" {
				cnn = m
			}
		}
		// The head on features, as the cnn_mlp stage builds its loader.
		trF, dim, trY := Extract(cnn, sp.loader(sp.Train, 500, false, 0, dataset.Augment{}))
		fl := fit.NewFeatureLoader(trF, dim, trY, cfg.CNNMLP.Train.Batch, true, 1)
		fl.DropLast = dropLast(cfg.CNNMLP.Spec, len(trY), cfg.CNNMLP.Train.Batch)
		vaF, _, vaY := Extract(cnn, va)
		head := nn.MustBuild(cfg.CNNMLP.Spec, 1)
		if _, err := fit.Fit("cnn_mlp", head, fl, fit.NewFeatureLoader(vaF, dim, vaY, 500, false, 0), cfg.CNNMLP.Train, fit.Hooks{}); err != nil {
			t.Fatalf("subset %d: head: %v", n, err)
		}
	}
}
