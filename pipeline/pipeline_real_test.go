package pipeline_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/pipeline"
)

// realData loads the installed dataset, skipping outside CI when it is
// missing and failing in CI, where .ci/run installs it.
func realData(t *testing.T) *dataset.Fashion {
	t.Helper()
	f, err := dataset.Load(dataset.Options{Dir: dataset.DebianDir})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs the real data (apt-get install dataset-fashion-mnist): %v", err)
		}
		t.Skipf("real data not installed: %v", err)
	}
	return f
}

// tinyConfig is a pipeline small enough for CI: a subset, one or two epochs
// and narrow models.
func tinyConfig(subset int) pipeline.RunConfig {
	c := pipeline.DefaultConfig()
	c.Subset = subset
	c.MLP.Spec.Hidden = []int{128, 64}
	c.MLP.Train.Epochs = 3
	c.CNN.Spec.Widths = []int{8, 16, 16, 32, 32}
	c.CNN.Train.Epochs = 2
	c.CNNMLP.Spec.Hidden = []int{64}
	c.CNNMLP.Train.Epochs = 3
	return c
}

// TestPipelineSubsetReloads runs the whole pipeline on a real subset, checks
// the run folder, and that every saved model reloads to exactly the test
// accuracy in results.json.
func TestPipelineSubsetReloads(t *testing.T) {
	f := realData(t)
	cfg := tinyConfig(2000)
	if testing.Short() {
		cfg.Subset = 600
	}
	d, err := pipeline.Prepare(f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.Len() != cfg.Subset || d.Val.Len() != 10000 || d.Test.Len() != 10000 {
		t.Fatalf("split sizes %d/%d/%d", d.Train.Len(), d.Val.Len(), d.Test.Len())
	}
	out := t.TempDir()
	p := &pipeline.Pipeline{Config: cfg, Data: d, Out: out}
	res, err := p.Run()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"config.json", "metrics.csv", "results.json", "predictions.csv",
		"mlp.safetensors", "cnn.safetensors", "cnn_mlp.safetensors"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("run folder lacks %s", name)
		}
	}
	for _, name := range []string{"mlp", "cnn", "cnn_mlp"} {
		r := res[name]
		if r == nil || r.TestAcc <= 0.2 || r.BestEpoch < 1 { // twice chance: tiny models, few images
			t.Fatalf("%s: result %+v: the model learned nothing", name, r)
		}
		l, err := model.LoadModel(filepath.Join(out, name+".safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		mean, std, err := model.PixelNorm(l.Meta)
		if err != nil {
			t.Fatal(err)
		}
		test := dataset.NewLoader(f.Test, dataset.LoaderConfig{Batch: 500, Mean: mean, Std: std})
		sc := fit.Evaluate(l.Predictor, test, nil)
		if sc.Acc != r.TestAcc || sc.Loss != r.TestLoss {
			t.Errorf("%s reloaded: test acc %v loss %v, results.json says %v and %v", name, sc.Acc, sc.Loss, r.TestAcc, r.TestLoss)
		}
	}
}

// TestMLPBeats80 trains the MLP on pixels on a real subset for a few seconds.
func TestMLPBeats80(t *testing.T) {
	f := realData(t)
	cfg := pipeline.DefaultConfig()
	cfg.Subset = 10000
	d, err := pipeline.Prepare(f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Build(nn.Spec{Kind: "mlp", In: 784, Hidden: []int{256}, Classes: 10}, 1)
	if err != nil {
		t.Fatal(err)
	}
	tc := fit.Config{Epochs: 2, Batch: 128, Optimizer: "sgd", LR: 0.05, Schedule: "onecycle", Momentum: 0.9, Nesterov: true}
	tr := dataset.NewLoader(d.Train, dataset.LoaderConfig{Batch: 128, Shuffle: true, Seed: 1, Mean: d.Mean, Std: d.Std})
	va := dataset.NewLoader(d.Val, dataset.LoaderConfig{Batch: 500, Mean: d.Mean, Std: d.Std})
	r, err := fit.Fit("mlp", m, tr, va, tc, fit.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if r.BestVal < 0.80 {
		t.Fatalf("val accuracy %.4f after 2 epochs on 10k images, want > 0.80", r.BestVal)
	}
	t.Logf("val accuracy %.4f", r.BestVal)
}
