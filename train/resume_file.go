package train

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
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/internal/safefile"
	"github.com/fmnist/fmnist/optim"
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

// CheckpointDir is the folder of a run that holds its checkpoints.
const CheckpointDir = "checkpoints"

// Stages are the models of the pipeline, in the order it trains them.
var Stages = []string{"mlp", "cnn", "cnn_mlp"}

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
	// Backbone and BackboneSum are, for train head, the file of the CNN
	// and its checksum.
	Backbone, BackboneSum string
	Records               []Record
	Results               map[string]*ModelResult
	Preds                 map[string][]Pred
	// Fit is the state of Stage's training, nil when it has not started.
	Fit *FitState
}

// Pred is one test prediction: the label, the predicted class and its
// softmax probability.
type Pred struct {
	Label, Class uint8
	Prob         float32
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

// stageIndex is the 1-based position of a stage in Stages, and one past
// the end for "" (all done).
func stageIndex(stage string) int {
	if i := slices.Index(Stages, stage); i >= 0 {
		return i + 1
	}
	return len(Stages) + 1
}

func checkpointName(c *Checkpoint) string {
	stage, e, b := c.Stage, 0, 0
	if stage == "" {
		stage = "done"
	}
	if c.Fit != nil {
		e, b = c.Fit.Epoch, c.Fit.Batch
	}
	return fmt.Sprintf("%d-%s-e%04d-b%06d.safetensors", stageIndex(c.Stage), stage, e, b)
}

var checkpointRE = regexp.MustCompile(`^([0-9]+)-[a-z_]+-e([0-9]+)-b([0-9]+)\.safetensors$`)

// encode lays c out as a safetensors file.
func (c *Checkpoint) encode() (*checkpoint.File, error) {
	results := c.Results
	if results == nil {
		results = map[string]*ModelResult{}
	}
	recs := make([]recordJSON, len(c.Records))
	for i, r := range c.Records {
		recs[i] = recordJSON{r.Model, r.Epoch, jfloat(r.TrainLoss), jfloat(r.TrainAcc), jfloat(r.ValLoss),
			jfloat(r.ValAcc), jfloat(r.LR), jfloat(r.ImgPerS), jfloat(r.Seconds)}
	}
	res, err := json.Marshal(results)
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint results: %w", err)
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
	for _, m := range c.Done {
		ps := c.Preds[m]
		label, class := make([]int64, len(ps)), make([]int64, len(ps))
		prob := make([]float32, len(ps))
		for i, p := range ps {
			label[i], class[i], prob[i] = int64(p.Label), int64(p.Class), p.Prob
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
		toFile(f, "weights/", s.Weights)
		if s.Best != nil {
			toFile(f, "best/", s.Best)
		}
		if s.EMA != nil {
			toFile(f, "ema/", s.EMA)
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
	cdir := filepath.Join(dir, CheckpointDir)
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		return "", fmt.Errorf("train: checkpoint folder: %w", err)
	}
	path := filepath.Join(cdir, checkpointName(c))
	if err := checkpoint.Write(path, f); err != nil {
		return "", err
	}
	names, err := listCheckpoints(cdir)
	if err != nil {
		return path, err
	}
	for _, n := range names[:max(0, len(names)-max(keep, 1))] {
		if err := os.Remove(filepath.Join(cdir, n)); err != nil {
			return path, fmt.Errorf("train: pruning checkpoints: %w", err)
		}
	}
	return path, nil
}

// listCheckpoints returns the checkpoint file names in cdir, oldest first.
func listCheckpoints(cdir string) ([]string, error) {
	ents, err := os.ReadDir(cdir)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	type key struct {
		name string
		k    [3]uint64
	}
	var ks []key
	for _, e := range ents {
		m := checkpointRE.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		var k key
		k.name = e.Name()
		for i := range k.k {
			k.k[i], _ = strconv.ParseUint(m[i+1], 10, 64) // overflow reads as max: still sorts
		}
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b key) int {
		if c := slices.Compare(a.k[:], b.k[:]); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.name
	}
	return out, nil
}

// LatestCheckpoint reads the newest checkpoint of the run folder dir and
// checks it against dir/config.json. A damaged newest checkpoint is an
// error, not a silent fallback to an older one: the message says which
// file to remove to use the previous one.
func LatestCheckpoint(dir string) (*Checkpoint, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("train: run folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("train: run folder %s: not a directory", dir)
	}
	cdir := filepath.Join(dir, CheckpointDir)
	names, err := listCheckpoints(cdir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("train: %s has no %s folder: not a run folder, or its run stopped before the first checkpoint", dir, CheckpointDir)
	}
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("train: %s: no checkpoint to resume from", cdir)
	}
	path := filepath.Join(cdir, names[len(names)-1])
	c, err := ReadCheckpoint(path)
	if err != nil {
		if len(names) > 1 {
			return nil, fmt.Errorf("%w (remove it to resume from %s)", err, names[len(names)-2])
		}
		return nil, err
	}
	cfgPath := filepath.Join(dir, "config.json")
	b, err := safefile.ReadFile(cfgPath, MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	saved, err := ParseConfig(b, false, RunConfig{})
	if err != nil {
		return nil, fmt.Errorf("train: %s: %w", cfgPath, err)
	}
	if !reflect.DeepEqual(saved, c.Config) {
		return nil, fmt.Errorf("%w: %s differs from the config saved in %s: was it edited?", ErrCheckpoint, cfgPath, path)
	}
	return c, nil
}

// ReadCheckpoint reads a checkpoint file. Every error names the file.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrCheckpoint, path, fmt.Sprintf(format, args...))
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
		c.Records = append(c.Records, Record{r.Model, r.Epoch, float64(r.TrainLoss), float64(r.TrainAcc),
			float64(r.ValLoss), float64(r.ValAcc), float64(r.LR), float64(r.ImgPerS), float64(r.Seconds)})
	}
	if err := strictJSON(md["results"], &c.Results); err != nil {
		return nil, bad("results: %v", err)
	}
	for m := range c.Results {
		if !slices.Contains(c.Done, m) {
			return nil, bad("results for %q, which is not done", m)
		}
	}
	c.Preds = map[string][]Pred{}
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
		ps := make([]Pred, len(p.F32))
		for i := range ps {
			if l.I64[i] < 0 || l.I64[i] > 255 || k.I64[i] < 0 || k.I64[i] > 255 || !(p.F32[i] >= 0 && p.F32[i] <= 1) {
				return nil, bad("prediction %d of %q out of range", i, m)
			}
			ps[i] = Pred{uint8(l.I64[i]), uint8(k.I64[i]), p.F32[i]}
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
	c.Fit = &FitState{Epoch: s.Epoch, Batch: s.Batch, Step: s.Step, LossSum: float64(s.LossSum), Hits: s.Hits,
		Seen: s.Seen, EpochSeconds: float64(s.EpochSeconds), Seconds: float64(s.Seconds), BestEpoch: s.BestEpoch,
		BestVal: float64(s.BestVal), RNG: rng, Weights: fromFile(f, "weights/")}
	for _, r := range c.Records {
		if r.Model == c.Stage {
			c.Fit.Records = append(c.Fit.Records, r)
		}
	}
	if best := fromFile(f, "best/"); len(best) > 0 {
		c.Fit.Best = best
	}
	if ema := fromFile(f, "ema/"); len(ema) > 0 {
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
