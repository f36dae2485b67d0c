package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/pipeline"
)

// tinyRun trains the three models of the pipeline, tiny and for one epoch,
// on the data in dir, and returns the run folder.
func tinyRun(t *testing.T, f *dataset.Fashion, val, subset int) string {
	t.Helper()
	cfg := pipeline.DefaultConfig()
	cfg.Val, cfg.Subset = val, subset
	cfg.MLP.Spec = nn.Spec{Kind: "mlp", Hidden: []int{16}, Dropout: 0.2}
	cfg.CNN.Spec = nn.Spec{Kind: "cnn", Widths: []int{4, 8, 8}, PoolAfter: []int{0, 1}, BatchNorm: true}
	cfg.CNNMLP.Spec = nn.Spec{Kind: "mlp", Hidden: []int{16}, Dropout: 0.3}
	for _, st := range []*pipeline.Stage{&cfg.MLP, &cfg.CNN, &cfg.CNNMLP} {
		st.Train.Epochs, st.Train.Batch = 1, 32
	}
	sp, err := pipeline.Prepare(f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	p := &pipeline.Pipeline{Config: cfg, Data: sp, Out: out}
	if _, err := p.Run(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkAgreement exports the first n test items, predicts them with each
// model of run, and checks the classes and logits against the model's
// own on the dataset's items.
func checkAgreement(t *testing.T, f *dataset.Fashion, dataArgs []string, run string, n int) {
	t.Helper()
	imgDir := filepath.Join(t.TempDir(), "images")
	var out, log bytes.Buffer
	if err := dataMain(append(append([]string{"export"}, dataArgs...), "--split", "test", "--n", "20", imgDir), &out, &log); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(imgDir, "*.png"))
	if err != nil || len(files) != n {
		t.Fatalf("%d files exported (%v), want %d", len(files), err, n)
	}
	for _, kind := range []string{"mlp", "cnn", "cnn_mlp"} {
		path := filepath.Join(run, kind+".safetensors")
		out.Reset()
		if err := predictMain(append([]string{"--json", "--logits", "--top", "10", path}, files...), &out, &log); err != nil {
			t.Fatalf("%s: %v\n%s", kind, err, log.String())
		}
		var got predOutput
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Kind != kind || len(got.Images) != n {
			t.Fatalf("%s: kind %q, %d images", kind, got.Kind, len(got.Images))
		}

		l, err := model.LoadModel(path)
		if err != nil {
			t.Fatal(err)
		}
		mean, std, err := model.PixelNorm(l.Meta)
		if err != nil {
			t.Fatal(err)
		}
		ld := dataset.NewLoader(f.Test.Subset(n), dataset.LoaderConfig{Batch: 500, Mean: mean, Std: std})
		x, _, _ := ld.Next()
		want := l.Predictor.Predict(x)
		classes := want.Shape[1]
		for i, im := range got.Images {
			row := want.Data[i*classes : (i+1)*classes]
			wantClass := 0
			for j, v := range row {
				if v > row[wantClass] {
					wantClass = j
				}
			}
			if im.File != files[i] || im.Error != "" || im.Inverted || len(im.Top) != classes {
				t.Fatalf("%s image %d: %+v", kind, i, im)
			}
			if im.Top[0].Class != wantClass {
				t.Errorf("%s: %s predicted %d, the model gives item %d class %d", kind, im.File, im.Top[0].Class, i, wantClass)
			}
			for j, v := range row {
				if math.Abs(float64(im.Logits[j]-v)) > 1e-5 {
					t.Errorf("%s: %s logit %d = %v, model %v", kind, im.File, j, im.Logits[j], v)
				}
			}
		}
	}
}

// TestPredictAgreesTiny runs export, predict and the model side by side on
// a made-up dataset; it runs everywhere.
func TestPredictAgreesTiny(t *testing.T) {
	dir := tinyData(t)
	f, err := dataset.Load(dataset.Options{Dir: dir, NoVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	run := tinyRun(t, f, 10, 0)
	checkAgreement(t, f, []string{"--data", dir, "--no-verify"}, run, 20)
}

// TestPredictAgreesReal does it on real test items with models trained on
// 300 real images. It skips without the dataset, and fails in CI.
func TestPredictAgreesReal(t *testing.T) {
	needRealData(t)
	f, err := dataset.Load(dataset.Options{Dir: dataset.DebianDir})
	if err != nil {
		t.Fatal(err)
	}
	// Keep the test set's evaluations short: the pipeline scores every
	// model on all of it.
	f.Test = f.Test.Subset(500)
	run := tinyRun(t, f, 500, 300)
	checkAgreement(t, f, []string{"--data", dataset.DebianDir}, run, 20)
}

// savedModel writes an untrained small cnn with the metadata of a run.
func savedModel(t *testing.T) string {
	t.Helper()
	m, err := nn.Build(nn.Spec{Kind: "cnn", Widths: []int{4, 4}, PoolAfter: []int{0}}, 7)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cnn.safetensors")
	if err := model.SaveModel(path, m, map[string]string{"pixel_mean": "0.286", "pixel_std": "0.353"}); err != nil {
		t.Fatal(err)
	}
	return path
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// shoe is a dark shape on a white 90×60 picture.
func shoe() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 90, 60))
	for y := range 60 {
		for x := range 90 {
			c := color.RGBA{255, 255, 255, 255}
			if y > 30 && y < 50 && x > 10 && x < 80 || y > 10 && y <= 30 && x > 50 && x < 80 {
				c = color.RGBA{60, 30, 20, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func TestPredictOutput(t *testing.T) {
	model := savedModel(t)
	dir := t.TempDir()
	photo := filepath.Join(dir, "shoe.png")
	writePNG(t, photo, shoe())

	var out, log bytes.Buffer
	if err := predictMain([]string{model, photo}, &out, &log); err != nil {
		t.Fatal(err)
	}
	line := out.String()
	if !strings.HasPrefix(line, photo+" (inverted): ") || strings.Count(line, "\n") != 1 || strings.Count(line, ", ") != 2 {
		t.Errorf("text output %q", line)
	}

	for _, c := range []struct {
		args    []string
		top     int
		invert  bool
		hasLogs bool
	}{
		{[]string{"--json"}, 3, true, false},
		{[]string{"--json", "--top", "5", "--invert", "no"}, 5, false, false},
		{[]string{"--json", "--top", "50", "--logits", "--invert", "yes"}, 10, true, true},
	} {
		out.Reset()
		if err := predictMain(append(c.args, model, photo), &out, &log); err != nil {
			t.Fatal(err)
		}
		var got predOutput
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Model != model || got.Kind != "cnn" || len(got.Images) != 1 {
			t.Fatalf("%v: %+v", c.args, got)
		}
		im := got.Images[0]
		if len(im.Top) != c.top || im.Inverted != c.invert || (len(im.Logits) == 10) != c.hasLogs {
			t.Errorf("%v: %+v", c.args, im)
		}
		sum := 0.0
		for j, p := range im.Top {
			if p.Name != dataset.ClassNames[p.Class] || j > 0 && p.Prob > im.Top[j-1].Prob {
				t.Errorf("%v: top %+v", c.args, im.Top)
			}
			sum += p.Prob
		}
		if sum > 1+1e-9 || c.top == 10 && math.Abs(sum-1) > 1e-9 {
			t.Errorf("%v: probabilities sum to %v", c.args, sum)
		}
	}
}

// TestPredictBadImages: each unreadable picture is one stderr line naming
// it, the others are still classified, and the error (exit 1) comes at the
// end.
func TestPredictBadImages(t *testing.T) {
	model := savedModel(t)
	dir := t.TempDir()
	good1, good2 := filepath.Join(dir, "a.png"), filepath.Join(dir, "z.png")
	writePNG(t, good1, shoe())
	writePNG(t, good2, image.NewGray(image.Rect(0, 0, 28, 28)))
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not a picture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, shoe()); err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.png")
	if err := os.WriteFile(cut, b.Bytes()[:b.Len()/2], 0o644); err != nil {
		t.Fatal(err)
	}
	missing, folder := filepath.Join(dir, "missing.jpg"), filepath.Join(dir, "sub")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{good1, text, missing, folder, cut, good2}
	wantErrs := map[string]string{
		text:    "not a PNG, JPEG or GIF image",
		missing: "no such file or directory",
		folder:  "is a folder, not an image",
		cut:     "corrupt image",
	}
	for _, asJSON := range []bool{false, true} {
		var out, log bytes.Buffer
		a := append([]string{model}, args...)
		if asJSON {
			a = append([]string{"--json"}, a...)
		}
		err := predictMain(a, &out, &log)
		if err == nil || errors.Is(err, errUsage) || err.Error() != "4 of 6 images could not be read" {
			t.Fatalf("json %v: err %v", asJSON, err)
		}
		lines := strings.Split(strings.TrimSpace(log.String()), "\n")
		if len(lines) != 4 {
			t.Fatalf("json %v: stderr %q", asJSON, log.String())
		}
		for _, l := range lines {
			ok := false
			for f, msg := range wantErrs {
				ok = ok || strings.HasPrefix(l, "fmnist predict: imageprep: ") && strings.Contains(l, f) && strings.Contains(l, msg)
			}
			if !ok {
				t.Errorf("json %v: stderr line %q", asJSON, l)
			}
		}
		if !asJSON {
			got := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(got) != 2 || !strings.HasPrefix(got[0], good1+" (inverted): ") || !strings.HasPrefix(got[1], good2+": ") {
				t.Errorf("stdout %q", out.String())
			}
			continue
		}
		var got predOutput
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		var files []string
		for i, im := range got.Images {
			files = append(files, im.File)
			bad, isBad := wantErrs[im.File]
			if isBad != (im.Error != "") || isBad && !strings.Contains(im.Error, bad) || isBad == (len(im.Top) == 3) {
				t.Errorf("image %d: %+v", i, im)
			}
		}
		if !slices.Equal(files, args) {
			t.Errorf("files %v, want %v", files, args)
		}
	}
}

func TestPredictUsage(t *testing.T) {
	model := savedModel(t)
	for _, c := range []struct {
		args  []string
		usage bool
		msg   string
	}{
		{nil, true, "want a model file and at least one image, got 0 arguments"},
		{[]string{model}, true, "got 1 arguments"},
		{[]string{"--invert", "maybe", model, "x.png"}, true, `--invert "maybe": want auto, yes or no`},
		{[]string{"--top", "0", model, "x.png"}, true, "--top 0: want 1 or more"},
		{[]string{"--logits", model, "x.png"}, true, "--logits needs --json"},
		{[]string{"--bogus", model, "x.png"}, true, "flag provided but not defined: -bogus"},
		{[]string{filepath.Join(t.TempDir(), "none.safetensors"), "x.png"}, false, "no such file or directory"},
		{[]string{"/etc/hostname", "x.png"}, false, "checkpoint: /etc/hostname"},
	} {
		var out, log bytes.Buffer
		err := predictMain(c.args, &out, &log)
		if err == nil || errors.Is(err, errUsage) != c.usage || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%v: %v, want usage %v and %q", c.args, err, c.usage, c.msg)
		}
	}
}

func TestTopClasses(t *testing.T) {
	got := topClasses([]float32{1, 3, 3, -2}, 3)
	if len(got) != 3 || got[0].Class != 1 || got[1].Class != 2 || got[2].Class != 0 {
		t.Fatalf("%+v", got)
	}
	e := math.Exp(2)
	if want := e / (1 + 2*e + math.Exp(-3)); math.Abs(got[0].Prob-want) > 1e-12 || got[0].Prob != got[1].Prob {
		t.Errorf("prob %v, want %v", got[0].Prob, want)
	}
	// Huge logits do not overflow.
	if got := topClasses([]float32{1e30, 0}, 1); got[0].Prob != 1 {
		t.Errorf("%+v", got)
	}
}
