package train

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/internal/safefile"
	"github.com/fmnist/fmnist/nn"
)

// Stage is the recipe of one model of the pipeline.
type Stage struct {
	Spec    nn.Spec         `json:"model"`
	Train   Config          `json:"train"`
	Augment dataset.Augment `json:"augment"`
}

// RunConfig is everything a pipeline run uses; written to the run folder as
// config.json so that the run can be repeated.
type RunConfig struct {
	Seed   uint64 `json:"seed"`
	Val    int    `json:"val"`    // validation images held out of the 60k
	Subset int    `json:"subset"` // train on the first N images of the train split; 0 = all
	MLP    Stage  `json:"mlp"`
	CNN    Stage  `json:"cnn"`
	Head   Stage  `json:"head"`
}

// DefaultConfig is the recipe chosen on validation: the "default" preset.
func DefaultConfig() RunConfig {
	return RunConfig{
		Seed: 1,
		Val:  10000,
		MLP: Stage{
			// On validation (seed 1): 512-256, dropout 0.2, crop ±2, 20 epochs: 88.4%; the same without
			// the crop: 90.8%; 1024-512, dropout 0.3, no crop, 40 epochs: 91.0%; with flips 91.0%,
			// input dropout 0.1 91.0%, 0.2 90.8%; dropout 0.4, 60 epochs: 91.2%; batch norm: 91.3%.
			Spec:  nn.Spec{Kind: "mlp", In: 784, Hidden: []int{1024, 512}, BatchNorm: true, Dropout: 0.3, Classes: 10},
			Train: Config{Epochs: 40, Batch: 128, Optimizer: "sgd", LR: 0.05, Schedule: "onecycle", Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, LabelSmoothing: 0.1},
		},
		CNN: Stage{
			// On validation (seed 1): 10 epochs, crop ±2 + flip: 93.7%; 30 epochs with random
			// erasing as well: 95.2%; the same with one epoch of linear warm-up to lr 0.08 and a
			// cosine decay instead of the one-cycle schedule: 95.6% (94.5% test). At 15 epochs the
			// same change moved 94.6% to 94.8%.
			Spec:    nn.Spec{Kind: "cnn", Widths: []int{32, 64, 128, 256, 256}, PoolAfter: []int{1, 2, 3}, BatchNorm: true, Classes: 10},
			Train:   Config{Epochs: 30, Batch: 128, Optimizer: "sgd", LR: 0.08, Schedule: "cosine", WarmupEpochs: 1, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, LabelSmoothing: 0.1},
			Augment: dataset.Augment{Pad: 2, Flip: true, Erase: 0.25},
		},
		Head: Stage{
			// On the features of a 15-epoch CNN whose own head has 94.61% val (seed 1): 10 epochs at
			// lr 0.01: 94.43%; one hidden layer of 1024, dropout 0.5: 94.61%; no label smoothing:
			// 94.60%; 20 epochs at lr 0.05: 94.79%, the only one above the CNN; 30 at 0.1: 94.77%.
			Spec:  nn.Spec{Kind: "mlp", In: 256, Hidden: []int{512, 256}, Dropout: 0.3, Classes: 10},
			Train: Config{Epochs: 20, Batch: 128, Optimizer: "sgd", LR: 0.05, Schedule: "onecycle", Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, LabelSmoothing: 0.1},
		},
	}
}

// QuickConfig is the "quick" preset: the same three models trained for
// a few epochs, for a first result in minutes rather than the default's
// half hour and more.
func QuickConfig() RunConfig {
	c := DefaultConfig()
	c.MLP.Spec.Hidden = []int{512, 256}
	c.MLP.Train.Epochs = 10
	// The schedules of the 4-epoch CNN and 5-epoch head measured for this preset (93.1% CNN test,
	// seed 1); the default's were chosen on 30 and 20 epochs.
	c.CNN.Train.Epochs, c.CNN.Train.LR, c.CNN.Train.Schedule, c.CNN.Train.WarmupEpochs = 4, 0.05, "onecycle", 0
	c.CNN.Augment = dataset.Augment{}
	c.Head.Train.Epochs, c.Head.Train.LR = 5, 0.01
	return c
}

// presets are the named recipes a run can start from.
var presets = map[string]func() RunConfig{
	"default": DefaultConfig,
	"quick":   QuickConfig,
}

// Preset returns the recipe of that name, and false if there is none.
func Preset(name string) (RunConfig, bool) {
	f := presets[name]
	if f == nil {
		return RunConfig{}, false
	}
	return f(), true
}

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// MaxConfigBytes caps a config file: anything longer is not a config.
const MaxConfigBytes = 1 << 20

// ReadConfig reads a config file over base: the keys the file has replace
// base's, an unknown key is an error. A .yaml or .yml file (or any file
// not starting with '{') is read as YAML, others as JSON.
func ReadConfig(path string, base RunConfig) (RunConfig, error) {
	b, err := safefile.ReadFile(path, MaxConfigBytes)
	if err != nil {
		return base, fmt.Errorf("train: config: %w", err)
	}
	ext := strings.ToLower(filepath.Ext(path))
	isYAML := ext == ".yaml" || ext == ".yml" ||
		ext != ".json" && !bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n\ufeff"), []byte("{"))
	cfg, err := ParseConfig(b, isYAML, base)
	if err != nil {
		return base, fmt.Errorf("train: config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes a config, JSON or YAML, over a copy of base. YAML is
// decoded to a generic value and re-encoded as JSON, so both syntaxes go
// through the same strict JSON decoding: unknown keys and trailing data are
// errors, as a typo would otherwise silently fall back to a default.
func ParseConfig(b []byte, isYAML bool, base RunConfig) (RunConfig, error) {
	if len(b) > MaxConfigBytes {
		return base, fmt.Errorf("%d bytes, more than the %d a config may have", len(b), MaxConfigBytes)
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff")) // a byte order mark, as some Windows editors write
	if isYAML {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		var v any
		if err := dec.Decode(&v); err != nil {
			if err == io.EOF {
				return base, errors.New("empty: no settings")
			}
			// yaml lists its errors one a line; keep ours to one line.
			return base, errors.New(strings.Join(strings.Fields(err.Error()), " "))
		}
		var more any
		if err := dec.Decode(&more); err != io.EOF {
			return base, errors.New("YAML: more than one document")
		}
		v, err := jsonable(v, "")
		if err != nil {
			return base, err
		}
		if b, err = json.Marshal(v); err != nil {
			return base, fmt.Errorf("YAML: %w", err)
		}
	}
	if t := bytes.TrimSpace(b); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return base, errors.New("empty: no settings")
	}
	// Decode over a deep copy: decoding a list reuses the slice's array.
	cfg, err := cloneConfig(base)
	if err != nil {
		return base, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return base, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return base, errors.New("data after the config")
	}
	return cfg, nil
}

func cloneConfig(c RunConfig) (RunConfig, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return c, err
	}
	var out RunConfig
	err = json.Unmarshal(b, &out)
	return out, err
}

// jsonError says where a decoding error is, in the config's terms.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%s: a %s, want %s", te.Field, te.Value, te.Type)
	}
	return err
}

// jsonable turns YAML's generic value into one encoding/json takes: map
// keys must be strings.
func jsonable(v any, at string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			var err error
			if x[k], err = jsonable(e, at+"."+k); err != nil {
				return nil, err
			}
		}
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				where := strings.TrimPrefix(at, ".")
				if where == "" {
					where = "the top level"
				}
				return nil, fmt.Errorf("YAML: key %v in %s is not a string", k, where)
			}
			var err error
			if m[ks], err = jsonable(e, at+"."+ks); err != nil {
				return nil, err
			}
		}
		return m, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("YAML: %s: %v, want a finite number", strings.TrimPrefix(at, "."), x)
		}
	case []any:
		for i, e := range x {
			var err error
			if x[i], err = jsonable(e, at+"["+strconv.Itoa(i)+"]"); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// Limits on a model spec, so that a typo is refused rather than crashing
// the run when the memory runs out.
const (
	MaxParams = 1 << 27 // weights, 512 MiB of float32
	maxWidth  = 1 << 16 // a layer's size
	maxLayers = 64
)

// CheckSpec checks s as Build would, and also that it is of a size that
// can run: each layer at most 65,536 wide, at most 64 layers and 2^27
// weights, and for a cnn an image that the pools do not shrink to nothing.
// It allocates nothing.
func CheckSpec(s nn.Spec) error {
	if err := checkSpec(s); err != nil {
		if errors.Is(err, nn.ErrSpec) {
			return err
		}
		return fmt.Errorf("train: %s: %w", s.Kind, err)
	}
	return nil
}

// checkSpec is CheckSpec with its own errors unprefixed.
func checkSpec(s nn.Spec) error {
	s, err := s.Normalize()
	if err != nil {
		return err
	}
	if len(s.Hidden) > maxLayers || len(s.Widths) > maxLayers {
		return fmt.Errorf("more than %d layers", maxLayers)
	}
	k := 1
	if s.Kind == "cnn" {
		k = 9
	}
	n, c := 0, s.In
	for i, w := range append(slices.Clone(s.Hidden), s.Widths...) {
		if w > maxWidth || c > maxWidth {
			return fmt.Errorf("layer %d is %d wide, the limit is %d", i, max(w, c), maxWidth)
		}
		n += k*c*w + 4*w
		c = w
		if n > MaxParams {
			return fmt.Errorf("more than %d weights", MaxParams)
		}
	}
	if n += c*s.Classes + s.Classes; n > MaxParams {
		return fmt.Errorf("more than %d weights", MaxParams)
	}
	side := dataset.Rows
	for range s.PoolAfter {
		if side /= 2; side == 0 {
			return fmt.Errorf("%d pools shrink a %d×%d image to nothing", len(s.PoolAfter), dataset.Rows, dataset.Cols)
		}
	}
	return nil
}

// Validate checks every stage.
func (c RunConfig) Validate() error {
	if c.Val < 1 || c.Val >= 60000 {
		// With no validation images the best epoch cannot be chosen.
		return fmt.Errorf("train: val %d, want in [1, 60000)", c.Val)
	}
	if c.Subset < 0 {
		return fmt.Errorf("train: subset %d, want >= 0", c.Subset)
	}
	for _, s := range []struct {
		name, kind string
		in         int // the input size the data has; 0 when set by the pipeline
		st         Stage
	}{{"mlp", "mlp", dataset.Pixels, c.MLP}, {"cnn", "cnn", 1, c.CNN}, {"head", "mlp", 0, c.Head}} {
		if err := s.st.Train.Validate(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		sp := s.st.Spec
		if s.in == 0 {
			sp.In = 0 // the head's input is the backbone's width, set at run time
		}
		if err := checkSpec(sp); err != nil {
			return fmt.Errorf("train: %s: %w", s.name, err)
		}
		if sp.Kind != s.kind {
			return fmt.Errorf("train: %s: model kind %q, want %q", s.name, sp.Kind, s.kind)
		}
		if s.in != 0 && sp.In != 0 && sp.In != s.in {
			return fmt.Errorf("train: %s: input size %d, the images give %d", s.name, sp.In, s.in)
		}
		if sp.Classes != 0 && sp.Classes != dataset.Classes {
			return fmt.Errorf("train: %s: %d classes, Fashion-MNIST has %d", s.name, sp.Classes, dataset.Classes)
		}
		a := s.st.Augment
		if a.Pad < 0 || a.Pad > dataset.Rows/2 || !(a.Erase >= 0 && a.Erase <= 1) {
			return fmt.Errorf("train: %s: augment pad %d (want 0 to %d) or erase %v (want 0 to 1)", s.name, a.Pad, dataset.Rows/2, a.Erase)
		}
	}
	return nil
}

// Result of one model in results.json.
type ModelResult struct {
	TestAcc   float64 `json:"test_acc"`
	TestLoss  float64 `json:"test_loss"`
	ValAcc    float64 `json:"val_acc"`
	BestEpoch int     `json:"best_epoch"`
	Epochs    int     `json:"epochs"`
	TrainS    float64 `json:"train_s"`
	Params    int     `json:"params"`
}

// Splits is the data a pipeline runs on.
type Splits struct {
	Train, Val, Test *dataset.Set
	Mean, Std        float32 // of the train split's pixels, used to normalise
}

// Prepare splits and subsets the data as cfg says.
func Prepare(f *dataset.Fashion, cfg RunConfig) (*Splits, error) {
	tr, va, err := dataset.Split(f.Train, cfg.Val, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if cfg.Subset > tr.Len() {
		return nil, fmt.Errorf("train: subset %d: the train split has only %d images (%d held out for validation)",
			cfg.Subset, tr.Len(), va.Len())
	}
	if cfg.Subset > 0 && cfg.Subset < tr.Len() {
		tr = tr.Subset(cfg.Subset)
	}
	for _, s := range []struct {
		name string
		st   Stage
	}{{"mlp", cfg.MLP}, {"cnn", cfg.CNN}, {"head", cfg.Head}} {
		if err := checkTrainSize(s.name, s.st.Spec, s.st.Train.Batch, tr.Len()); err != nil {
			return nil, err
		}
	}
	mean, std := dataset.Stats(tr)
	return &Splits{Train: tr, Val: va, Test: f.Test, Mean: float32(mean), Std: float32(std)}, nil
}

// meta is the model-file metadata that a reloaded model needs to see its
// inputs as in training: the pixel normalisation.
func (s *Splits) meta() map[string]string {
	return map[string]string{
		"pixel_mean": strconv.FormatFloat(float64(s.Mean), 'g', -1, 32),
		"pixel_std":  strconv.FormatFloat(float64(s.Std), 'g', -1, 32),
	}
}

// PixelNorm reads the pixel normalisation back from model-file metadata.
func PixelNorm(meta map[string]string) (mean, std float32, err error) {
	m, err1 := strconv.ParseFloat(meta["pixel_mean"], 32)
	s, err2 := strconv.ParseFloat(meta["pixel_std"], 32)
	if err1 != nil || err2 != nil || !(s > 0) {
		return 0, 0, fmt.Errorf("train: no valid pixel_mean/pixel_std in the model's metadata")
	}
	return float32(m), float32(s), nil
}

// trainLoader is the shuffled, augmented loader of the train split for st.
func (s *Splits) trainLoader(st Stage, seed uint64) *dataset.Loader {
	b := st.Train.Batch
	return dataset.NewLoader(s.Train, dataset.LoaderConfig{Batch: b, Shuffle: true, Seed: seed,
		Mean: s.Mean, Std: s.Std, Augment: st.Augment, DropLast: dropLast(st.Spec, s.Train.Len(), b)})
}

func (s *Splits) loader(set *dataset.Set, batch int, shuffle bool, seed uint64, aug dataset.Augment) *dataset.Loader {
	return dataset.NewLoader(set, dataset.LoaderConfig{Batch: batch, Shuffle: shuffle, Seed: seed,
		Mean: s.Mean, Std: s.Std, Augment: aug})
}

// Pipeline runs the three models and writes a run folder.
//
// At the end of every epoch, and when Hooks.Stop ends a stage, it saves a
// checkpoint under Out/checkpoints; with Resume set it continues from one,
// skipping the stages already done (their model files are reloaded) and
// ending with the same bytes an uninterrupted run writes.
type Pipeline struct {
	Config RunConfig
	Data   *Splits
	Out    string
	Hooks  Hooks
	// Log receives one-line notes (stage changes, saved files); may be nil.
	Log func(string)

	// Keep is how many checkpoints to keep: 0 means 2, a negative number
	// writes none.
	Keep int
	// Command and Stages are what a resume continues: "run" (the default)
	// with all three Stages, or "train" with one.
	Command string
	Stages  []string
	// Backbone is, for the head trained alone, the file its CNN came from.
	Backbone string
	// Resume, when set before Start, continues the run it holds.
	Resume *Checkpoint

	records     []Record
	results     map[string]*ModelResult
	preds       *predictions
	testL, valL Batches
	done        []string
	backboneSum string
	lastCkpt    string
}

func (p *Pipeline) logf(format string, args ...any) {
	if p.Log != nil {
		p.Log(fmt.Sprintf(format, args...))
	}
}

// Run trains the MLP, the CNN and the head on CNN features, evaluates each
// once on the test set with its best-validation weights, and writes
// config.json, metrics.csv, timing.csv, results.json, predictions.csv and
// the three model files into p.Out. It returns the results by model name.
func (p *Pipeline) Run() (map[string]*ModelResult, error) {
	if err := p.Start(); err != nil {
		return nil, err
	}
	if _, err := p.TrainMLP(); err != nil {
		return p.results, err
	}
	cnn, err := p.TrainCNN()
	if err != nil {
		return p.results, err
	}
	if _, err := p.TrainHead(cnn); err != nil {
		return p.results, err
	}
	return p.results, p.Finish()
}

// Start validates the config, creates the output folder and writes
// config.json, or, with Resume, checks that it fits this run and restores
// what it holds. Call it before the Train methods.
func (p *Pipeline) Start() error {
	if err := p.Config.Validate(); err != nil {
		return err
	}
	if err := p.Config.CheckMemory(); err != nil {
		return err
	}
	if p.Command == "" {
		p.Command = "run"
	}
	if p.Stages == nil {
		p.Stages = Stages
	}
	if err := os.MkdirAll(p.Out, 0o755); err != nil {
		return fmt.Errorf("train: output folder: %w", err)
	}
	p.results = map[string]*ModelResult{}
	p.preds = newPredictions()
	p.records, p.done = nil, nil
	d := p.Data
	p.testL = d.loader(d.Test, 500, false, 0, dataset.Augment{})
	p.valL = d.loader(d.Val, 500, false, 0, dataset.Augment{})
	if p.Resume != nil {
		return p.restore(p.Resume)
	}
	return writeJSON(filepath.Join(p.Out, "config.json"), p.Config)
}

// restore takes over what a checkpoint holds, after checking it is of this
// run: command, stages, config and data.
func (p *Pipeline) restore(c *Checkpoint) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrCheckpoint, c.Path, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Command != p.Command || !slices.Equal(c.Stages, p.Stages):
		return bad("it is of %s %v, not %s %v", c.Command, c.Stages, p.Command, p.Stages)
	case mustJSON(c.Config) != mustJSON(p.Config):
		return bad("its config differs from this run's")
	case c.Mean != p.Data.Mean || c.Std != p.Data.Std:
		return bad("the training pixels had mean %v and std %v, now %v and %v: not the same data",
			c.Mean, c.Std, p.Data.Mean, p.Data.Std)
	}
	p.records = slices.Clone(c.Records)
	p.done = slices.Clone(c.Done)
	for _, m := range c.Done {
		r := *c.Results[m]
		p.results[m] = &r
		p.preds.set(m, c.Preds[m])
	}
	return nil
}

// Finish writes predictions.csv and results.json.
func (p *Pipeline) Finish() error {
	if err := p.preds.write(filepath.Join(p.Out, "predictions.csv")); err != nil {
		return err
	}
	return writeJSON(filepath.Join(p.Out, "results.json"), p.results)
}

// Records are the epoch records so far, of every model, in order.
func (p *Pipeline) Records() []Record { return p.records }

// Results are the results so far, by model name.
func (p *Pipeline) Results() map[string]*ModelResult { return p.results }

// reload returns a finished stage's model from its file.
func (p *Pipeline) reload(name string) (*Loaded, error) {
	path := filepath.Join(p.Out, name+".safetensors")
	l, err := LoadModel(path)
	if err != nil {
		return nil, fmt.Errorf("resuming after %s: %w", name, err)
	}
	if l.Kind != name {
		return nil, fmt.Errorf("train: %s holds a %s model, want %s", path, l.Kind, name)
	}
	if err := p.checkReloaded(path, l); err != nil {
		return nil, err
	}
	p.logf("%s: done, reloaded %s", name, path)
	return l, nil
}

// TrainMLP trains the MLP on pixels, tests it and saves mlp.safetensors.
func (p *Pipeline) TrainMLP() (*nn.Model, error) {
	d, c := p.Data, p.Config
	if slices.Contains(p.done, "mlp") {
		l, err := p.reload("mlp")
		if err != nil {
			return nil, err
		}
		return l.Model, nil
	}
	m, err := nn.Build(c.MLP.Spec, c.Seed+1)
	if err != nil {
		return nil, err
	}
	p.logf("training mlp %v on %d images", m.Spec.Hidden, d.Train.Len())
	r, err := p.fit("mlp", m, d.trainLoader(c.MLP, c.Seed+11), p.valL, c.MLP.Train, c.Seed+21)
	if err != nil {
		return nil, err
	}
	p.finish("mlp", Eval{m}, r, countParams(m))
	if err := SaveModel(filepath.Join(p.Out, "mlp.safetensors"), m, d.meta()); err != nil {
		return nil, err
	}
	return m, p.stageDone("mlp")
}

// TrainCNN trains the backbone CNN with its linear head, tests it and saves
// cnn.safetensors.
func (p *Pipeline) TrainCNN() (*nn.Model, error) {
	d, c := p.Data, p.Config
	if slices.Contains(p.done, "cnn") {
		l, err := p.reload("cnn")
		if err != nil {
			return nil, err
		}
		return l.Model, nil
	}
	m, err := nn.Build(c.CNN.Spec, c.Seed+2)
	if err != nil {
		return nil, err
	}
	p.logf("training cnn widths %v, batch norm %v", m.Spec.Widths, m.Spec.BatchNorm)
	r, err := p.fit("cnn", m, d.trainLoader(c.CNN, c.Seed+12), p.valL, c.CNN.Train, c.Seed+22)
	if err != nil {
		return nil, err
	}
	p.finish("cnn", Eval{m}, r, countParams(m))
	if err := SaveModel(filepath.Join(p.Out, "cnn.safetensors"), m, d.meta()); err != nil {
		return nil, err
	}
	return m, p.stageDone("cnn")
}

// TrainHead extracts the features of a trained backbone, standardises them
// with the train split's statistics, trains the MLP head on them, tests the
// stack and saves cnn_mlp.safetensors.
func (p *Pipeline) TrainHead(cnn *nn.Model) (*Stacked, error) {
	d, c := p.Data, p.Config
	if slices.Contains(p.done, "cnn_mlp") {
		l, err := p.reload("cnn_mlp")
		if err != nil {
			return nil, err
		}
		return l.Stacked, nil
	}
	if cnn == nil || cnn.Spec.Kind != "cnn" {
		return nil, errors.New("train: the head needs a trained cnn backbone")
	}
	p.logf("extracting cnn features of %d train and %d val images", d.Train.Len(), d.Val.Len())
	p.phase("cnn_mlp", PhaseFeatures)
	trF, dim, trY := Extract(cnn, d.loader(d.Train, 500, false, 0, dataset.Augment{}))
	vaF, _, vaY := Extract(cnn, p.valL)
	norm := FitStandardizer(trF, dim)
	norm.Apply(trF)
	norm.Apply(vaF)
	hs := c.Head.Spec
	hs.In = dim
	head, err := nn.Build(hs, c.Seed+3)
	if err != nil {
		return nil, err
	}
	p.logf("training the mlp head %v on %d-d features", head.Spec.Hidden, dim)
	var trL Batches
	if c.Head.Augment != (dataset.Augment{}) {
		// The features of new augmented images every epoch, through the backbone.
		trL = NewAugFeatureLoader(d.trainLoader(c.Head, c.Seed+13), cnn, &norm)
	} else {
		fl := NewFeatureLoader(trF, dim, trY, c.Head.Train.Batch, true, c.Seed+13)
		fl.dropLast = dropLast(c.Head.Spec, len(trY), c.Head.Train.Batch)
		trL = fl
	}
	r, err := p.fit("cnn_mlp", head, trL, NewFeatureLoader(vaF, dim, vaY, 500, false, 0), c.Head.Train, c.Seed+23)
	if err != nil {
		return nil, err
	}
	st := &Stacked{Backbone: cnn, Norm: norm, Head: head}
	p.finish("cnn_mlp", st, r, countParams(head))
	if err := SaveStacked(filepath.Join(p.Out, "cnn_mlp.safetensors"), st, d.meta()); err != nil {
		return nil, err
	}
	return st, p.stageDone("cnn_mlp")
}

// SetBackboneChecksum records the checksum of the Backbone file, which a
// resume of a head trained alone checks.
func (p *Pipeline) SetBackboneChecksum(sum string) { p.backboneSum = sum }

// checkpointOf gathers the run's state, with fit the state of stage's
// training (nil when it has not started).
func (p *Pipeline) checkpointOf(stage string, fit *FitState) *Checkpoint {
	return &Checkpoint{Command: p.Command, Stages: p.Stages, Done: p.done, Stage: stage, Config: p.Config,
		Mean: p.Data.Mean, Std: p.Data.Std, Backbone: p.Backbone, BackboneSum: p.backboneSum,
		Records: p.records, Results: p.results, Preds: p.preds.rows, Fit: fit}
}

// stageDone marks a stage finished: results.json and predictions.csv are
// written with what is done so far, and a checkpoint says where the next
// stage starts. A stop requested meanwhile ends the run here.
func (p *Pipeline) stageDone(name string) error {
	p.done = append(p.done, name)
	if err := p.Finish(); err != nil {
		return err
	}
	next := ""
	if i := slices.Index(p.Stages, name); i >= 0 && i+1 < len(p.Stages) {
		next = p.Stages[i+1]
	}
	if p.Keep >= 0 {
		path, err := WriteCheckpoint(p.Out, p.checkpointOf(next, nil), p.keep())
		if err != nil {
			p.logf("warning: %v", err)
		} else {
			p.lastCkpt = path
		}
	}
	if next != "" && p.Hooks.Stop != nil && p.Hooks.Stop() {
		return &InterruptedError{Model: next, Checkpoint: p.lastCkpt}
	}
	return nil
}

func (p *Pipeline) keep() int {
	if p.Keep == 0 {
		return 2
	}
	return p.Keep
}

// stageOf is the 1-based place of a stage in p.Stages, and their number.
func (p *Pipeline) stageOf(name string) (int, int) {
	return slices.Index(p.Stages, name) + 1, len(p.Stages)
}

// phase tells the Progress hook that stage name starts work without steps.
func (p *Pipeline) phase(name, phase string) {
	if p.Hooks.Progress != nil {
		pr := Progress{Model: name, Phase: phase}
		pr.Stage, pr.Stages = p.stageOf(name)
		p.Hooks.Progress(pr)
	}
}

func (p *Pipeline) fit(name string, m *nn.Model, tr, va Batches, cfg Config, seed uint64) (*Result, error) {
	h := p.Hooks
	if h.Progress != nil {
		stage, stages := p.stageOf(name)
		h.Progress = func(pr Progress) {
			pr.Stage, pr.Stages = stage, stages
			p.Hooks.Progress(pr)
		}
	}
	h.Epoch = func(rec Record) {
		p.records = append(p.records, rec)
		if err := writeMetrics(p.Out, p.records); err != nil {
			p.logf("warning: %v", err)
		}
		if p.Hooks.Epoch != nil {
			p.Hooks.Epoch(rec)
		}
	}
	h.Checkpoint = nil
	if p.Keep >= 0 {
		h.Checkpoint = func(s *FitState) error {
			path, err := WriteCheckpoint(p.Out, p.checkpointOf(name, s), p.keep())
			if err != nil && !s.Final {
				// Training can go on; only resuming from here is lost.
				p.logf("warning: %v", err)
				return nil
			}
			p.lastCkpt = path
			return err
		}
	}
	var from *FitState
	if c := p.Resume; c != nil && c.Stage == name && c.Fit != nil {
		from = c.Fit
		p.logf("%s: resuming at epoch %d, step %d of %d", name, from.Epoch+1, from.Batch, tr.Batches())
	}
	r, err := FitFrom(name, m, tr, va, cfg, seed, h, from)
	if errors.Is(err, ErrCheckpoint) && from != nil {
		err = fmt.Errorf("%s: %w", p.Resume.Path, err)
	}
	var ie *InterruptedError
	if errors.As(err, &ie) {
		ie.Checkpoint = p.lastCkpt
	}
	return r, err
}

func (p *Pipeline) finish(name string, pr Predictor, r *Result, params int) {
	p.phase(name, PhaseTest)
	sc := Evaluate(pr, p.testL, p.preds.add(name))
	p.results[name] = &ModelResult{TestAcc: sc.Acc, TestLoss: sc.Loss, ValAcc: r.BestVal, BestEpoch: r.BestEpoch,
		Epochs: r.Epochs, TrainS: r.Seconds, Params: params}
}

func countParams(m *nn.Model) int {
	n := 0
	for _, p := range m.Params() {
		n += p.Value.Len()
	}
	return n
}

// predictions collects the test predictions of each model, in the order
// the models were added.
type predictions struct {
	models []string
	rows   map[string][]Pred
}

func newPredictions() *predictions { return &predictions{rows: map[string][]Pred{}} }

// add returns the callback Evaluate fills, which takes items in order.
func (p *predictions) add(model string) func(i int, label, class uint8, prob float32) {
	p.set(model, nil)
	return func(i int, label, class uint8, prob float32) {
		p.rows[model] = append(p.rows[model], Pred{label, class, prob})
	}
}

func (p *predictions) set(model string, rows []Pred) {
	if !slices.Contains(p.models, model) {
		p.models = append(p.models, model)
	}
	p.rows[model] = rows
}

func (p *predictions) write(path string) error {
	rows := [][]string{{"model", "index", "label", "pred", "prob"}}
	for _, m := range p.models {
		for i, r := range p.rows[m] {
			rows = append(rows, []string{m, strconv.Itoa(i), strconv.Itoa(int(r.Label)), strconv.Itoa(int(r.Class)),
				strconv.FormatFloat(float64(r.Prob), 'f', 5, 32)})
		}
	}
	return writeCSV(path, rows)
}

// MetricsHeader is the header of metrics.csv, whose content is a function
// of the config and seed alone: two runs give the same bytes.
var MetricsHeader = []string{"model", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"}

// TimingHeader is the header of timing.csv, the speed of each epoch, which
// varies from run to run.
var TimingHeader = []string{"model", "epoch", "img_per_s", "seconds"}

// writeMetrics writes metrics.csv and timing.csv into dir.
func writeMetrics(dir string, recs []Record) error {
	rows := [][]string{MetricsHeader}
	times := [][]string{TimingHeader}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, r := range recs {
		ep := strconv.Itoa(r.Epoch)
		rows = append(rows, []string{r.Model, ep, f(r.TrainLoss), f(r.TrainAcc), f(r.ValLoss), f(r.ValAcc), f(r.LR)})
		times = append(times, []string{r.Model, ep, f(r.ImgPerS), f(r.Seconds)})
	}
	if err := writeCSV(filepath.Join(dir, "metrics.csv"), rows); err != nil {
		return err
	}
	return writeCSV(filepath.Join(dir, "timing.csv"), times)
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
		return fmt.Errorf("train: %s: %w", path, err)
	}
	return checkpoint.WriteAtomic(path, func(w *os.File) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// ReadResults reads a run folder's results.json.
func ReadResults(path string) (map[string]*ModelResult, error) {
	b, err := safefile.ReadFile(path, 1<<20)
	if err != nil {
		return nil, err
	}
	var r map[string]*ModelResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("train: %s: %w", path, err)
	}
	if len(r) == 0 {
		return nil, errors.New("train: " + path + ": no results")
	}
	return r, nil
}
