package onnx_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/onnx"
)

var testMeta = map[string]string{"pixel_mean": "0.2860", "pixel_std": "0.3530"}

func loadedModel(m *nn.Model) *model.Loaded {
	return &model.Loaded{Kind: m.Spec.Kind, Model: m, Predictor: nn.Eval{Model: m}, Meta: testMeta}
}

func loadedStacked(cnn, head *nn.Model, rng *rand.Rand) *model.Loaded {
	w := cnn.Spec.Widths[len(cnn.Spec.Widths)-1]
	norm := model.Standardizer{Mean: make([]float32, w), Std: make([]float32, w)}
	for i := range w {
		norm.Mean[i], norm.Std[i] = float32(rng.NormFloat64()), float32(0.5+rng.Float64())
	}
	st := &model.CNNMLP{CNN: cnn, Norm: norm, MLP: head}
	return &model.Loaded{Kind: "cnn_mlp", Model: cnn, CNNMLP: st, Predictor: st, Meta: testMeta}
}

// trainedLike gives every batch norm of m statistics and affine weights far
// from their initial 0 and 1, as training leaves them, so that a wrong fold
// shows.
func trainedLike(t testing.TB, m *nn.Model, rng *rand.Rand) *nn.Model {
	t.Helper()
	sd := m.StateDict()
	bn := map[string]bool{}
	for _, x := range sd {
		if p, ok := strings.CutSuffix(x.Name, ".running_var"); ok {
			bn[p] = true
		}
	}
	for _, x := range sd {
		i := strings.LastIndexByte(x.Name, '.')
		if i < 0 || !bn[x.Name[:i]] {
			continue
		}
		for j := range x.Data {
			switch x.Name[i+1:] {
			case "weight":
				x.Data[j] = float32(0.5 + rng.Float64())
			case "bias", "running_mean":
				x.Data[j] = float32(0.5 * rng.NormFloat64())
			case "running_var":
				x.Data[j] = float32(0.2 + 2*rng.Float64())
			}
		}
	}
	if err := m.LoadStateDict(sd); err != nil {
		t.Fatal(err)
	}
	return m
}

// randomPixels returns n images of random bytes.
func randomPixels(n int, rng *rand.Rand) []uint8 {
	px := make([]uint8, n*dataset.Pixels)
	for i := range px {
		px[i] = uint8(rng.IntN(256))
	}
	return px
}

// compareWithFmnist exports l, runs the file in the interpreter of
// graph_test.go on images, and returns the largest difference from
// fmnist's logits.
func compareWithFmnist(t testing.TB, l *model.Loaded, pixels []uint8) (float64, error) {
	t.Helper()
	b, err := onnx.Export(l)
	if err != nil {
		return 0, err
	}
	g, err := readModel(b)
	if err != nil {
		t.Fatalf("the exported file does not read back: %v", err)
	}
	n := len(pixels) / dataset.Pixels
	x := arr{shape: []int{n, 1, 28, 28}, data: make([]float32, len(pixels))}
	for i, v := range pixels {
		x.data[i] = float32(v) / 255
	}
	got, err := g.run(x)
	if err != nil {
		t.Fatalf("the exported graph does not run: %v", err)
	}
	set, err := dataset.NewSet(pixels, make([]uint8, n))
	if err != nil {
		t.Fatal(err)
	}
	mean, std, err := model.PixelNorm(l.Meta)
	if err != nil {
		t.Fatal(err)
	}
	xs, _, _ := dataset.NewLoader(set, dataset.LoaderConfig{Batch: n, Mean: mean, Std: std}).Next()
	want := l.Predictor.Predict(xs)
	if !slices.Equal(got.shape, want.Shape) {
		t.Fatalf("graph gives logits of shape %v, fmnist %v", got.shape, want.Shape)
	}
	var worst float64
	for i, w := range want.Data {
		worst = max(worst, math.Abs(float64(got.data[i])-float64(w))/(1+math.Abs(float64(w))))
	}
	return worst, nil
}

// Every kind, with and without batch norm, dropout and other pools: the
// exported graph, run by the reference interpreter, gives fmnist's logits.
func TestExportComputesFmnistLogits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	px := randomPixels(3, rng)
	mlp := func(s nn.Spec) *model.Loaded {
		s.Kind = "mlp"
		return loadedModel(trainedLike(t, nn.MustBuild(s, 1), rng))
	}
	cnn := func(s nn.Spec) *model.Loaded {
		s.Kind = "cnn"
		return loadedModel(trainedLike(t, nn.MustBuild(s, 2), rng))
	}
	stacked := func(c, h nn.Spec) *model.Loaded {
		c.Kind, h.Kind, h.In = "cnn", "mlp", c.Widths[len(c.Widths)-1]
		return loadedStacked(trainedLike(t, nn.MustBuild(c, 3), rng), trainedLike(t, nn.MustBuild(h, 4), rng), rng)
	}
	for _, tc := range []struct {
		name string
		l    *model.Loaded
	}{
		{"mlp", mlp(nn.Spec{Hidden: []int{16, 8}})},
		{"mlp no hidden", mlp(nn.Spec{Hidden: []int{}, Classes: 3})},
		{"mlp batch norm dropout", mlp(nn.Spec{Hidden: []int{12, 9}, BatchNorm: true, Dropout: 0.3, InputDropout: 0.1})},
		{"cnn", cnn(nn.Spec{Widths: []int{4, 6, 8}, PoolAfter: []int{1, 2}})},
		{"cnn batch norm odd pools", cnn(nn.Spec{Widths: []int{3, 5, 4, 6}, PoolAfter: []int{0, 1, 2, 3}, BatchNorm: true, Dropout: 0.2})},
		{"cnn no pools", cnn(nn.Spec{Widths: []int{4}, PoolAfter: []int{}, Classes: 12})},
		{"cnn_mlp", stacked(nn.Spec{Widths: []int{4, 8}, PoolAfter: []int{0}}, nn.Spec{Hidden: []int{6}})},
		{"cnn_mlp batch norm", stacked(nn.Spec{Widths: []int{4, 8}, PoolAfter: []int{1}, BatchNorm: true},
			nn.Spec{Hidden: []int{6, 5}, BatchNorm: true, Dropout: 0.5})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := compareWithFmnist(t, tc.l, px)
			if err != nil {
				t.Fatal(err)
			}
			if d > 1e-5 {
				t.Errorf("logits differ by %.3g (relative)", d)
			}
		})
	}
}

// The file's contract: names, opset, the free batch dimension, metadata.
func TestExportContract(t *testing.T) {
	l := loadedModel(nn.MustBuild(nn.Spec{Kind: "mlp", Hidden: []int{8}}, 1))
	b, err := onnx.Export(l)
	if err != nil {
		t.Fatal(err)
	}
	g, err := readModel(b)
	if err != nil {
		t.Fatal(err)
	}
	if g.ir != onnx.IRVersion || g.opset != onnx.Opset || onnx.Opset < 13 {
		t.Errorf("IR %d opset %d", g.ir, g.opset)
	}
	if !slices.Equal(g.graphInputs, []string{"pixels"}) || !slices.Equal(g.inputs["pixels"], []string{"batch", "1", "28", "28"}) {
		t.Errorf("inputs %v", g.inputs)
	}
	if !slices.Equal(g.graphOutputs, []string{"logits"}) || !slices.Equal(g.outputs["logits"], []string{"batch", "10"}) {
		t.Errorf("outputs %v", g.outputs)
	}
	var names []string
	if err := json.Unmarshal([]byte(g.meta["class_names"]), &names); err != nil || !slices.Equal(names, dataset.ClassNames[:]) {
		t.Errorf("class_names %q (%v)", g.meta["class_names"], err)
	}
	if g.meta["pixel_mean"] != "0.286" || g.meta["pixel_std"] != "0.353" || g.meta["normalization_in_graph"] != "true" ||
		g.meta["kind"] != "mlp" || !strings.Contains(g.meta["arch"], `"hidden":[8]`) {
		t.Errorf("metadata %v", g.meta)
	}
	again, err := onnx.Export(l)
	if err != nil || string(again) != string(b) {
		t.Errorf("a second export gives other bytes (%v)", err)
	}
	// Batch 1 and batch 5 through the same graph.
	for _, n := range []int{1, 5} {
		d, err := compareWithFmnist(t, l, randomPixels(n, rand.New(rand.NewPCG(uint64(n), 0))))
		if err != nil || d > 1e-5 {
			t.Errorf("batch %d: logits differ by %.3g (%v)", n, d, err)
		}
	}
	if got := onnx.ClassNames(12); got[9] != "Ankle boot" || got[11] != "class 11" {
		t.Errorf("ClassNames(12) = %q", got)
	}
}

// A model the graph cannot express, or whose weights disagree with its
// spec, is refused with an error naming the problem.
func TestExportRefuses(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	build := func(s nn.Spec) *nn.Model { return nn.MustBuild(s, 1) }
	mlp := func() *nn.Model { return build(nn.Spec{Kind: "mlp", Hidden: []int{8}}) }
	cnn := func() *nn.Model { return build(nn.Spec{Kind: "cnn", Widths: []int{4, 8}, PoolAfter: []int{0}}) }
	for _, tc := range []struct {
		name        string
		l           func() *model.Loaded
		want        string
		unsupported bool // wraps ErrUnsupported
	}{
		{"unknown kind", func() *model.Loaded { l := loadedModel(mlp()); l.Kind = "rnn"; return l },
			`unknown model kind "rnn"`, true},
		{"no pixel normalisation", func() *model.Loaded { l := loadedModel(mlp()); l.Meta = nil; return l },
			"pixel_mean", false},
		{"mlp not on pixels", func() *model.Loaded { return loadedModel(build(nn.Spec{Kind: "mlp", In: 100})) },
			"reads 100", true},
		{"mlp file holding a cnn", func() *model.Loaded { l := loadedModel(cnn()); l.Kind = "mlp"; return l },
			"this cnn model", true},
		{"cnn on three channels", func() *model.Loaded { return loadedModel(build(nn.Spec{Kind: "cnn", In: 3, Widths: []int{4}})) },
			"reads 3", true},
		{"pools to nothing", func() *model.Loaded {
			return loadedModel(build(nn.Spec{Kind: "cnn", Widths: []int{2, 2, 2, 2, 2}, PoolAfter: []int{0, 1, 2, 3, 4}}))
		}, "max-pool after conv 4 shrinks", true},
		{"spec says batch norm, weights have none", func() *model.Loaded {
			m := mlp()
			m.Spec.BatchNorm = true
			return loadedModel(m)
		}, `module "1" does not match`, true},
		{"spec wider than the weights", func() *model.Loaded {
			m := mlp()
			m.Spec.Hidden = []int{9}
			return loadedModel(m)
		}, "1.weight is not of shape [9 784]", true},
		{"spec deeper than the weights", func() *model.Loaded {
			m := mlp()
			m.Spec.Hidden = []int{8, 8}
			return loadedModel(m)
		}, "is not of shape [8 8]", true},
		{"weights the spec lacks", func() *model.Loaded {
			m := cnn()
			m.Spec.Widths = []int{4}
			return loadedModel(m)
		}, `module "backbone.3" does not match`, true},
		{"NaN weight", func() *model.Loaded {
			m := mlp()
			sd := m.StateDict()
			sd[0].Data[5] = float32(math.NaN())
			if err := m.LoadStateDict(sd); err != nil {
				t.Fatal(err)
			}
			return loadedModel(m)
		}, "linear0_weight holds NaN", true},
		{"cnn_mlp without its parts", func() *model.Loaded { l := loadedModel(cnn()); l.Kind = "cnn_mlp"; return l },
			"without its cnn and mlp", true},
		{"mlp without its network", func() *model.Loaded { return &model.Loaded{Kind: "mlp", Meta: testMeta} },
			"mlp model without its network", true},
		{"cnn_mlp head of another width", func() *model.Loaded {
			return loadedStacked(cnn(), build(nn.Spec{Kind: "mlp", In: 4, Hidden: []int{4}}), rng)
		}, "reading 4 features, the backbone gives 8", true},
		{"cnn_mlp backbone an mlp", func() *model.Loaded {
			l := loadedStacked(cnn(), build(nn.Spec{Kind: "mlp", In: 8, Hidden: []int{4}}), rng)
			l.CNNMLP.CNN = build(nn.Spec{Kind: "mlp", Hidden: []int{8}})
			l.CNNMLP.CNN.Spec.Widths = []int{8}
			return l
		}, "this mlp model", true},
		{"cnn_mlp statistics of another width", func() *model.Loaded {
			l := loadedStacked(cnn(), build(nn.Spec{Kind: "mlp", In: 8, Hidden: []int{4}}), rng)
			l.CNNMLP.Norm.Std = l.CNNMLP.Norm.Std[:3]
			return l
		}, "width 8 and 3", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := onnx.Export(tc.l())
			if err == nil {
				t.Fatal("exported")
			}
			if !strings.HasPrefix(err.Error(), "onnx: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
			if errors.Is(err, onnx.ErrUnsupported) != tc.unsupported {
				t.Errorf("errors.Is(%v, ErrUnsupported) = %v", err, !tc.unsupported)
			}
		})
	}
}

// WriteFile writes atomically and leaves nothing behind on a refusal.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	if err := onnx.WriteFile(path, loadedModel(nn.MustBuild(nn.Spec{Kind: "mlp", Hidden: []int{4}}, 1))); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readModel(b); err != nil {
		t.Fatal(err)
	}
	bad := loadedModel(nn.MustBuild(nn.Spec{Kind: "mlp", In: 10}, 1))
	if err := onnx.WriteFile(filepath.Join(dir, "bad.onnx"), bad); err == nil {
		t.Fatal("a refused model was written")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("the folder holds %d files, want only m.onnx", len(ents))
	}
}

// FuzzExport builds models from arbitrary specs (sizes capped): each is
// either refused with an error wrapping ErrUnsupported or exported to a
// graph that reads back and gives fmnist's logits. Never a panic.
func FuzzExport(f *testing.F) {
	for _, s := range []string{
		`{"kind":"mlp","hidden":[8,4],"batch_norm":true}`,
		`{"kind":"mlp","in":12}`,
		`{"kind":"cnn","widths":[3,4],"pool_after":[0,1],"batch_norm":true}`,
		`{"kind":"cnn","in":2,"widths":[2]}`,
		`{"kind":"cnn","widths":[2,2,2,2,2],"pool_after":[0,1,2,3,4]}`,
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, js []byte, stack uint8) {
		var s nn.Spec
		if json.Unmarshal(js, &s) != nil {
			return
		}
		// The sizes are capped after Normalize: a spec without widths is the
		// default CNN, whose export and check take seconds (the fuzzer took
		// testdata/fuzz/FuzzExport/237806b4a7dd4c35 for a hang).
		s, err := s.Normalize()
		if err != nil || len(s.Hidden) > 3 || len(s.Widths) > 5 || s.Classes > 12 || s.In > 2000 {
			return
		}
		for _, v := range s.Widths {
			if v > 8 {
				return
			}
		}
		for _, v := range s.Hidden {
			if v > 512 { // the default MLP's widths, cheap on two images
				return
			}
		}
		m, err := nn.Build(s, 1)
		if err != nil {
			return
		}
		rng := rand.New(rand.NewPCG(uint64(len(js)), uint64(stack)))
		trainedLike(t, m, rng)
		l := loadedModel(m)
		if stack%3 == 2 && m.Spec.Kind == "cnn" {
			head := nn.MustBuild(nn.Spec{Kind: "mlp", In: m.Spec.Widths[len(m.Spec.Widths)-1], Hidden: []int{5},
				BatchNorm: stack%2 == 0}, 2)
			l = loadedStacked(m, trainedLike(t, head, rng), rng)
		}
		d, err := compareWithFmnist(t, l, randomPixels(2, rng))
		if err != nil {
			if !errors.Is(err, onnx.ErrUnsupported) {
				t.Fatalf("%s: error %v does not wrap ErrUnsupported", js, err)
			}
			return
		}
		if d > 1e-5 {
			t.Fatalf("%s: logits differ by %.3g", js, d)
		}
	})
}
