package pipeline

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/internal/safefile"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/optim"
	"github.com/fmnist/fmnist/runfolder"
)

// A checkpoint is a safetensors file (so it carries checkpoint.Format and
// the SHA-256 of its data) under <run>/checkpoints, named
// <stage number>-<stage>-e<epochs done>-b<batches done>.safetensors so that
// the newest sorts last. Its tensors are the fit's state dict
// ("weights/..."), the best weights ("best/..."), the optimiser's slots
// ("optim/...") and the test predictions of the finished stages
// ("pred/<model>/label|class|prob"); its metadata holds the rest as
// strings and JSON, floats written so that they read back bit for bit.

// CheckpointFormat is the "resume_format" metadata of a checkpoint.
const CheckpointFormat = "fmnist-resume/1"

// Checkpoint is the saved state of an unfinished run.
type Checkpoint struct {
	Path    string
	Command string   // what was running: "run" or "train"
	Stages  []string // the stages that command trains, in order
	Done    []string // the stages finished
	Stage   string   // the stage in progress or next; "" when all are done
	Config  RunConfig
	// Mean and Std are the pixel normalisation the run used, to check that
	// a resume sees the same data.
	Mean, Std float32
	// ModelSums are the checksums of the model files of the Done stages,
	// which a resume checks against the files in the folder.
	ModelSums map[string]string
	// Backbone and BackboneSum are, for train cnn_mlp, the file of the CNN
	// and its checksum.
	Backbone, BackboneSum string
	Records               []fit.Record
	Results               map[string]*runfolder.Result
	Preds                 map[string][]runfolder.Prediction
	// Fit is the state of Stage's training, nil when it has not started.
	Fit *fit.State
}

// jfloat is a float64 that JSON holds as a string, exactly, NaN and
// infinities included.
type jfloat float64

func (f jfloat) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, strconv.FormatFloat(float64(f), 'g', -1, 64)), nil
}

func (f *jfloat) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("want a quoted number, got %s", b)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", s)
	}
	*f = jfloat(v)
	return nil
}

type recordJSON struct {
	Model     string `json:"model"`
	Epoch     int    `json:"epoch"`
	TrainLoss jfloat `json:"train_loss"`
	TrainAcc  jfloat `json:"train_acc"`
	ValLoss   jfloat `json:"val_loss"`
	ValAcc    jfloat `json:"val_acc"`
	LR        jfloat `json:"lr"`
	ImgPerS   jfloat `json:"img_per_s"`
	Seconds   jfloat `json:"seconds"`
}

type fitJSON struct {
	Epoch        int    `json:"epoch"`
	Batch        int    `json:"batch"`
	Step         int    `json:"step"`
	LossSum      jfloat `json:"loss_sum"`
	Hits         int    `json:"hits"`
	Seen         int    `json:"seen"`
	EpochSeconds jfloat `json:"epoch_seconds"`
	Seconds      jfloat `json:"seconds"`
	BestEpoch    int    `json:"best_epoch"`
	BestVal      jfloat `json:"best_val"`
	RNG          string `json:"rng"` // hex
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own types, which always marshal
	}
	return string(b)
}

func checkpointName(c *Checkpoint) string {
	e, b := 0, 0
	if c.Fit != nil {
		e, b = c.Fit.Epoch, c.Fit.Batch
	}
	return runfolder.CheckpointName(c.Stage, e, b)
}

// encode lays c out as a safetensors file.
func (c *Checkpoint) encode() (*checkpoint.File, error) {
	results := c.Results
	if results == nil {
		results = map[string]*runfolder.Result{}
	}
	recs := make([]recordJSON, len(c.Records))
	for i, r := range c.Records {
		recs[i] = recordJSON{r.Model, r.Epoch, jfloat(r.TrainLoss), jfloat(r.TrainAcc), jfloat(r.ValLoss),
			jfloat(r.ValAcc), jfloat(r.LR), jfloat(r.ImgPerS), jfloat(r.Seconds)}
	}
	res, err := json.Marshal(results)
	if err != nil {
		return nil, fmt.Errorf("pipeline: checkpoint results: %w", err)
	}
	f := &checkpoint.File{Metadata: map[string]string{
		"resume_format": CheckpointFormat,
		"command":       c.Command,
		"stages":        strings.Join(c.Stages, ","),
		"done":          strings.Join(c.Done, ","),
		"stage":         c.Stage,
		"config":        mustJSON(c.Config),
		"pixel_mean":    strconv.FormatFloat(float64(c.Mean), 'g', -1, 32),
		"pixel_std":     strconv.FormatFloat(float64(c.Std), 'g', -1, 32),
		"records":       mustJSON(recs),
		"results":       string(res),
	}}
	if c.Backbone != "" {
		f.Metadata["backbone"], f.Metadata["backbone_checksum"] = c.Backbone, c.BackboneSum
	}
	if len(c.ModelSums) > 0 {
		f.Metadata["model_checksums"] = mustJSON(c.ModelSums)
	}
	for _, m := range c.Done {
		ps := c.Preds[m]
		label, class := make([]int64, len(ps)), make([]int64, len(ps))
		prob := make([]float32, len(ps))
		for i, p := range ps {
			label[i], class[i], prob[i] = int64(p.Label), int64(p.Pred), float32(p.Prob)
		}
		n := []int{len(ps)}
		f.Tensors = append(f.Tensors,
			checkpoint.Tensor{Name: "pred/" + m + "/label", DType: "I64", Shape: n, I64: label},
			checkpoint.Tensor{Name: "pred/" + m + "/class", DType: "I64", Shape: n, I64: class},
			checkpoint.Tensor{Name: "pred/" + m + "/prob", DType: "F32", Shape: n, F32: prob})
	}
	if s := c.Fit; s != nil {
		f.Metadata["fit"] = mustJSON(fitJSON{s.Epoch, s.Batch, s.Step, jfloat(s.LossSum), s.Hits, s.Seen,
			jfloat(s.EpochSeconds), jfloat(s.Seconds), s.BestEpoch, jfloat(s.BestVal), hex.EncodeToString(s.RNG)})
		model.StateToFile(f, "weights/", s.Weights)
		if s.Best != nil {
			model.StateToFile(f, "best/", s.Best)
		}
		if s.EMA != nil {
			model.StateToFile(f, "ema/", s.EMA)
		}
		for _, sl := range s.Optim {
			f.Tensors = append(f.Tensors, checkpoint.Tensor{Name: "optim/" + sl.Name, DType: "F32",
				Shape: []int{len(sl.Data)}, F32: sl.Data})
		}
	}
	return f, nil
}

// WriteCheckpoint saves c atomically under dir/checkpoints and removes all
// but the newest keep checkpoints there. It returns the file's path.
func WriteCheckpoint(dir string, c *Checkpoint, keep int) (string, error) {
	f, err := c.encode()
	if err != nil {
		return "", err
	}
	cdir := filepath.Join(dir, runfolder.CheckpointDir)
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		return "", fmt.Errorf("pipeline: checkpoint folder: %w", err)
	}
	path := filepath.Join(cdir, checkpointName(c))
	if err := checkpoint.Write(path, f); err != nil {
		return "", err
	}
	return path, runfolder.PruneCheckpoints(dir, keep)
}

// LatestCheckpoint reads the newest checkpoint of the run folder dir and
// checks it against dir/config.json. A damaged newest checkpoint is an
// error, not a silent fallback to an older one: the message says which
// file to remove to use the previous one.
func LatestCheckpoint(dir string) (*Checkpoint, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("pipeline: run folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("pipeline: run folder %s: not a directory", dir)
	}
	cdir := filepath.Join(dir, runfolder.CheckpointDir)
	names, err := runfolder.ListCheckpoints(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("pipeline: %s has no %s folder: not a run folder, or its run stopped before the first checkpoint", dir, runfolder.CheckpointDir)
	}
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("pipeline: %s: no checkpoint to resume from", cdir)
	}
	path := filepath.Join(cdir, names[len(names)-1])
	c, err := ReadCheckpoint(path)
	if err != nil {
		if len(names) > 1 {
			return nil, fmt.Errorf("%w (remove it to resume from %s)", err, names[len(names)-2])
		}
		return nil, err
	}
	cfgPath := filepath.Join(dir, runfolder.ConfigFile)
	b, err := safefile.ReadFile(cfgPath, MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	saved, err := ParseConfig(b, false, RunConfig{})
	if err != nil {
		return nil, fmt.Errorf("pipeline: %s: %w", cfgPath, err)
	}
	if !reflect.DeepEqual(saved, c.Config) {
		return nil, fmt.Errorf("%w: %s differs from the config saved in %s: was it edited?", fit.ErrCheckpoint, cfgPath, path)
	}
	return c, nil
}

// ReadCheckpoint reads a checkpoint file. Every error names the file.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", fit.ErrCheckpoint, path, fmt.Sprintf(format, args...))
	}
	md := f.Metadata
	if v := md["resume_format"]; v != CheckpointFormat {
		if v == "" {
			return nil, bad("no resume_format in the metadata: not an fmnist checkpoint")
		}
		return nil, bad("resume_format %q, this fmnist reads %q", v, CheckpointFormat)
	}
	c := &Checkpoint{Path: path, Command: md["command"], Stage: md["stage"], Backbone: md["backbone"],
		BackboneSum: md["backbone_checksum"], Stages: splitList(md["stages"]), Done: splitList(md["done"])}
	if c.Command != "run" && c.Command != "train" {
		return nil, bad("command %q, want run or train", c.Command)
	}
	if len(c.Stages) == 0 {
		return nil, bad("no stages")
	}
	for _, s := range c.Stages {
		if !slices.Contains(Stages, s) {
			return nil, bad("unknown stage %q", s)
		}
	}
	if !slices.Equal(c.Done, c.Stages[:min(len(c.Done), len(c.Stages))]) {
		return nil, bad("done stages %v are not the first of %v", c.Done, c.Stages)
	}
	next := ""
	if len(c.Done) < len(c.Stages) {
		next = c.Stages[len(c.Done)]
	}
	if c.Stage != next {
		return nil, bad("stage %q, want %q after %v", c.Stage, next, c.Done)
	}
	c.Config, err = ParseConfig([]byte(md["config"]), false, RunConfig{})
	if err != nil {
		return nil, bad("config: %v", err)
	}
	if err := c.Config.Validate(); err != nil {
		return nil, bad("config: %v", err)
	}
	mean, err1 := strconv.ParseFloat(md["pixel_mean"], 32)
	std, err2 := strconv.ParseFloat(md["pixel_std"], 32)
	if err1 != nil || err2 != nil {
		return nil, bad("no valid pixel_mean/pixel_std")
	}
	c.Mean, c.Std = float32(mean), float32(std)
	var recs []recordJSON
	if err := strictJSON(md["records"], &recs); err != nil {
		return nil, bad("records: %v", err)
	}
	for _, r := range recs {
		c.Records = append(c.Records, fit.Record{Model: r.Model, Epoch: r.Epoch, TrainLoss: float64(r.TrainLoss),
			TrainAcc: float64(r.TrainAcc), ValLoss: float64(r.ValLoss), ValAcc: float64(r.ValAcc), LR: float64(r.LR),
			ImgPerS: float64(r.ImgPerS), Seconds: float64(r.Seconds)})
	}
	if err := strictJSON(md["results"], &c.Results); err != nil {
		return nil, bad("results: %v", err)
	}
	for m := range c.Results {
		if !slices.Contains(c.Done, m) {
			return nil, bad("results for %q, which is not done", m)
		}
	}
	if ms, ok := md["model_checksums"]; ok { // absent in checkpoints of older runs
		if err := strictJSON(ms, &c.ModelSums); err != nil {
			return nil, bad("model_checksums: %v", err)
		}
		for m := range c.ModelSums {
			if !slices.Contains(c.Done, m) {
				return nil, bad("a model checksum for %q, which is not done", m)
			}
		}
	}
	c.Preds = map[string][]runfolder.Prediction{}
	byName := map[string]*checkpoint.Tensor{}
	for i := range f.Tensors {
		byName[f.Tensors[i].Name] = &f.Tensors[i]
	}
	for _, m := range c.Done {
		if c.Results[m] == nil {
			return nil, bad("no results for %q, which is done", m)
		}
		l, k, p := byName["pred/"+m+"/label"], byName["pred/"+m+"/class"], byName["pred/"+m+"/prob"]
		if l == nil || k == nil || p == nil || l.DType != "I64" || k.DType != "I64" || p.DType != "F32" ||
			len(l.I64) != len(p.F32) || len(k.I64) != len(p.F32) {
			return nil, bad("predictions of %q missing or inconsistent", m)
		}
		ps := make([]runfolder.Prediction, len(p.F32))
		for i := range ps {
			if l.I64[i] < 0 || l.I64[i] > 255 || k.I64[i] < 0 || k.I64[i] > 255 || !(p.F32[i] >= 0 && p.F32[i] <= 1) {
				return nil, bad("prediction %d of %q out of range", i, m)
			}
			ps[i] = runfolder.Prediction{Index: i, Label: uint8(l.I64[i]), Pred: uint8(k.I64[i]), Prob: float64(p.F32[i])}
		}
		c.Preds[m] = ps
	}
	fj, ok := md["fit"]
	if !ok {
		return checkResumeValues(c, f.Check)
	}
	if c.Stage == "" {
		return nil, bad("a fit state, but every stage is done")
	}
	var s fitJSON
	if err := strictJSON(fj, &s); err != nil {
		return nil, bad("fit: %v", err)
	}
	rng, err := hex.DecodeString(s.RNG)
	if err != nil {
		return nil, bad("fit: rng: %v", err)
	}
	c.Fit = &fit.State{Epoch: s.Epoch, Batch: s.Batch, Step: s.Step, LossSum: float64(s.LossSum), Hits: s.Hits,
		Seen: s.Seen, EpochSeconds: float64(s.EpochSeconds), Seconds: float64(s.Seconds), BestEpoch: s.BestEpoch,
		BestVal: float64(s.BestVal), RNG: rng, Weights: model.StateFromFile(f, "weights/")}
	for _, r := range c.Records {
		if r.Model == c.Stage {
			c.Fit.Records = append(c.Fit.Records, r)
		}
	}
	if best := model.StateFromFile(f, "best/"); len(best) > 0 {
		c.Fit.Best = best
	}
	if ema := model.StateFromFile(f, "ema/"); len(ema) > 0 {
		c.Fit.EMA = ema
	}
	for _, t := range f.Tensors {
		if name, ok := strings.CutPrefix(t.Name, "optim/"); ok {
			if t.DType != "F32" {
				return nil, bad("optimiser slot %q is %s, want F32", name, t.DType)
			}
			c.Fit.Optim = append(c.Fit.Optim, optim.Slot{Name: name, Data: t.F32})
		}
	}
	if !finite(c.Fit.LossSum) || len(c.Fit.Weights) == 0 {
		return nil, bad("fit: loss sum %v, %d weight tensors", c.Fit.LossSum, len(c.Fit.Weights))
	}
	return checkResumeValues(c, f.Check)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// strictJSON decodes one JSON value with unknown keys rejected.
func strictJSON(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}
