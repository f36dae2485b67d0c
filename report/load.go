package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/fmnist/fmnist/internal/safefile"
)

// The files of a run folder.
const (
	ConfigFile      = "config.json"
	MetricsFile     = "metrics.csv"
	ResultsFile     = "results.json"
	PredictionsFile = "predictions.csv"
	// TimingFile holds each epoch's speed, apart from metrics.csv so that
	// metrics.csv is the same bytes in two runs of the same config.
	TimingFile = "timing.csv"
)

// NumClasses is the number of Fashion-MNIST classes; labels are 0..NumClasses-1.
const NumClasses = 10

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

func badf(path string, line int, format string, args ...any) error {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = clip(s)
		}
	}
	inner := &formatError{fmt.Sprintf(format, args...)}
	if line > 0 {
		return fmt.Errorf("report: %s: line %d: %w", path, line, inner)
	}
	return fmt.Errorf("report: %s: %w", path, inner)
}

// Epoch is one row of metrics.csv, with ImgPerS and Seconds from the
// matching row of timing.csv (zero when it has none). Accuracies are
// fractions.
type Epoch struct {
	Epoch     int
	TrainLoss float64
	TrainAcc  float64
	ValLoss   float64
	ValAcc    float64
	LR        float64
	ImgPerS   float64
	Seconds   float64
}

// Result is one model's entry in results.json. A field absent from the file
// is zero.
type Result struct {
	TestAcc   float64 `json:"test_acc"`
	TestLoss  float64 `json:"test_loss"`
	ValAcc    float64 `json:"val_acc"`
	BestEpoch int     `json:"best_epoch"`
	TrainS    float64 `json:"train_s"`
	Params    int     `json:"params"`
	Epochs    int     `json:"epochs"`
}

// Prediction is one row of predictions.csv: the model's guess for test image
// Index, with Prob the softmax probability of Pred.
type Prediction struct {
	Index int
	Label uint8
	Pred  uint8
	Prob  float64
}

// Run is the parsed content of a run folder.
type Run struct {
	Dir string
	// Config is config.json, indented, keys in the file's order.
	Config string
	// Models lists every model named in any file: mlp, cnn, cnn_mlp first,
	// in that order, then any others sorted by name.
	Models []string
	// Metrics holds each model's epochs sorted by epoch number.
	Metrics map[string][]Epoch
	// Results is results.json.
	Results map[string]Result
	// Predictions holds each model's rows sorted by test index.
	Predictions map[string][]Prediction
	// Missing lists the optional files that are absent: results.json and
	// predictions.csv, which a run writes only when it finishes.
	Missing []string
	// Timing is true when the epochs' speeds were found: in timing.csv, or
	// in the img_per_s and seconds columns of an older metrics.csv.
	Timing bool
}

// knownModels fixes the display order of the models fmnist trains.
var knownModels = []string{"mlp", "cnn", "cnn_mlp"}

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

// Load reads and checks the files of the run folder dir. config.json and
// metrics.csv must be there; results.json and predictions.csv may be absent
// (see Run.Missing). A missing required file gives an error wrapping
// fs.ErrNotExist, bad content an error wrapping ErrFormat; both name the file.
func Load(dir string) (*Run, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("report: run folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("report: run folder %s: not a directory", dir)
	}
	r := &Run{Dir: dir}
	if r.Config, err = loadConfig(filepath.Join(dir, ConfigFile)); err != nil {
		return nil, err
	}
	if r.Metrics, r.Timing, err = loadMetrics(filepath.Join(dir, MetricsFile)); err != nil {
		return nil, err
	}
	// timing.csv is optional: speeds are nice to have, not the run's result.
	if has, err := loadTiming(filepath.Join(dir, TimingFile), r.Metrics); err != nil {
		return nil, err
	} else if has {
		r.Timing = true
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
	for _, m := range knownModels {
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
		return "", fmt.Errorf("report: %w", err)
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
		return nil, fmt.Errorf("report: %w", err)
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

// csvTable reads a CSV file whose header must contain want (in any order,
// extra columns ignored) and calls row for each record with the column
// positions of want, then of opt (-1 for those absent). line is the
// record's line number in the file.
func csvTable(path string, want, opt []string, row func(rec []string, col []int, line int) error) error {
	f, _, err := safefile.OpenLimited(path, maxCSVBytes)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	end := &endReader{r: f}
	cr := csv.NewReader(end)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return badf(path, 0, "empty file, want a header")
	}
	if err != nil {
		return csvErr(path, err)
	}
	col := make([]int, len(want), len(want)+len(opt))
	for i, name := range want {
		col[i] = slices.Index(head, name)
		if col[i] < 0 {
			return badf(path, 1, "header has no column %q (want %v)", name, want)
		}
	}
	for _, name := range opt {
		col = append(col, slices.Index(head, name))
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return end.complete(path)
		}
		if err != nil {
			return csvErr(path, err)
		}
		line, _ := cr.FieldPos(0)
		if err := row(rec, col, line); err != nil {
			return err
		}
	}
}

func csvErr(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return badf(path, pe.Line, "%v", pe.Err)
	}
	return fmt.Errorf("report: %s: %w", path, err)
}

// field parsers return a short message on failure; the caller adds the place.
func parseFloat(name, s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a number", name, clip(s))
	}
	return v, nil
}

func parseInt(name, s string, lo, hi int) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not an integer", name, clip(s))
	}
	if v < lo || v > hi {
		if hi == math.MaxInt32 {
			return 0, fmt.Errorf("%s %d: want >= %d", name, v, lo)
		}
		return 0, fmt.Errorf("%s %d outside [%d, %d]", name, v, lo, hi)
	}
	return v, nil
}

var (
	metricsColumns = []string{"model", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"}
	timingColumns  = []string{"img_per_s", "seconds"}
)

// loadMetrics reads metrics.csv; timing reports whether it had the timing
// columns that metrics.csv held before timing.csv existed.
func loadMetrics(path string) (out map[string][]Epoch, timing bool, err error) {
	out = map[string][]Epoch{}
	lines := map[string][]int{}
	err = csvTable(path, metricsColumns, timingColumns, func(rec []string, col []int, line int) error {
		m := rec[col[0]]
		if !validModel(m) {
			return badf(path, line, "model name %q: want letters, digits, _ or -", m)
		}
		ep, err := parseInt("epoch", rec[col[1]], 0, math.MaxInt32)
		if err != nil {
			return badf(path, line, "%v", err)
		}
		var v [5]float64
		for i := range v {
			name := metricsColumns[i+2]
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
		e := Epoch{Epoch: ep, TrainLoss: v[0], TrainAcc: v[1], ValLoss: v[2], ValAcc: v[3], LR: v[4]}
		if timing = col[7] >= 0 && col[8] >= 0; timing {
			if e.ImgPerS, e.Seconds, err = parseTiming(rec[col[7]], rec[col[8]]); err != nil {
				return badf(path, line, "%v", err)
			}
		}
		out[m] = append(out[m], e)
		lines[m] = append(lines[m], line)
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	for m, eps := range out {
		ln := lines[m]
		idx := make([]int, len(eps))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return eps[a].Epoch - eps[b].Epoch })
		sorted := make([]Epoch, len(eps))
		for i, j := range idx {
			sorted[i] = eps[j]
			if i > 0 && sorted[i].Epoch == sorted[i-1].Epoch {
				return nil, false, badf(path, max(ln[j], ln[idx[i-1]]), "model %s: epoch %d appears twice", m, sorted[i].Epoch)
			}
		}
		out[m] = sorted
	}
	return out, timing, nil
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
func loadTiming(path string, metrics map[string][]Epoch) (bool, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	seen := map[[2]int]bool{}
	models := map[string]int{}
	err := csvTable(path, append([]string{"model", "epoch"}, timingColumns...), nil, func(rec []string, col []int, line int) error {
		m := rec[col[0]]
		if !validModel(m) {
			return badf(path, line, "model name %q: want letters, digits, _ or -", m)
		}
		ep, err := parseInt("epoch", rec[col[1]], 0, math.MaxInt32)
		if err != nil {
			return badf(path, line, "%v", err)
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
		if i, found := slices.BinarySearchFunc(eps, ep, func(e Epoch, t int) int { return e.Epoch - t }); found {
			eps[i].ImgPerS, eps[i].Seconds = ips, secs
		}
		return nil
	})
	return err == nil, err
}

var predictionColumns = []string{"model", "index", "label", "pred", "prob"}

func loadPredictions(path string) (map[string][]Prediction, error) {
	out := map[string][]Prediction{}
	firstLine := map[string]map[int]int{} // model -> index -> line, for duplicate reports
	err := csvTable(path, predictionColumns, nil, func(rec []string, col []int, line int) error {
		m := rec[col[0]]
		if !validModel(m) {
			return badf(path, line, "model name %q: want letters, digits, _ or -", m)
		}
		idx, err := parseInt("index", rec[col[1]], 0, math.MaxInt32)
		if err != nil {
			return badf(path, line, "%v", err)
		}
		label, err := parseInt("label", rec[col[2]], 0, NumClasses-1)
		if err != nil {
			return badf(path, line, "%v", err)
		}
		pred, err := parseInt("pred", rec[col[3]], 0, NumClasses-1)
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
