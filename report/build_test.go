package report_test

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/report"
	"github.com/fmnist/fmnist/report/reporttest"
)

// newRun writes a fixture run folder and returns its path.
func newRun(t *testing.T, s reporttest.Spec) (string, *reporttest.Run) {
	t.Helper()
	return reporttest.TempRun(t, s)
}

func opts(r *reporttest.Run) report.Options {
	return report.Options{Images: r.Images, Labels: r.Labels}
}

// decodePNG decodes a PNG and checks its size.
func decodePNG(t *testing.T, name string, data []byte, w, h int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	b := img.Bounds()
	if (w > 0 && b.Dx() != w) || (h > 0 && b.Dy() != h) {
		t.Errorf("%s: %dx%d, want %dx%d", name, b.Dx(), b.Dy(), w, h)
	}
	return img
}

// xmlTokens parses data strictly as XML and returns its start elements.
func xmlTokens(t *testing.T, name string, data []byte) []xml.StartElement {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var out []xml.StartElement
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			line, _ := d.InputPos()
			t.Fatalf("%s: not well-formed at line %d: %v", name, line, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			out = append(out, se.Copy())
		}
	}
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// nonWhite counts the pixels that are not white: a blank plot has none.
func nonWhite(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			if r < 0xf000 || g < 0xf000 || bb < 0xf000 {
				n++
			}
		}
	}
	return n
}

func TestBuild(t *testing.T) {
	dir, run := newRun(t, reporttest.Spec{Epochs: 5, Images: 300, Seed: 1})
	files, err := report.Build(dir, opts(run))
	if err != nil {
		t.Fatal(err)
	}
	models := []string{"mlp", "cnn", "cnn_mlp"}
	var want []string
	for _, m := range models {
		want = append(want, "plots/"+m+"_curves.png", "plots/"+m+"_curves.svg", "plots/"+m+"_confusion.png",
			"plots/"+m+"_confusion.svg", "plots/"+m+"_errors.png")
	}
	want = append(want, "per_class.csv", "report.html")
	if got, w := slices.Sorted(slices.Values(files)), slices.Sorted(slices.Values(want)); !slices.Equal(got, w) {
		t.Fatalf("Build wrote %v, want %v", got, w)
	}
	read := func(rel string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, m := range models {
		// Sizes follow from the figure sizes at 96 dpi and the grid layout:
		// 36 mistakes in 6 columns of 136-pixel tiles.
		for _, f := range []struct {
			name string
			w, h int
		}{{m + "_curves.png", 1056, 408}, {m + "_confusion.png", 720, 672}, {m + "_errors.png", 840, 0}} {
			img := decodePNG(t, f.name, read("plots/"+f.name), f.w, f.h)
			if b := img.Bounds(); b.Dy() < 200 {
				t.Errorf("%s: height %d, too small", f.name, b.Dy())
			}
			if n := nonWhite(img); n < img.Bounds().Dx()*img.Bounds().Dy()/100 {
				t.Errorf("%s: only %d non-white pixels: blank?", f.name, n)
			}
		}
		for _, f := range []string{m + "_curves.svg", m + "_confusion.svg"} {
			els := xmlTokens(t, f, read("plots/"+f))
			if len(els) == 0 || els[0].Name.Local != "svg" {
				t.Fatalf("%s: root is not <svg>", f)
			}
			// The title and the axis labels are there as text.
			if !bytes.Contains(read("plots/"+f), []byte(m+":")) {
				t.Errorf("%s: no title naming %s", f, m)
			}
		}
	}

	page := read("report.html")
	els := xmlTokens(t, "report.html", page)
	var imgs int
	for _, se := range els {
		if se.Name.Local != "img" {
			continue
		}
		src := attr(se, "src")
		const prefix = "data:image/png;base64,"
		if !strings.HasPrefix(src, prefix) {
			t.Fatalf("img src %.40q is not an embedded PNG", src)
		}
		b, err := base64.StdEncoding.DecodeString(src[len(prefix):])
		if err != nil {
			t.Fatalf("img %q: %v", attr(se, "alt"), err)
		}
		decodePNG(t, attr(se, "alt"), b, 0, 0)
		imgs++
	}
	if imgs != 3*len(models) {
		t.Errorf("page has %d embedded images, want %d", imgs, 3*len(models))
	}
	text := string(page)
	for _, m := range models {
		r := run.Results[m]
		for _, s := range []string{`id="model-` + m + `"`, fmt.Sprintf("%.2f%%", 100*r.TestAcc),
			fmt.Sprintf("%.2f%%", 100*r.ValAcc), ">" + strconv.Itoa(r.BestEpoch) + "<"} {
			if !strings.Contains(text, s) {
				t.Errorf("page lacks %q (model %s)", s, m)
			}
		}
	}
	for _, s := range []string{"Ankle boot", "T-shirt/top", "macro average", "&lt;b&gt;escaped&lt;/b&gt;",
		"test image #0 is the first", "Train img/s counts the training steps only"} {
		if !strings.Contains(text, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	for _, s := range []string{"http://", "https://", "<script", "<b>escaped"} {
		if strings.Contains(text, s) {
			t.Errorf("page contains %q: not self-contained or not escaped", s)
		}
	}
}

// The per_class.csv rows are the scores of the predictions, per model.
func TestPerClassCSV(t *testing.T) {
	dir, run := newRun(t, reporttest.Spec{Models: []string{"cnn", "mlp"}, Epochs: 2, Images: 150, Seed: 2})
	if _, err := report.Build(dir, report.Options{}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, report.PerClassFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"model", "class", "name", "precision", "recall", "f1", "support", "predicted"}; !slices.Equal(rows[0], want) {
		t.Fatalf("header %v, want %v", rows[0], want)
	}
	if len(rows) != 1+2*report.NumClasses {
		t.Fatalf("%d rows, want %d", len(rows), 1+2*report.NumClasses)
	}
	for i, m := range []string{"mlp", "cnn"} { // display order, not spec order
		scores := report.NewConfusion(run.Predictions[m], report.NumClasses).PerClass()
		for k, s := range scores {
			got := rows[1+i*report.NumClasses+k]
			want := []string{m, strconv.Itoa(k), dataset.ClassNames[k], fmt.Sprintf("%.4f", s.Precision),
				fmt.Sprintf("%.4f", s.Recall), fmt.Sprintf("%.4f", s.F1), strconv.Itoa(s.Support), strconv.Itoa(s.Predicted)}
			if !slices.Equal(got, want) {
				t.Errorf("row %v, want %v", got, want)
			}
		}
	}
}

// Building twice gives the same bytes: nothing depends on time or map order.
func TestBuildDeterministic(t *testing.T) {
	dir, run := newRun(t, reporttest.Spec{Epochs: 3, Images: 120, Seed: 3})
	read := func(files []string) map[string][]byte {
		out := map[string][]byte{}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			out[f] = b
		}
		return out
	}
	files, err := report.Build(dir, opts(run))
	if err != nil {
		t.Fatal(err)
	}
	first := read(files)
	files2, err := report.Build(dir, opts(run))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(files, files2) {
		t.Fatalf("second build wrote %v, first %v", files2, files)
	}
	for f, b := range read(files) {
		if !bytes.Equal(b, first[f]) {
			t.Errorf("%s differs between two builds", f)
		}
	}
	// No temporary files are left behind.
	for _, d := range []string{dir, filepath.Join(dir, report.PlotsDir)} {
		ents, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if strings.Contains(e.Name(), ".tmp") {
				t.Errorf("leftover %s", filepath.Join(d, e.Name()))
			}
		}
	}
}

// Any subset of models, and files that disagree on the models, still give
// a page with what there is and notes for what is not.
func TestBuildSubsets(t *testing.T) {
	tests := []struct {
		name     string
		spec     reporttest.Spec
		noImages bool
		want     []string // files that must be written
		absent   []string // files that must not be
		text     []string // in the page
	}{
		{
			name:   "cnn only",
			spec:   reporttest.Spec{Models: []string{"cnn"}},
			want:   []string{"plots/cnn_curves.png", "plots/cnn_confusion.svg", "plots/cnn_errors.png"},
			absent: []string{"plots/mlp_curves.png", "plots/cnn_mlp_errors.png"},
			text:   []string{`id="model-cnn"`},
		},
		{
			name: "mlp without predictions, cnn_mlp without metrics",
			spec: reporttest.Spec{Models: []string{"mlp", "cnn_mlp"}, MetricsModels: []string{"mlp"},
				PredictionModels: []string{"cnn_mlp"}},
			want:   []string{"plots/mlp_curves.png", "plots/cnn_mlp_confusion.png", "plots/cnn_mlp_errors.png"},
			absent: []string{"plots/mlp_confusion.png", "plots/cnn_mlp_curves.png"},
			text:   []string{"No rows in metrics.csv", "No rows in predictions.csv"},
		},
		{
			name:   "model in metrics only",
			spec:   reporttest.Spec{Models: []string{"mlp"}, MetricsModels: []string{"mlp", "cnn"}},
			want:   []string{"plots/cnn_curves.png"},
			absent: []string{"plots/cnn_confusion.png"},
			text:   []string{"not in results.json"},
		},
		{
			name:   "interrupted run",
			spec:   reporttest.Spec{NoResults: true, NoPredictions: true},
			want:   []string{"plots/mlp_curves.png", "plots/cnn_curves.svg", "report.html"},
			absent: []string{"plots/mlp_confusion.png", "plots/cnn_errors.png"},
			text:   []string{"There is no results.json", "There is no predictions.csv"},
		},
		{
			name:     "no test images",
			spec:     reporttest.Spec{Models: []string{"mlp"}},
			noImages: true,
			want:     []string{"plots/mlp_confusion.png"},
			absent:   []string{"plots/mlp_errors.png"},
			text:     []string{"the test images were not given"},
		},
		{
			name: "unknown model name after the known ones",
			spec: reporttest.Spec{Models: []string{"resnet", "mlp"}},
			want: []string{"plots/resnet_curves.png", "plots/resnet_errors.png"},
			text: []string{`<a href="#model-mlp">mlp</a><a href="#model-resnet">resnet</a>`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, run := newRun(t, tc.spec)
			o := opts(run)
			if tc.noImages {
				o.Images = nil
			}
			files, err := report.Build(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tc.want {
				if !slices.Contains(files, f) {
					t.Errorf("%s not written", f)
				}
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Error(err)
				}
			}
			for _, f := range tc.absent {
				if slices.Contains(files, f) {
					t.Errorf("%s written", f)
				}
			}
			page, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
			if err != nil {
				t.Fatal(err)
			}
			xmlTokens(t, "report.html", page)
			for _, s := range tc.text {
				if !bytes.Contains(page, []byte(s)) {
					t.Errorf("page lacks %q", s)
				}
			}
		})
	}
}

// Build checks the run against the test set it is given.
func TestBuildErrors(t *testing.T) {
	dir, run := newRun(t, reporttest.Spec{Models: []string{"cnn"}, Epochs: 1, Images: 50})
	wrongLabels := slices.Clone(run.Labels)
	wrongLabels[7] = (wrongLabels[7] + 1) % report.NumClasses
	tests := []struct {
		name string
		opt  report.Options
		want string
	}{
		{"fewer images than indexed", report.Options{Images: run.Images[:40*784]}, "predictions.csv: model cnn: test index 40, but the test set has 40 images"},
		{"other labels", report.Options{Labels: wrongLabels}, "predictions.csv: model cnn: test image 7 has label"},
		{"partial image", report.Options{Images: run.Images[:100]}, "not a whole number of 28x28 images"},
		{"labels and images disagree", report.Options{Images: run.Images, Labels: run.Labels[:3]}, "3 test labels for 50 test images"},
		{"class names", report.Options{ClassNames: []string{"a", "b"}}, "2 class names, want 10"},
		{"negative mistakes", report.Options{Mistakes: -1}, "mistakes -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := report.Build(dir, tc.opt)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "report: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want one containing %q", err, tc.want)
			}
		})
	}
}

// Options.Mistakes sets the grid's length and ClassNames the names used.
func TestBuildOptions(t *testing.T) {
	dir, run := newRun(t, reporttest.Spec{Models: []string{"mlp"}, Epochs: 1, Images: 300})
	height := func(n int) int {
		t.Helper()
		o := opts(run)
		o.Mistakes = n
		if _, err := report.Build(dir, o); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "plots", "mlp_errors.png"))
		if err != nil {
			t.Fatal(err)
		}
		return decodePNG(t, "mlp_errors.png", b, 840, 0).Bounds().Dy()
	}
	// 7 mistakes in 6 columns take two rows of tiles, 6 take one.
	if h7, h6 := height(7), height(6); h7 <= h6 {
		t.Errorf("7 mistakes: height %d, 6 mistakes: %d; want two rows against one", h7, h6)
	}
	page, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	// A build without images removes the grid an earlier build left.
	if _, err := report.Build(dir, report.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "plots", "mlp_errors.png")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale mlp_errors.png: stat error %v", err)
	}
	if !bytes.Contains(page, []byte("The 6 most confident of")) {
		t.Error("page does not say 6 mistakes are shown")
	}

	o := opts(run)
	o.ClassNames = []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"}
	if _, err := report.Build(dir, o); err != nil {
		t.Fatal(err)
	}
	page, err = os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte("<td>c9</td>")) || bytes.Contains(page, []byte("Ankle boot")) {
		t.Error("class names not used in the per-class table")
	}
}

func TestBuildMissingFolder(t *testing.T) {
	_, err := report.Build(filepath.Join(t.TempDir(), "nope"), report.Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v, want one wrapping os.ErrNotExist", err)
	}
}
