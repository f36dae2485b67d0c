package model_test

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/model"
)

// Models made in PyTorch by scripts/torch_make_testdata.py load here and
// give PyTorch's logits; saving them again gives PyTorch's tensors back.

func tensorByName(t *testing.T, f *checkpoint.File, name string) checkpoint.Tensor {
	t.Helper()
	for _, x := range f.Tensors {
		if x.Name == name {
			return x
		}
	}
	t.Fatalf("no tensor %q", name)
	return checkpoint.Tensor{}
}

func TestTorchMadeModels(t *testing.T) {
	in, err := checkpoint.Read(filepath.Join("testdata", "torch_inputs.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	px := tensorByName(t, in, "pixels")
	n := px.Shape[0]
	if !slices.Equal(px.Shape, []int{n, dataset.Rows, dataset.Cols}) {
		t.Fatalf("pixels shape %v", px.Shape)
	}
	pixels := make([]uint8, len(px.F32))
	for i, v := range px.F32 {
		pixels[i] = uint8(v)
	}
	set, err := dataset.NewSet(pixels, make([]uint8, n))
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"mlp", "cnn", "cnn_mlp"} {
		t.Run(kind, func(t *testing.T) {
			path := filepath.Join("testdata", "torch_"+kind+".safetensors")
			l, err := model.LoadModel(path)
			if err != nil {
				t.Fatal(err)
			}
			if l.Kind != kind {
				t.Fatalf("kind %q", l.Kind)
			}
			mean, std, err := model.PixelNorm(l.Meta)
			if err != nil {
				t.Fatal(err)
			}
			x, _, _ := dataset.NewLoader(set, dataset.LoaderConfig{Batch: n, Mean: mean, Std: std}).Next()
			got := l.Predictor.Predict(x)
			want := tensorByName(t, in, "logits_"+kind)
			if !slices.Equal(got.Shape, want.Shape) {
				t.Fatalf("logits %v, PyTorch's %v", got.Shape, want.Shape)
			}
			worst := 0.0
			for i, v := range got.Data {
				worst = max(worst, math.Abs(float64(v-want.F32[i])))
			}
			t.Logf("max |logit - PyTorch's| %.3g", worst)
			if worst > 1e-4 {
				t.Errorf("logits differ from PyTorch's by up to %g", worst)
			}

			// Saved again by us, the file holds PyTorch's tensors: the same
			// names, dtypes, shapes and bits.
			again := filepath.Join(t.TempDir(), "again.safetensors")
			if kind == "cnn_mlp" {
				err = model.SaveCNNMLP(again, l.CNNMLP, nil)
			} else {
				err = model.SaveModel(again, l.Model, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := checkpoint.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := checkpoint.Read(again)
			if err != nil {
				t.Fatal(err)
			}
			if len(ours.Tensors) != len(theirs.Tensors) {
				t.Fatalf("%d tensors, PyTorch wrote %d", len(ours.Tensors), len(theirs.Tensors))
			}
			for _, a := range theirs.Tensors {
				b := tensorByName(t, ours, a.Name)
				if a.DType != b.DType || !slices.Equal(a.Shape, b.Shape) || !slices.Equal(a.I64, b.I64) ||
					!slices.EqualFunc(a.F32, b.F32, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }) {
					t.Errorf("%s: ours %s %v differs from PyTorch's %s %v", a.Name, b.DType, b.Shape, a.DType, a.Shape)
				}
			}
			if kind == "cnn_mlp" {
				if ours.Metadata["cnn_arch"] == "" || ours.Metadata["mlp_arch"] == "" {
					t.Errorf("metadata %v", ours.Metadata)
				}
			} else if ours.Metadata["arch"] == "" {
				t.Errorf("metadata %v", ours.Metadata)
			}
		})
	}
}
