package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/pipeline"
)

// eval --tta flip prints the plain test accuracy, then the one with flip
// TTA on a line of its own.
func TestEvalTTA(t *testing.T) {
	needRealData(t)
	path := filepath.Join(t.TempDir(), "mlp.safetensors")
	m := nn.MustBuild(nn.Spec{Kind: "mlp", In: 784, Hidden: []int{8}}, 1)
	if err := model.SaveModel(path, m, map[string]string{"pixel_mean": "0.286", "pixel_std": "0.353"}); err != nil {
		t.Fatal(err)
	}
	out, err := cliCommand(t, nil, "eval", "--data", realData, "--tta", "flip", path).Output()
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], path+" (mlp): test accuracy ") ||
		!strings.HasPrefix(lines[1], path+" (mlp): with flip TTA, test accuracy ") ||
		!strings.Contains(lines[1], "/10000)") {
		t.Errorf("output:\n%s", out)
	}
}

// --preset picks the recipe that --config and the other flags then change.
func TestResolvePreset(t *testing.T) {
	for name, want := range map[string]pipeline.RunConfig{"default": pipeline.DefaultConfig(), "quick": pipeline.QuickConfig(),
		"long": pipeline.LongConfig()} {
		c := commonFlags{recipe: recipe{preset: name, seed: -1}, out: t.TempDir()}
		got, err := c.resolve()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("--preset %s: %+v, want %+v", name, got, want)
		}
	}
	c := commonFlags{recipe: recipe{preset: "quick", seed: 4, epochs: 2}, out: t.TempDir()}
	got, err := c.resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := pipeline.QuickConfig()
	want.Seed = 4
	want.MLP.Train.Epochs, want.CNN.Train.Epochs, want.CNNMLP.Train.Epochs = 2, 2, 2
	if !reflect.DeepEqual(got, want) {
		t.Errorf("--preset quick --seed 4 --epochs 2: %+v, want %+v", got, want)
	}
}
