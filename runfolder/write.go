package runfolder

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/fit"
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
	// CheckpointDir is the folder that holds a run's checkpoints.
	CheckpointDir = "checkpoints"
)

// Column lists of the CSV files. A reader wants these columns, in any
// order; a writer writes them in this order.
var (
	MetricsColumns     = []string{"model", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"}
	TimingColumns      = []string{"model", "epoch", "img_per_s", "seconds"}
	PredictionsColumns = []string{"model", "index", "label", "pred", "prob"}
)

// Result is one model's entry in results.json. A field absent from the
// file reads as zero.
type Result struct {
	TestAcc   float64 `json:"test_acc"`
	TestLoss  float64 `json:"test_loss"`
	ValAcc    float64 `json:"val_acc"`
	BestEpoch int     `json:"best_epoch"`
	Epochs    int     `json:"epochs"`
	TrainS    float64 `json:"train_s"`
	Params    int     `json:"params"`
}

// Prediction is one row of predictions.csv: the model's guess Pred for test
// image Index, and Prob the softmax probability of Pred. The file holds
// Prob to 5 decimals of its float32 value.
type Prediction struct {
	Index int
	Label uint8
	Pred  uint8
	Prob  float64
}

// WriteConfig writes v, indented, as dir's config.json.
func WriteConfig(dir string, v any) error { return writeJSON(filepath.Join(dir, ConfigFile), v) }

// WriteResults writes results.json.
func WriteResults(dir string, r map[string]*Result) error {
	return writeJSON(filepath.Join(dir, ResultsFile), r)
}

// WriteMetrics writes metrics.csv and timing.csv from the epoch records,
// in their order.
func WriteMetrics(dir string, recs []fit.Record) error {
	rows := [][]string{MetricsColumns}
	times := [][]string{TimingColumns}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, r := range recs {
		ep := strconv.Itoa(r.Epoch)
		rows = append(rows, []string{r.Model, ep, f(r.TrainLoss), f(r.TrainAcc), f(r.ValLoss), f(r.ValAcc), f(r.LR)})
		times = append(times, []string{r.Model, ep, f(r.ImgPerS), f(r.Seconds)})
	}
	if err := writeCSV(filepath.Join(dir, MetricsFile), rows); err != nil {
		return err
	}
	return writeCSV(filepath.Join(dir, TimingFile), times)
}

// WritePredictions writes predictions.csv: the rows of each of models, in
// that order, each model's rows in the order given.
func WritePredictions(dir string, models []string, rows map[string][]Prediction) error {
	out := [][]string{PredictionsColumns}
	for _, m := range models {
		for _, r := range rows[m] {
			out = append(out, []string{m, strconv.Itoa(r.Index), strconv.Itoa(int(r.Label)), strconv.Itoa(int(r.Pred)),
				strconv.FormatFloat(r.Prob, 'f', 5, 32)})
		}
	}
	return writeCSV(filepath.Join(dir, PredictionsFile), out)
}

func writeCSV(path string, rows [][]string) error {
	return checkpoint.WriteAtomic(path, func(w *os.File) error {
		cw := csv.NewWriter(w)
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		return cw.Error()
	})
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("runfolder: %s: %w", path, err)
	}
	return checkpoint.WriteAtomic(path, func(w *os.File) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}
