package model

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/nn"
)

// TestSmallFileBigSpec: a model file whose metadata describes a model far
// bigger than the numbers it holds is refused before the model is built,
// so a file of a few bytes cannot make LoadModel allocate and initialise
// hundreds of megabytes. A file that holds its model loads.
func TestSmallFileBigSpec(t *testing.T) {
	dir := t.TempDir()
	small := nn.Spec{Kind: "mlp", In: 784, Hidden: []int{8}, Classes: 10}
	m, err := nn.Build(small, 1)
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.safetensors")
	if err := SaveModel(good, m, PixelMeta(0.3, 0.35)); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadModel(good); err != nil {
		t.Fatalf("a file that holds its model: %v", err)
	}
	for _, tc := range []struct {
		name string
		spec nn.Spec
	}{
		{"wide mlp", nn.Spec{Kind: "mlp", In: 784, Hidden: []int{60000}, Classes: 10}},
		{"wide cnn", nn.Spec{Kind: "cnn", Widths: []int{32, 2048, 2048}, PoolAfter: []int{0, 1}, Classes: 10}},
	} {
		f := &checkpoint.File{Metadata: PixelMeta(0.3, 0.35)}
		f.Metadata["kind"], f.Metadata["arch"] = tc.spec.Kind, specJSON(tc.spec)
		StateToFile(f, "", m.StateDict())
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".safetensors")
		if err := checkpoint.Write(path, f); err != nil {
			t.Fatal(err)
		}
		_, err := LoadModel(path)
		if err == nil || !strings.Contains(err.Error(), "weights, the file holds") {
			t.Errorf("%s: %v, want the weights-against-numbers refusal", tc.name, err)
		}
	}
}

// minWeights counts exactly the weight matrices Build makes.
func TestMinWeights(t *testing.T) {
	for _, s := range []nn.Spec{
		{Kind: "mlp", In: 784, Hidden: []int{1024, 512}, BatchNorm: true, Classes: 10},
		{Kind: "mlp", In: 256, Classes: 10},
		{Kind: "cnn", Widths: []int{32, 64, 128, 256, 256}, PoolAfter: []int{1, 2, 3}, BatchNorm: true, Classes: 10},
		{Kind: "cnn", Widths: []int{8, 16}, PoolAfter: []int{0}, Classes: 10},
	} {
		m, err := nn.Build(s, 0)
		if err != nil {
			t.Fatal(err)
		}
		var weights int
		for _, p := range m.Params() {
			if len(p.Value.Shape) >= 2 {
				weights += len(p.Value.Data)
			}
		}
		if got := minWeights(s); got != float64(weights) {
			t.Errorf("%+v: minWeights %v, Build's weight matrices hold %d", s, got, weights)
		}
	}
}
