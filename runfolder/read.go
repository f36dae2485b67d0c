package runfolder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/internal/safefile"
	"github.com/fmnist/fmnist/model"
)

// ErrFormat is wrapped by every error about the content of a run file, as
// opposed to its absence (fs.ErrNotExist) or a failure to read it.
var ErrFormat = errors.New("malformed run file")

// formatError is a content error: it reads as its message alone and matches
// ErrFormat, so messages stay one short line.
type formatError struct{ msg string }

func (e *formatError) Error() string        { return e.msg }
func (e *formatError) Is(target error) bool { return target == ErrFormat }

// badf returns a content error naming the file and, when line > 0, the line.
// clip shortens a value read from a file for an error message: a field
// can be megabytes long.
func clip(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + fmt.Sprintf("... (%d bytes)", len(s))
}

// ContentError is an error about the content of the run file path (at
// line, when > 0), matching ErrFormat, for the checks a reader adds to
// Read's. Long string arguments are clipped; the caller adds its package.
func ContentError(path string, line int, format string, args ...any) error {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = clip(s)
		}
	}
	inner := &formatError{fmt.Sprintf(format, args...)}
	if line > 0 {
		return fmt.Errorf("%s: line %d: %w", path, line, inner)
	}
	return fmt.Errorf("%s: %w", path, inner)
}

func badf(path string, line int, format string, args ...any) error {
	return fmt.Errorf("runfolder: %w", ContentError(path, line, format, args...))
}

// Run is the parsed content of a run folder.
type Run struct {
	Dir string
	// Config is config.json, indented, keys in the file's order.
	Config string
	// Models lists every model named in any file: mlp, cnn, cnn_mlp first,
	// in that order, then any others sorted by name.
	Models []string
	// Metrics holds each model's epochs sorted by epoch number, with
	// ImgPerS and Seconds from timing.csv (zero when it has none).
	// Accuracies are fractions.
	Metrics map[string][]fit.Record
	// Results is results.json.
	Results map[string]Result
	// Predictions holds each model's rows sorted by test index.
	Predictions map[string][]Prediction
	// Missing lists the optional files that are absent: results.json and
	// predictions.csv, which a run writes only when it finishes.
	Missing []string
	// Timing is true when timing.csv gave the epochs' speeds.
	Timing bool
}

// validModel reports whether name is safe to use in a file name.
func validModel(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// ErrNotRunFolder is matched by Read's error for a file, or a folder
// without config.json, the one file every run writes first.
var ErrNotRunFolder = errors.New("not a run folder")

// notRunFolder says, in a user's words, what to give instead.
type notRunFolder struct{ dir, why string }

func (e *notRunFolder) Error() string {
	return fmt.Sprintf("%s is not a run folder (%s); give the folder a `fmnist run` wrote", e.dir, e.why)
}
func (e *notRunFolder) Is(target error) bool {
	return target == ErrNotRunFolder || target == fs.ErrNotExist
}

// Read reads and checks the files of the run folder dir. config.json and
// metrics.csv must be there; results.json and predictions.csv may be absent
// (see Run.Missing). A folder without config.json gives an error matching
// ErrNotRunFolder, another missing required file one wrapping
// fs.ErrNotExist, bad content one wrapping ErrFormat; all name the file.
func Read(dir string) (*Run, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("runfolder: run folder: %w", err)
	}
	if !st.IsDir() {
		return nil, &notRunFolder{dir, "a file, not a folder"}
	}
	r := &Run{Dir: dir}
	if r.Config, err = loadConfig(filepath.Join(dir, ConfigFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, &notRunFolder{dir, "no " + ConfigFile}
	} else if err != nil {
		return nil, err
	}
	if r.Metrics, err = loadMetrics(filepath.Join(dir, MetricsFile)); err != nil {
		return nil, err
	}
	// timing.csv is optional: speeds are nice to have, not the run's result.
	if r.Timing, err = loadTiming(filepath.Join(dir, TimingFile), r.Metrics); err != nil {
		return nil, err
	}
	// An interrupted run has metrics but no results or predictions yet: its
	// curves are still worth a report.
	if r.Results, err = loadResults(filepath.Join(dir, ResultsFile)); errors.Is(err, fs.ErrNotExist) {
		r.Missing = append(r.Missing, ResultsFile)
	} else if err != nil {
		return nil, err
	}
	if r.Predictions, err = loadPredictions(filepath.Join(dir, PredictionsFile)); errors.Is(err, fs.ErrNotExist) {
		r.Missing = append(r.Missing, PredictionsFile)
	} else if err != nil {
		return nil, err
	}
	r.Models = modelOrder(r)
	return r, nil
}

// ReadResults reads the results.json of the run folder dir alone, checked
// as Read checks it.
func ReadResults(dir string) (map[string]Result, error) {
	return loadResults(filepath.Join(dir, ResultsFile))
}

func modelOrder(r *Run) []string {
	seen := map[string]bool{}
	for m := range r.Metrics {
		seen[m] = true
	}
	for m := range r.Results {
		seen[m] = true
	}
	for m := range r.Predictions {
		seen[m] = true
	}
	var out, rest []string
	for _, m := range model.Names {
		if seen[m] {
			out = append(out, m)
			delete(seen, m)
		}
	}
	for m := range seen {
		rest = append(rest, m)
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// Limits on the files of a run folder: far above what a run writes
// (predictions.csv of three models is about 1 MB).
const (
	maxJSONBytes = 16 << 20
	maxCSVBytes  = 256 << 20
)

func loadConfig(path string) (string, error) {
	b, err := safefile.ReadFile(path, maxJSONBytes)
	if err != nil {
		return "", fmt.Errorf("runfolder: %w", err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return "", badf(path, 0, "not a JSON object: a JSON %s", te.Value)
		}
		return "", badf(path, 0, "not a JSON object: %v", err)
	}
	if obj == nil {
		return "", badf(path, 0, "not a JSON object: null")
	}
	var out bytes.Buffer
	if err := json.Indent(&out, bytes.TrimSpace(b), "", "  "); err != nil {
		return "", badf(path, 0, "not a JSON object: %v", err)
	}
	return out.String(), nil
}

func loadResults(path string) (map[string]Result, error) {
	b, err := safefile.ReadFile(path, maxJSONBytes)
	if err != nil {
		return nil, fmt.Errorf("runfolder: %w", err)
	}
	var res map[string]Result
	if err := json.Unmarshal(b, &res); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			where := "the top level"
			if te.Field != "" {
				where = te.Field
			}
			return nil, badf(path, 0, "not valid JSON for results: %s is a JSON %s, want %s", where, te.Value, jsonKind(te.Type))
		}
		return nil, badf(path, 0, "not valid JSON: %v", err)
	}
	if res == nil {
		return nil, badf(path, 0, "null, want an object")
	}
	names := make([]string, 0, len(res))
	for m := range res {
		names = append(names, m)
	}
	slices.Sort(names) // report the first bad model deterministically
	for _, m := range names {
		v := res[m]
		if !validModel(m) {
			return nil, badf(path, 0, "model name %q: want letters, digits, _ or -", m)
		}
		for _, f := range []struct {
			name string
			v    float64
		}{{"test_acc", v.TestAcc}, {"val_acc", v.ValAcc}} {
			if !(f.v >= 0 && f.v <= 1) {
				return nil, badf(path, 0, "%s: %s %v outside [0, 1] (accuracies are fractions)", m, f.name, f.v)
			}
		}
		if v.Params < 0 || v.Epochs < 0 || v.BestEpoch < 0 || v.TrainS < 0 {
			return nil, badf(path, 0, "%s: negative params, epochs, best_epoch or train_s", m)
		}
	}
	return res, nil
}

// jsonKind names what JSON value a Go type takes.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// rowKey reads what every row of a run's CSV files starts with: the model
// name and an integer (the epoch, or the test index).
func rowKey(path string, line int, rec []string, col []int, what string) (string, int, error) {
	m := rec[col[0]]
	if !validModel(m) {
		return "", 0, badf(path, line, "model name %q: want letters, digits, _ or -", m)
	}
	n, err := parseInt(what, rec[col[1]], 0, math.MaxInt32)
	if err != nil {
		return "", 0, badf(path, line, "%v", err)
	}
	return m, n, nil
}

// loadMetrics reads metrics.csv.
func loadMetrics(path string) (map[string][]fit.Record, error) {
	out := map[string][]fit.Record{}
	lines := map[string][]int{}
	err := csvTable(path, MetricsColumns, nil, func(rec []string, col []int, line int) error {
		m, ep, err := rowKey(path, line, rec, col, "epoch")
		if err != nil {
			return err
		}
		var v [5]float64
		for i := range v {
			name := MetricsColumns[i+2]
			if v[i], err = parseFloat(name, rec[col[i+2]]); err != nil {
				return badf(path, line, "%v", err)
			}
			switch name {
			case "train_loss", "val_loss":
				// NaN or Inf is what a diverged run logs; keep it and let the
				// plot skip it.
			case "train_acc", "val_acc":
				if !(v[i] >= 0 && v[i] <= 1) {
					return badf(path, line, "%s %v outside [0, 1] (accuracies are fractions)", name, v[i])
				}
			default:
				if !(v[i] >= 0) || math.IsInf(v[i], 0) {
					return badf(path, line, "%s %v: want a finite number >= 0", name, v[i])
				}
			}
		}
		e := fit.Record{Model: m, Epoch: ep, TrainLoss: v[0], TrainAcc: v[1], ValLoss: v[2], ValAcc: v[3], LR: v[4]}
		out[m] = append(out[m], e)
		lines[m] = append(lines[m], line)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for m, eps := range out {
		ln := lines[m]
		idx := make([]int, len(eps))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return eps[a].Epoch - eps[b].Epoch })
		sorted := make([]fit.Record, len(eps))
		for i, j := range idx {
			sorted[i] = eps[j]
			if i > 0 && sorted[i].Epoch == sorted[i-1].Epoch {
				return nil, badf(path, max(ln[j], ln[idx[i-1]]), "model %s: epoch %d appears twice", m, sorted[i].Epoch)
			}
		}
		out[m] = sorted
	}
	return out, nil
}

func parseTiming(imgPerS, seconds string) (float64, float64, error) {
	v := [2]float64{}
	for i, f := range []struct{ name, s string }{{"img_per_s", imgPerS}, {"seconds", seconds}} {
		var err error
		if v[i], err = parseFloat(f.name, f.s); err != nil {
			return 0, 0, err
		}
		if !(v[i] >= 0) || math.IsInf(v[i], 0) {
			return 0, 0, fmt.Errorf("%s %v: want a finite number >= 0", f.name, v[i])
		}
	}
	return v[0], v[1], nil
}

// loadTiming fills in the speeds of the epochs in metrics from timing.csv,
// if there is one; a row for an epoch metrics.csv lacks is ignored (the
// files are written one after the other, so a crash may leave one ahead).
func loadTiming(path string, metrics map[string][]fit.Record) (bool, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	seen := map[[2]int]bool{}
	models := map[string]int{}
	err := csvTable(path, TimingColumns, nil, func(rec []string, col []int, line int) error {
		m, ep, err := rowKey(path, line, rec, col, "epoch")
		if err != nil {
			return err
		}
		ips, secs, err := parseTiming(rec[col[2]], rec[col[3]])
		if err != nil {
			return badf(path, line, "%v", err)
		}
		id, ok := models[m]
		if !ok {
			id = len(models)
			models[m] = id
		}
		if seen[[2]int{id, ep}] {
			return badf(path, line, "model %s: epoch %d appears twice", m, ep)
		}
		seen[[2]int{id, ep}] = true
		eps := metrics[m]
		if i, found := slices.BinarySearchFunc(eps, ep, func(e fit.Record, t int) int { return e.Epoch - t }); found {
			eps[i].ImgPerS, eps[i].Seconds = ips, secs
		}
		return nil
	})
	return err == nil, err
}

func loadPredictions(path string) (map[string][]Prediction, error) {
	out := map[string][]Prediction{}
	firstLine := map[string]map[int]int{} // model -> index -> line, for duplicate reports
	err := csvTable(path, PredictionsColumns, nil, func(rec []string, col []int, line int) error {
		m, idx, err := rowKey(path, line, rec, col, "index")
		if err != nil {
			return err
		}
		label, err := parseInt("label", rec[col[2]], 0, dataset.Classes-1)
		if err != nil {
			return badf(path, line, "%v", err)
		}
		pred, err := parseInt("pred", rec[col[3]], 0, dataset.Classes-1)
		if err != nil {
			return badf(path, line, "%v", err)
		}
		prob, err := parseFloat("prob", rec[col[4]])
		if err != nil {
			return badf(path, line, "%v", err)
		}
		if !(prob >= 0 && prob <= 1) {
			return badf(path, line, "prob %v outside [0, 1]", prob)
		}
		seen := firstLine[m]
		if seen == nil {
			seen = map[int]int{}
			firstLine[m] = seen
		}
		if first, dup := seen[idx]; dup {
			return badf(path, line, "model %s: test index %d already on line %d", m, idx, first)
		}
		seen[idx] = line
		out[m] = append(out[m], Prediction{idx, uint8(label), uint8(pred), prob})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, ps := range out {
		slices.SortFunc(ps, func(a, b Prediction) int { return a.Index - b.Index })
	}
	return out, nil
}
