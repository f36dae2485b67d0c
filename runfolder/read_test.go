package runfolder_test

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/report/reporttest"
	"github.com/fmnist/fmnist/runfolder"
)

const metricsHead = "model,epoch,train_loss,train_acc,val_loss,val_acc,lr\n"
const timingHead = "model,epoch,img_per_s,seconds\n"
const predsHead = "model,index,label,pred,prob\n"

func TestLoad(t *testing.T) {
	dir, want := newRun(t, reporttest.Spec{Epochs: 3, Images: 40, Seed: 4})
	r, err := runfolder.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Models, ","); got != "mlp,cnn,cnn_mlp" {
		t.Errorf("Models %s, want mlp,cnn,cnn_mlp", got)
	}
	if len(r.Missing) != 0 {
		t.Errorf("Missing %v", r.Missing)
	}
	if !strings.Contains(r.Config, "\n  \"seed\": 1,\n  \"val\": 5000,") {
		t.Errorf("config not indented in file order:\n%s", r.Config)
	}
	for _, m := range r.Models {
		if got, w := r.Results[m], want.Results[m]; got != w {
			t.Errorf("%s: result %+v, want %+v", m, got, w)
		}
		if len(r.Predictions[m]) != 40 {
			t.Fatalf("%s: %d predictions, want 40", m, len(r.Predictions[m]))
		}
		for i, p := range r.Predictions[m] {
			if p != want.Predictions[m][i] {
				t.Fatalf("%s: prediction %d: %+v, want %+v", m, i, p, want.Predictions[m][i])
			}
		}
		for i, e := range r.Metrics[m] {
			w := want.Metrics[m][i]
			// the file holds 6 significant digits
			if e.Epoch != w.Epoch || math.Abs(e.ValAcc-w.ValAcc) > 1e-5 || math.Abs(e.TrainLoss-w.TrainLoss) > 1e-5 {
				t.Errorf("%s: epoch %+v, want %+v", m, e, w)
			}
		}
	}
}

// Rows in any order, extra columns and a NaN loss are accepted.
func TestLoadLenient(t *testing.T) {
	dir, _ := newRun(t, reporttest.Spec{Models: []string{"cnn"}, Epochs: 1, Images: 10})
	write(t, dir, runfolder.MetricsFile, "extra,"+metricsHead+
		"x,cnn,3,0.5,0.8,0.6,0.75,0.1\n"+
		"x,cnn,1,NaN,0.5,+Inf,0.45,0.1\n"+
		"x,cnn,2,0.6,0.7,0.7,0.72,0.1\n")
	r, err := runfolder.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	eps := r.Metrics["cnn"]
	if len(eps) != 3 || eps[0].Epoch != 1 || eps[1].Epoch != 2 || eps[2].Epoch != 3 {
		t.Fatalf("epochs not sorted: %+v", eps)
	}
	if !math.IsNaN(eps[0].TrainLoss) {
		t.Errorf("train loss %v, want NaN", eps[0].TrainLoss)
	}
}

// Timings come from timing.csv; without it the epochs load with zero
// timings.
func TestLoadTiming(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spec   reporttest.Spec
		timing bool
	}{
		{"timing.csv", reporttest.Spec{}, true},
		{"none", reporttest.Spec{NoTiming: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Models, tc.spec.Epochs, tc.spec.Images = []string{"mlp", "cnn"}, 3, 10
			dir, want := newRun(t, tc.spec)
			r, err := runfolder.Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			if r.Timing != tc.timing {
				t.Errorf("Timing %v, want %v", r.Timing, tc.timing)
			}
			for _, m := range r.Models {
				for i, e := range r.Metrics[m] {
					w := want.Metrics[m][i]
					if !tc.timing {
						w.ImgPerS, w.Seconds = 0, 0
					}
					if math.Abs(e.ImgPerS-w.ImgPerS) > 0.5 || math.Abs(e.Seconds-w.Seconds) > 1e-4 {
						t.Errorf("%s epoch %d: %v img/s %v s, want %v and %v", m, e.Epoch, e.ImgPerS, e.Seconds, w.ImgPerS, w.Seconds)
					}
				}
			}
		})
	}
	// A timing row for an epoch metrics.csv lacks is ignored.
	dir, _ := newRun(t, reporttest.Spec{Models: []string{"cnn"}, Epochs: 1, Images: 10})
	write(t, dir, runfolder.TimingFile, timingHead+"cnn,1,100,2\ncnn,2,100,2\nmlp,1,5,5\n")
	r, err := runfolder.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if e := r.Metrics["cnn"]; len(e) != 1 || e[0].Seconds != 2 || len(r.Metrics["mlp"]) != 0 {
		t.Errorf("metrics %+v", r.Metrics)
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		file   string // file to replace (or remove when content is "-")
		body   string
		want   string // in the message, after the file's path
		format bool   // wraps ErrFormat (else fs.ErrNotExist)
	}{
		{"no metrics", runfolder.MetricsFile, "-", "metrics.csv: no such file", false},
		{"config not JSON", runfolder.ConfigFile, "{seed: 1}", "config.json: not a JSON object", true},
		{"config an array", runfolder.ConfigFile, "[1, 2]", "config.json: not a JSON object: a JSON array", true},
		{"config null", runfolder.ConfigFile, "null", "config.json: not a JSON object: null", true},
		{"metrics empty", runfolder.MetricsFile, "", "metrics.csv: empty file", true},
		{"metrics header lacks a column", runfolder.MetricsFile, "model,epoch\ncnn,1\n", `metrics.csv: line 1: header has no column "train_loss"`, true},
		{"metrics short row", runfolder.MetricsFile, metricsHead + "cnn,1,0.5,0.8,0.6,0.75,0.1\ncnn,2,0.4\n", "metrics.csv: line 3: wrong number of fields", true},
		{"metrics bare quote", runfolder.MetricsFile, metricsHead + "cnn,1,0.5,0\"8,0.6,0.75,0.1\n", "metrics.csv: line 2: bare \" in non-quoted-field", true},
		{"metrics not a number", runfolder.MetricsFile, metricsHead + "cnn,1,0.5,0.8,0.6,abc,0.1\n", `metrics.csv: line 2: val_acc "abc" is not a number`, true},
		{"metrics epoch not an integer", runfolder.MetricsFile, metricsHead + "cnn,1.5,0.5,0.8,0.6,0.7,0.1\n", `metrics.csv: line 2: epoch "1.5" is not an integer`, true},
		{"metrics accuracy in percent", runfolder.MetricsFile, metricsHead + "cnn,1,0.5,91.5,0.6,0.7,0.1\n", "metrics.csv: line 2: train_acc 91.5 outside [0, 1] (accuracies are fractions)", true},
		{"metrics NaN accuracy", runfolder.MetricsFile, metricsHead + "cnn,1,0.5,0.9,0.6,NaN,0.1\n", "metrics.csv: line 2: val_acc NaN outside [0, 1]", true},
		{"metrics negative lr", runfolder.MetricsFile, metricsHead + "cnn,1,0.5,0.9,0.6,0.8,-0.1\n", "metrics.csv: line 2: lr -0.1: want a finite number >= 0", true},
		{"timing negative seconds", runfolder.TimingFile, timingHead + "cnn,1,100,-1\n", "timing.csv: line 2: seconds -1: want a finite number >= 0", true},
		{"timing not a number", runfolder.TimingFile, timingHead + "cnn,1,fast,1\n", `timing.csv: line 2: img_per_s "fast" is not a number`, true},
		{"timing header lacks a column", runfolder.TimingFile, "model,epoch,seconds\ncnn,1,1\n", `timing.csv: line 1: header has no column "img_per_s"`, true},
		{"timing duplicate epoch", runfolder.TimingFile, timingHead + "cnn,1,100,1\ncnn,1,100,1\n", "timing.csv: line 3: model cnn: epoch 1 appears twice", true},
		{"timing empty", runfolder.TimingFile, "", "timing.csv: empty file", true},
		{"metrics duplicate epoch", runfolder.MetricsFile, metricsHead + "cnn,1,0.5,0.8,0.6,0.7,0.1\ncnn,2,0.5,0.8,0.6,0.7,0.1\ncnn,1,0.5,0.8,0.6,0.7,0.1\n", "metrics.csv: line 4: model cnn: epoch 1 appears twice", true},
		{"metrics model name with a path", runfolder.MetricsFile, metricsHead + "../cnn,1,0.5,0.8,0.6,0.7,0.1\n", `metrics.csv: line 2: model name "../cnn"`, true},
		{"results not JSON", runfolder.ResultsFile, "mlp: 0.9", "results.json: not valid JSON", true},
		{"results truncated", runfolder.ResultsFile, `{"mlp": {"test_acc": 0.9`, "results.json: not valid JSON", true},
		{"results an array", runfolder.ResultsFile, `[{"test_acc": 0.9}]`, "results.json: not valid JSON for results: the top level is a JSON array, want an object", true},
		{"results null", runfolder.ResultsFile, `null`, "results.json: null", true},
		{"results field of the wrong type", runfolder.ResultsFile, `{"mlp": {"params": "many"}}`, "results.json: not valid JSON for results: params is a JSON string, want a number", true},
		{"results accuracy out of range", runfolder.ResultsFile, `{"mlp": {"test_acc": 91.2}}`, "results.json: mlp: test_acc 91.2 outside [0, 1]", true},
		{"results bad model name", runfolder.ResultsFile, `{"a/b": {}}`, `results.json: model name "a/b"`, true},
		{"predictions label out of range", runfolder.PredictionsFile, predsHead + "cnn,0,10,1,0.9\n", "predictions.csv: line 2: label 10 outside [0, 9]", true},
		{"predictions negative index", runfolder.PredictionsFile, predsHead + "cnn,-1,1,1,0.9\n", "predictions.csv: line 2: index -1: want >= 0", true},
		{"predictions prob over 1", runfolder.PredictionsFile, predsHead + "cnn,0,1,1,1.2\n", "predictions.csv: line 2: prob 1.2 outside [0, 1]", true},
		{"predictions duplicate index", runfolder.PredictionsFile, predsHead + "cnn,0,1,1,0.9\ncnn,5,1,1,0.9\ncnn,0,1,2,0.9\n", "predictions.csv: line 4: model cnn: test index 0 already on line 2", true},
		{"predictions long row", runfolder.PredictionsFile, predsHead + "cnn,0,1,1,0.9,7\n", "predictions.csv: line 2: wrong number of fields", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := newRun(t, reporttest.Spec{Models: []string{"cnn"}, Epochs: 1, Images: 10})
			if tc.body == "-" {
				if err := os.Remove(filepath.Join(dir, tc.file)); err != nil {
					t.Fatal(err)
				}
			} else {
				write(t, dir, tc.file, tc.body)
			}
			_, err := runfolder.Read(dir)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "runfolder: ") || !strings.Contains(msg, filepath.Join(dir, tc.want)) {
				t.Errorf("error %q\nwant it to contain %q", msg, filepath.Join(dir, tc.want))
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q spans lines", msg)
			}
			if got := errors.Is(err, runfolder.ErrFormat); got != tc.format {
				t.Errorf("errors.Is(err, ErrFormat) = %v, want %v", got, tc.format)
			}
			if got := errors.Is(err, fs.ErrNotExist); got == tc.format {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v", got, !tc.format)
			}
		})
	}
}

func TestLoadNotAFolder(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "f", "x")
	_, err := runfolder.Read(filepath.Join(dir, "f"))
	want := filepath.Join(dir, "f") + " is not a run folder (a file, not a folder); give the folder a `fmnist run` wrote"
	if err == nil || err.Error() != want || !errors.Is(err, runfolder.ErrNotRunFolder) {
		t.Errorf("error %v, want %s", err, want)
	}
	_, err = runfolder.Read(filepath.Join(dir, "missing"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "runfolder: run folder: ") {
		t.Errorf("error %v, want a runfolder: run folder: error wrapping fs.ErrNotExist", err)
	}
}

// Every proper prefix of a run file fails with ErrFormat, except where a
// prefix is itself a complete file: a JSON file without its trailing
// newline, and a CSV file cut at the end of a line, which is a run stopped
// earlier (fewer epochs or predictions, each row whole). Those load, with
// the rows of the prefix.
func TestLoadTruncated(t *testing.T) {
	dir, _ := newRun(t, reporttest.Spec{Models: []string{"mlp", "cnn"}, Epochs: 3, Images: 12})
	step := 1
	if testing.Short() {
		step = 7
	}
	rows := func(r *runfolder.Run, name string) int {
		n := 0
		for _, m := range r.Models {
			switch name {
			case runfolder.MetricsFile:
				n += len(r.Metrics[m])
			case runfolder.PredictionsFile:
				n += len(r.Predictions[m])
			}
		}
		return n
	}
	for _, name := range []string{runfolder.ConfigFile, runfolder.MetricsFile, runfolder.TimingFile, runfolder.ResultsFile, runfolder.PredictionsFile} {
		full, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		csv := strings.HasSuffix(name, ".csv")
		loaded := 0
		for n := 0; n < len(full); n++ {
			// Every prefix near an end of line, and every step-th.
			if n%step != 0 && !strings.Contains(string(full[max(n-1, 0):min(n+2, len(full))]), "\n") {
				continue
			}
			prefix := full[:n]
			write(t, dir, name, string(prefix))
			r, err := runfolder.Read(dir)
			whole := !csv && strings.TrimSpace(string(full[n:])) == "" ||
				csv && n > 0 && prefix[n-1] == '\n'
			switch {
			case !whole && !errors.Is(err, runfolder.ErrFormat):
				t.Fatalf("%s cut at %d of %d: err = %v, want ErrFormat", name, n, len(full), err)
			case whole && err != nil:
				t.Fatalf("%s cut after a whole line at %d: %v", name, n, err)
			case whole:
				loaded++
				if got, want := rows(r, name), strings.Count(string(prefix), "\n")-1; csv && name != runfolder.TimingFile && got != want {
					t.Fatalf("%s cut at %d: %d rows, want %d", name, n, got, want)
				}
			}
		}
		if loaded == 0 {
			t.Errorf("%s: no prefix loaded: the test checks nothing of the whole-line cuts", name)
		}
		write(t, dir, name, string(full))
	}
}

func FuzzLoadMetrics(f *testing.F) {
	f.Add([]byte(metricsHead + "cnn,1,0.5,0.8,0.6,0.75,0.1\n"))
	f.Add([]byte(metricsHead + "cnn,1,NaN,0.8,Inf,0.75,0.1\ncnn,1,0.5,0.8,0.6,0.75,0.1\n"))
	f.Add([]byte("model,epoch\n\"a\nb\",1\n"))
	fuzzFile(f, runfolder.MetricsFile)
}

func FuzzLoadTiming(f *testing.F) {
	f.Add([]byte(timingHead + "cnn,1,100,1\n"))
	f.Add([]byte(timingHead + "cnn,1,100,1\ncnn,2,Inf,1\nmlp,1,5,5\n"))
	fuzzFile(f, runfolder.TimingFile)
}

func FuzzLoadPredictions(f *testing.F) {
	f.Add([]byte(predsHead + "cnn,0,1,1,0.9\ncnn,1,2,3,0.5\n"))
	f.Add([]byte(predsHead + "cnn,0,1,1,0.9\ncnn,0,1,1,0.9\n"))
	fuzzFile(f, runfolder.PredictionsFile)
}

func FuzzLoadResults(f *testing.F) {
	f.Add([]byte(`{"mlp": {"test_acc": 0.9, "params": 10, "best_epoch": 2}}`))
	f.Add([]byte(`{}`))
	fuzzFile(f, runfolder.ResultsFile)
}

// fuzzFile loads a run folder whose file name holds the fuzzed bytes: the
// result is a run or an ErrFormat error, and a run loaded is well formed.
func fuzzFile(f *testing.F, name string) {
	dir := f.TempDir()
	if _, err := reporttest.Write(dir, reporttest.Spec{Models: []string{"cnn"}, Epochs: 1, Images: 5}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		write(t, dir, name, string(data))
		r, err := runfolder.Read(dir)
		if err != nil {
			if !errors.Is(err, runfolder.ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		for _, m := range r.Models {
			if strings.ContainsAny(m, "/\\.") || m == "" {
				t.Fatalf("model name %q accepted", m)
			}
			for _, p := range r.Predictions[m] {
				if p.Label >= dataset.Classes || p.Pred >= dataset.Classes || !(p.Prob >= 0 && p.Prob <= 1) {
					t.Fatalf("bad prediction accepted: %+v", p)
				}
			}
		}
	})
}

func newRun(t *testing.T, s reporttest.Spec) (string, *reporttest.Run) {
	t.Helper()
	return reporttest.TempRun(t, s)
}

// A folder without config.json, such as a run's plots/ or an empty one,
// is refused in a user's words, whatever else it holds.
func TestReadNotARunFolder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string // besides none: a folder holding these
	}{
		{"empty", nil},
		{"other files", []string{"notes.txt", "a.png"}},
		{"metrics only", []string{runfolder.MetricsFile}},
		{"results and predictions", []string{runfolder.ResultsFile, runfolder.PredictionsFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tc.files {
				write(t, dir, f, "x")
			}
			_, err := runfolder.Read(dir)
			want := dir + " is not a run folder (no config.json); give the folder a `fmnist run` wrote"
			if err == nil || err.Error() != want {
				t.Fatalf("error %v\nwant %s", err, want)
			}
			if !errors.Is(err, runfolder.ErrNotRunFolder) || !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %v does not match ErrNotRunFolder and fs.ErrNotExist", err)
			}
		})
	}
}

func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte(`{"seed": 1, "mlp": {"model": {"hidden": [32]}}}` + "\n"))
	f.Add([]byte("\ufeff{}"))
	f.Add([]byte(`[1]`))
	fuzzFile(f, runfolder.ConfigFile)
}
