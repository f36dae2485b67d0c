package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/report"
	"github.com/fmnist/fmnist/report/reporttest"
	"github.com/fmnist/fmnist/runfolder"
)

const realData = "/usr/share/datasets/fashion-mnist"

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	if _, err := reporttest.Write(dir, reporttest.Spec{Epochs: 2, Images: 60}); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run([]string{"report", "--no-images", dir}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, f := range []string{report.HTMLFile, report.PerClassFile, "plots/cnn_curves.svg", "plots/mlp_confusion.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "plots/cnn_errors.png")); err == nil {
		t.Error("--no-images wrote a grid of mistakes")
	}
}

// Failures are one line on stderr naming what is wrong; usage errors exit 2.
func TestReportCommandErrors(t *testing.T) {
	good := t.TempDir()
	if _, err := reporttest.Write(good, reporttest.Spec{Models: []string{"cnn"}, Epochs: 1, Images: 10}); err != nil {
		t.Fatal(err)
	}
	corrupt := t.TempDir()
	if _, err := reporttest.Write(corrupt, reporttest.Spec{Models: []string{"cnn"}, Epochs: 1, Images: 10}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(corrupt, runfolder.ResultsFile), []byte("{oops"), 0o644); err != nil {
		t.Fatal(err)
	}
	noMetrics := t.TempDir()
	if _, err := reporttest.Write(noMetrics, reporttest.Spec{Models: []string{"cnn"}, Epochs: 1, Images: 10}); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(noMetrics, runfolder.MetricsFile))
	missing := filepath.Join(t.TempDir(), "nope")

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no folder given", []string{"report"}, 2, "want one run folder, got 0 arguments"},
		{"two folders", []string{"report", good, good}, 2, "want one run folder, got 2 arguments"},
		{"bad flag", []string{"report", "--colour", good}, 2, "flag provided but not defined"},
		{"zero mistakes", []string{"report", "--mistakes", "0", good}, 2, "--mistakes 0"},
		{"missing folder", []string{"report", "--no-images", missing}, 1, "run folder: stat " + missing},
		{"missing metrics", []string{"report", "--no-images", noMetrics}, 1, filepath.Join(noMetrics, runfolder.MetricsFile) + ": no such file"},
		{"corrupt results", []string{"report", "--no-images", corrupt}, 1, filepath.Join(corrupt, runfolder.ResultsFile) + ": not valid JSON"},
		{"data folder without the files", []string{"report", "--data", t.TempDir(), good}, 1, "test images: dataset:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(tc.args, &stderr)
			msg := stderr.String()
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, msg)
			}
			first, _, _ := strings.Cut(msg, "\n")
			if !strings.HasPrefix(first, "fmnist report: ") || !strings.Contains(first, tc.want) {
				t.Errorf("stderr first line %q, want \"fmnist report: ...%s...\"", first, tc.want)
			}
			if tc.code == 1 && strings.Count(msg, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", msg)
			}
		})
	}
}

// With the real test set: predictions for every test image, and the grids
// drawn from the real images.
func TestReportCommandRealData(t *testing.T) {
	if _, err := os.Stat(filepath.Join(realData, "t10k-images-idx3-ubyte.gz")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dataset missing in CI: %v", err)
		}
		t.Skipf("dataset not installed: %v", err)
	}
	f, err := dataset.Load(dataset.Options{Dir: realData})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := reporttest.Write(dir, reporttest.Spec{Epochs: 3, Labels: f.Test.Labels}); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run([]string{"report", "--data", realData, "--mistakes", "12", dir}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, m := range []string{"mlp", "cnn", "cnn_mlp"} {
		b, err := os.ReadFile(filepath.Join(dir, "plots", m+"_errors.png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if w := img.Bounds().Dx(); w != 840 {
			t.Errorf("%s grid width %d, want 840", m, w)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte("The 12 most confident of")) || !bytes.Contains(page, []byte("10000 test images")) {
		t.Error("page does not describe 12 mistakes over 10000 test images")
	}
}
