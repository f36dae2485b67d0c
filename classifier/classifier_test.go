package classifier_test

import (
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fmnist/fmnist/classifier"
	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/imageprep"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
)

var models = []string{"mlp", "cnn", "cnn_mlp"}

func modelPath(kind string) string {
	return filepath.Join("..", "model", "testdata", "torch_"+kind+".safetensors")
}

// randomPixels returns n images of seeded random bytes.
func randomPixels(n int, seed uint64) []uint8 {
	r := rand.New(rand.NewPCG(seed, 1))
	px := make([]uint8, n*classifier.Pixels)
	for i := range px {
		px[i] = uint8(r.IntN(256))
	}
	return px
}

// TestAgreesWithLoader: the classifier's logits are, bit for bit, those
// of the model on the dataset loader's batches of the same size, which is
// what eval and the pipeline feed it; batches longer than MaxBatch are cut.
func TestAgreesWithLoader(t *testing.T) {
	const n, batch = 70, 32
	px := randomPixels(n, 3)
	for _, kind := range models {
		c, err := classifier.LoadOptions(modelPath(kind), classifier.Options{MaxBatch: batch})
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind() != kind {
			t.Errorf("kind %q, want %q", c.Kind(), kind)
		}
		got, err := c.ClassifyPixels(px)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("%s: %d predictions, want %d", kind, len(got), n)
		}

		l, err := model.LoadModel(modelPath(kind))
		if err != nil {
			t.Fatal(err)
		}
		mean, std, err := model.PixelNorm(l.Meta)
		if err != nil {
			t.Fatal(err)
		}
		set, err := dataset.NewSet(px, make([]uint8, n))
		if err != nil {
			t.Fatal(err)
		}
		ld := dataset.NewLoader(set, dataset.LoaderConfig{Batch: batch, Mean: mean, Std: std})
		i := 0
		for {
			x, _, ok := ld.Next()
			if !ok {
				break
			}
			lg := l.Predictor.Predict(x)
			k := lg.Shape[1]
			for b := range lg.Shape[0] {
				if want := lg.Data[b*k : (b+1)*k]; !slices.Equal(got[i].Logits, want) {
					t.Fatalf("%s image %d: logits %v, want %v", kind, i, got[i].Logits, want)
				}
				i++
			}
		}
		if i != n {
			t.Fatalf("loader gave %d images", i)
		}
	}
}

// TestInputsAgree: bytes, floats v/255 and a 28×28 gray picture are the
// same image.
func TestInputsAgree(t *testing.T) {
	px := randomPixels(3, 5)
	fl := make([]float32, len(px))
	for i, v := range px {
		fl[i] = float32(v) / 255
	}
	var imgs []image.Image
	for i := range 3 {
		g := image.NewGray(image.Rect(0, 0, 28, 28))
		copy(g.Pix, px[i*classifier.Pixels:])
		imgs = append(imgs, g)
	}
	for _, kind := range models {
		c, err := classifier.Load(modelPath(kind))
		if err != nil {
			t.Fatal(err)
		}
		a, err := c.ClassifyPixels(px)
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.ClassifyFloats(fl)
		if err != nil {
			t.Fatal(err)
		}
		im, err := c.ClassifyImages(imgs, imageprep.Options{Invert: imageprep.InvertNever})
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if !slices.Equal(a[i].Logits, b[i].Logits) || !slices.Equal(a[i].Logits, im[i].Logits) {
				t.Errorf("%s image %d: pixels %v, floats %v, image %v", kind, i, a[i].Logits, b[i].Logits, im[i].Logits)
			}
			if a[i].Prepared != nil || im[i].Prepared == nil || !slices.Equal(im[i].Prepared.Pixels[:], px[i*classifier.Pixels:(i+1)*classifier.Pixels]) {
				t.Errorf("%s image %d: Prepared %v / %v", kind, i, a[i].Prepared, im[i].Prepared)
			}
			sum := 0.0
			for _, p := range a[i].Probs {
				sum += p
			}
			if math.Abs(sum-1) > 1e-12 {
				t.Errorf("%s: probabilities sum to %v", kind, sum)
			}
		}
	}
}

// TestConcurrent: many goroutines on two replicas get the serial results.
// Run with -race.
func TestConcurrent(t *testing.T) {
	for _, kind := range models {
		c, err := classifier.LoadOptions(modelPath(kind), classifier.Options{Replicas: 2, MaxBatch: 4})
		if err != nil {
			t.Fatal(err)
		}
		const workers = 6
		inputs := make([][]uint8, workers)
		want := make([][]classifier.Prediction, workers)
		for w := range workers {
			inputs[w] = randomPixels(4, uint64(w))
			if want[w], err = c.ClassifyPixels(inputs[w]); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for range 5 {
					got, err := c.ClassifyPixels(inputs[w])
					if err != nil {
						t.Error(err)
						return
					}
					for i := range got {
						if !slices.Equal(got[i].Logits, want[w][i].Logits) {
							t.Errorf("%s worker %d image %d: %v, want %v", kind, w, i, got[i].Logits, want[w][i].Logits)
							return
						}
					}
				}
			})
		}
		wg.Wait()
	}
}

func TestBadInput(t *testing.T) {
	c, err := classifier.Load(modelPath("mlp"))
	if err != nil {
		t.Fatal(err)
	}
	fl := make([]float32, classifier.Pixels)
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"short bytes", func() error { _, err := c.ClassifyPixels(make([]uint8, 783)); return err }, "783 pixels, not a multiple of 784"},
		{"short floats", func() error { _, err := c.ClassifyFloats(make([]float32, 785)); return err }, "785 pixels"},
		{"float over 1", func() error { fl[5] = 1.5; _, err := c.ClassifyFloats(fl); return err }, "pixel 5 of image 0 is 1.5"},
		{"NaN", func() error { fl[5] = float32(math.NaN()); _, err := c.ClassifyFloats(fl); return err }, "is NaN"},
		{"negative", func() error { fl[5] = -0.1; _, err := c.ClassifyFloats(fl); return err }, "is -0.1"},
	} {
		err := tc.call()
		if !errors.Is(err, classifier.ErrInput) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInput and %q", tc.name, err, tc.want)
		}
	}
	_, err = c.ClassifyImage(image.NewGray(image.Rectangle{}), imageprep.Options{})
	if !errors.Is(err, imageprep.ErrEmpty) || !strings.HasPrefix(err.Error(), "classifier: image 0: imageprep: ") {
		t.Errorf("empty image: %v", err)
	}
	if ps, err := c.ClassifyPixels(nil); err != nil || len(ps) != 0 {
		t.Errorf("no images: %v, %v", ps, err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	noNorm := filepath.Join(dir, "nonorm.safetensors")
	if err := model.SaveModel(noNorm, nn.MustBuild(nn.Spec{Kind: "mlp", Hidden: []int{4}}, 1), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, want string
	}{
		{filepath.Join(dir, "none.safetensors"), "no such file or directory"},
		{"classifier.go", "checkpoint: classifier.go"},
		{noNorm, "classifier: " + noNorm + ": model: no valid pixel_mean/pixel_std"},
	} {
		if _, err := classifier.Load(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.path, err, tc.want)
		}
	}
}

func TestMetadata(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	m := nn.MustBuild(nn.Spec{Kind: "mlp", Hidden: []int{4}, Classes: 12}, 1)
	if err := model.SaveModel(path, m, map[string]string{"pixel_mean": "0.5", "pixel_std": "0.25", "test_acc": "0.9123"}); err != nil {
		t.Fatal(err)
	}
	c, err := classifier.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if acc, ok := c.TestAccuracy(); !ok || acc != 0.9123 {
		t.Errorf("test accuracy %v %v", acc, ok)
	}
	if mean, std := c.PixelNorm(); mean != 0.5 || std != 0.25 {
		t.Errorf("norm %v %v", mean, std)
	}
	if want := 784*4 + 4 + 4*12 + 12; c.Params() != want {
		t.Errorf("params %d, want %d", c.Params(), want)
	}
	names := c.ClassNames()
	if len(names) != 12 || names[9] != "Ankle boot" || names[11] != "class 11" {
		t.Errorf("names %v", names)
	}
	c2, err := classifier.Load(modelPath("cnn"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c2.TestAccuracy(); ok {
		t.Error("a file without test_acc has a test accuracy")
	}
	c2.Metadata()["kind"] = "changed"
	if c2.Metadata()["kind"] != "cnn" {
		t.Error("Metadata is not a copy")
	}
}

func TestTop(t *testing.T) {
	p := classifier.FromLogits([]float32{1, 3, 3, -2})
	got := p.Top(3)
	if len(got) != 3 || got[0].Class != 1 || got[1].Class != 2 || got[2].Class != 0 || got[0].Name != "Trouser" {
		t.Fatalf("%+v", got)
	}
	e := math.Exp(2)
	if want := e / (1 + 2*e + math.Exp(-3)); math.Abs(got[0].Prob-want) > 1e-12 {
		t.Errorf("prob %v, want %v", got[0].Prob, want)
	}
	if len(p.Top(50)) != 4 || len(p.Top(0)) != 0 {
		t.Error("Top(k) does not clamp k")
	}
	if got := classifier.FromLogits([]float32{1e30, 0}).Top(1); got[0].Prob != 1 {
		t.Errorf("%+v", got)
	}
}
