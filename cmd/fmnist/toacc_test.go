package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/runfolder"
)

// TestToAccuracySameBitsAsTrain: bench --to-accuracy trains what `fmnist
// train cnn` trains with the same flags, epoch for epoch (the same
// validation accuracy and losses), reports when each mark was first
// reached, and stops at the end of the first epoch that reaches the last.
func TestToAccuracySameBitsAsTrain(t *testing.T) {
	needRealData(t)
	if raceEnabled {
		// Four trainings; the code they share with run is raced by the
		// pipeline tests, and this one runs in the plain suite.
		t.Skip("the race build: TestToAccuracySameBitsAsTrain runs in the plain suite")
	}
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "val.json"), []byte(`{"val": 1000}`))
	recipe := []string{"--preset", "quick", "--config", cfg, "--subset", "768", "--epochs", "2", "--data", realData}
	out := filepath.Join(dir, "out")
	var stderr bytes.Buffer
	if code := runTo(append([]string{"train", "cnn", "--out", out}, recipe...), &bytes.Buffer{}, &stderr); code != 0 {
		t.Fatalf("train cnn: exit %d\n%s", code, stderr.String())
	}
	r, err := runfolder.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	want := r.Metrics["cnn"]
	if len(want) != 2 || !(want[1].ValAcc > want[0].ValAcc) {
		t.Fatalf("train cnn records %+v: want 2 epochs, the second better than the first", want)
	}
	bench := func(marks string, extra ...string) toAccReport {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args := append(append([]string{"bench", "--to-accuracy", "--json", "--marks", marks}, recipe...), extra...)
		if code := runTo(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr.String())
		}
		var rep toAccReport
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stdout.String())
		}
		if rep.Model != "cnn" || rep.Preset != "quick" || rep.Images != 768 || !(rep.BenchImgPerS > 0) ||
			!(rep.RealImgPerS > 0) || !(rep.ValShare > 0 && rep.ValShare < 1) {
			t.Errorf("%v: report %+v", args, rep)
		}
		for i, g := range rep.Epochs {
			w := want[i]
			if g.Epoch != w.Epoch || g.ValAcc != w.ValAcc || !close6(g.ValLoss, w.ValLoss) || !close6(g.TrainLoss, w.TrainLoss) {
				t.Errorf("%v: epoch %d: %+v, train cnn's %+v", args, i+1, g, w)
			}
		}
		return rep
	}
	// The last mark reached at the first epoch: it stops there.
	// (A hundredth of a point below it: the accuracy is k/1000, and the
	// mark goes through decimal.)
	rep := bench(fmt.Sprintf("%.4f,1", 100*want[0].ValAcc-0.01))
	if len(rep.Epochs) != 1 || len(rep.Marks) != 2 || rep.Marks[1].Epoch != 1 {
		t.Errorf("stopped after %d epochs, want 1 (mark %.4f%%); marks %+v", len(rep.Epochs), 100*want[0].ValAcc-0.01, rep.Marks)
	}
	// A mark the second epoch reaches and the first does not.
	mark := 100 * (want[0].ValAcc + want[1].ValAcc) / 2
	rep = bench(fmt.Sprintf("%.4f,1", mark))
	if len(rep.Marks) != 2 || rep.Marks[0].Epoch != 1 || rep.Marks[1].Epoch != 2 ||
		rep.Marks[1].Seconds != rep.Epochs[0].Seconds+rep.Epochs[1].Seconds {
		t.Errorf("marks %+v", rep.Marks)
	}
	// A mark never reached: the whole recipe, and epoch 0 for it.
	// And its plot.
	plot := filepath.Join(dir, "tta.svg")
	rep = bench("99.99", "--plot", plot)
	if len(rep.Epochs) != 2 || len(rep.Marks) != 1 || rep.Marks[0].Epoch != 0 {
		t.Errorf("unreached mark: %d epochs, marks %+v", len(rep.Epochs), rep.Marks)
	}
	if svg, err := os.ReadFile(plot); err != nil || !strings.Contains(string(svg), "cnn (quick), seed 1") ||
		!strings.Contains(string(svg), "marks: 99.99%") {
		t.Errorf("--plot: %v, or the plot lacks the run or the mark", err)
	}
}

func close6(a, b float64) bool { return math.Abs(a-b) <= 1e-5*math.Max(1, math.Abs(b)) }

func TestParseMarks(t *testing.T) {
	got, err := parseMarks("94.5, 93,94,93")
	if err != nil || fmt.Sprint(got) != "[0.93 0.94 0.945]" {
		t.Errorf("parseMarks: %v %v", got, err)
	}
	for _, bad := range []string{"", "0", "-1", "100.5", "93,,94", "NaN", "ninety"} {
		if _, err := parseMarks(bad); err == nil {
			t.Errorf("parseMarks(%q): no error", bad)
		}
	}
}

// --plot without --to-accuracy draws earlier runs' JSON, fmnist's and its
// PyTorch twin's, with the marks they were timed to, and trains nothing.
func TestBenchPlotOnly(t *testing.T) {
	dir := t.TempDir()
	fm := writeFile(t, filepath.Join(dir, "fm.json"), []byte(`{"engine": "fmnist 0.1.0", "model": "cnn", "preset": "default",
		"seed": 1, "threads": 2, "marks": [{"mark": 0.88, "epoch": 2, "seconds": 94.7}, {"mark": 0.9, "epoch": 4, "seconds": 188.9}],
		"epochs": [{"epoch": 1, "val_acc": 0.7991, "seconds": 47.7}, {"epoch": 2, "val_acc": 0.8963, "seconds": 47.1},
		{"epoch": 3, "val_acc": 0.8991, "seconds": 47.1}, {"epoch": 4, "val_acc": 0.9157, "seconds": 47.0}]}`))
	torch := writeFile(t, filepath.Join(dir, "torch.json"), []byte(`{"engine": "pytorch 1.13.0a0", "threads": 2,
		"marks": [{"mark": 0.89, "epoch": 2, "seconds": 254.5}],
		"epochs": [{"epoch": 1, "val_acc": 0.7702, "seconds": 147.9}, {"epoch": 2, "val_acc": 0.8939, "seconds": 106.6}]}`))
	out := filepath.Join(dir, "tta.svg")
	var stdout, stderr bytes.Buffer
	if code := runTo([]string{"bench", "--plot", out, "--against", fm + "," + torch}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	svg, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"fmnist 0.1.0, cnn (default), seed 1, 2 threads", "pytorch 1.13.0a0, 2 threads", "marks: 88, 89, 90%"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("the plot lacks %q", want)
		}
	}
	// --marks replaces the runs' marks.
	if code := runTo([]string{"bench", "--plot", out, "--against", fm, "--marks", "91"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if svg, _ = os.ReadFile(out); !strings.Contains(string(svg), "marks: 91%") || strings.Contains(string(svg), "pytorch") {
		t.Error("--marks 91 and one run: the plot has other marks or runs")
	}
	// A JSON without epochs is refused, naming the file.
	empty := writeFile(t, filepath.Join(dir, "empty.json"), []byte(`{"engine": "x"}`))
	stderr.Reset()
	if code := runTo([]string{"bench", "--plot", out, "--against", empty}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), empty+": no epochs") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}
