package train

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"fmnist/checkpoint"
	"fmnist/dataset"
	"fmnist/nn"
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

// DefaultConfig is the recipe chosen on validation.
func DefaultConfig() RunConfig {
	return RunConfig{
		Seed: 1,
		Val:  10000,
		MLP: Stage{
			Spec:    nn.Spec{Kind: "mlp", In: 784, Hidden: []int{512, 256}, Dropout: 0.2, Classes: 10},
			Train:   Config{Epochs: 20, Batch: 128, Optimizer: "sgd", LR: 0.05, Schedule: "onecycle", Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, LabelSmoothing: 0.1},
			Augment: dataset.Augment{Pad: 2},
		},
		CNN: Stage{
			Spec:    nn.Spec{Kind: "cnn", Widths: []int{32, 64, 128, 256, 256}, PoolAfter: []int{1, 2, 3}, BatchNorm: true, Classes: 10},
			Train:   Config{Epochs: 10, Batch: 128, Optimizer: "sgd", LR: 0.05, Schedule: "onecycle", Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, LabelSmoothing: 0.1},
			Augment: dataset.Augment{Pad: 2, Flip: true},
		},
		Head: Stage{
			Spec:  nn.Spec{Kind: "mlp", In: 256, Hidden: []int{512, 256}, Dropout: 0.3, Classes: 10},
			Train: Config{Epochs: 10, Batch: 128, Optimizer: "sgd", LR: 0.01, Schedule: "onecycle", Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, LabelSmoothing: 0.1},
		},
	}
}

// Validate checks every stage.
func (c RunConfig) Validate() error {
	if c.Val < 0 || c.Val >= 60000 {
		return fmt.Errorf("train: val %d, want in [0, 60000)", c.Val)
	}
	if c.Subset < 0 {
		return fmt.Errorf("train: subset %d, want >= 0", c.Subset)
	}
	for _, s := range []struct {
		name string
		st   Stage
	}{{"mlp", c.MLP}, {"cnn", c.CNN}, {"head", c.Head}} {
		if err := s.st.Train.Validate(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if _, err := nn.Build(s.st.Spec, 0); err != nil {
			return fmt.Errorf("train: %s: %w", s.name, err)
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
	if cfg.Subset > 0 && cfg.Subset < tr.Len() {
		tr = tr.Subset(cfg.Subset)
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

func (s *Splits) loader(set *dataset.Set, batch int, shuffle bool, seed uint64, aug dataset.Augment) *dataset.Loader {
	return dataset.NewLoader(set, dataset.LoaderConfig{Batch: batch, Shuffle: shuffle, Seed: seed,
		Mean: s.Mean, Std: s.Std, Augment: aug})
}

// Pipeline runs the three models and writes a run folder.
type Pipeline struct {
	Config RunConfig
	Data   *Splits
	Out    string
	Hooks  Hooks
	// Log receives one-line notes (stage changes, saved files); may be nil.
	Log func(string)

	records     []Record
	results     map[string]*ModelResult
	preds       *predictions
	testL, valL Batches
}

func (p *Pipeline) logf(format string, args ...any) {
	if p.Log != nil {
		p.Log(fmt.Sprintf(format, args...))
	}
}

// Run trains the MLP, the CNN and the head on CNN features, evaluates each
// once on the test set with its best-validation weights, and writes
// config.json, metrics.csv, results.json, predictions.csv and the three
// model files into p.Out. It returns the results by model name.
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
// config.json. Call it before the Train methods.
func (p *Pipeline) Start() error {
	if err := p.Config.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(p.Out, 0o755); err != nil {
		return fmt.Errorf("train: output folder: %w", err)
	}
	p.results = map[string]*ModelResult{}
	p.preds = newPredictions()
	d := p.Data
	p.testL = d.loader(d.Test, 500, false, 0, dataset.Augment{})
	p.valL = d.loader(d.Val, 500, false, 0, dataset.Augment{})
	return writeJSON(filepath.Join(p.Out, "config.json"), p.Config)
}

// Finish writes predictions.csv and results.json.
func (p *Pipeline) Finish() error {
	if err := p.preds.write(filepath.Join(p.Out, "predictions.csv")); err != nil {
		return err
	}
	return writeJSON(filepath.Join(p.Out, "results.json"), p.results)
}

// Results are the results so far, by model name.
func (p *Pipeline) Results() map[string]*ModelResult { return p.results }

// TrainMLP trains the MLP on pixels, tests it and saves mlp.safetensors.
func (p *Pipeline) TrainMLP() (*nn.Model, error) {
	d, c := p.Data, p.Config
	m, err := nn.Build(c.MLP.Spec, c.Seed+1)
	if err != nil {
		return nil, err
	}
	p.logf("training mlp %v on %d images", c.MLP.Spec.Hidden, d.Train.Len())
	r, err := p.fit("mlp", m, d.loader(d.Train, c.MLP.Train.Batch, true, c.Seed+11, c.MLP.Augment), p.valL, c.MLP.Train, c.Seed+21)
	if err != nil {
		return nil, err
	}
	p.finish("mlp", Eval{m}, r, countParams(m))
	return m, SaveModel(filepath.Join(p.Out, "mlp.safetensors"), m, d.meta())
}

// TrainCNN trains the backbone CNN with its linear head, tests it and saves
// cnn.safetensors.
func (p *Pipeline) TrainCNN() (*nn.Model, error) {
	d, c := p.Data, p.Config
	m, err := nn.Build(c.CNN.Spec, c.Seed+2)
	if err != nil {
		return nil, err
	}
	p.logf("training cnn widths %v, batch norm %v", c.CNN.Spec.Widths, c.CNN.Spec.BatchNorm)
	r, err := p.fit("cnn", m, d.loader(d.Train, c.CNN.Train.Batch, true, c.Seed+12, c.CNN.Augment), p.valL, c.CNN.Train, c.Seed+22)
	if err != nil {
		return nil, err
	}
	p.finish("cnn", Eval{m}, r, countParams(m))
	return m, SaveModel(filepath.Join(p.Out, "cnn.safetensors"), m, d.meta())
}

// TrainHead extracts the features of a trained backbone, standardises them
// with the train split's statistics, trains the MLP head on them, tests the
// stack and saves cnn_mlp.safetensors.
func (p *Pipeline) TrainHead(cnn *nn.Model) (*Stacked, error) {
	d, c := p.Data, p.Config
	p.logf("extracting cnn features")
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
	p.logf("training the mlp head %v on %d-d features", hs.Hidden, dim)
	r, err := p.fit("cnn_mlp", head, NewFeatureLoader(trF, dim, trY, c.Head.Train.Batch, true, c.Seed+13),
		NewFeatureLoader(vaF, dim, vaY, 500, false, 0), c.Head.Train, c.Seed+23)
	if err != nil {
		return nil, err
	}
	st := &Stacked{Backbone: cnn, Norm: norm, Head: head}
	p.finish("cnn_mlp", st, r, countParams(head))
	return st, SaveStacked(filepath.Join(p.Out, "cnn_mlp.safetensors"), st, d.meta())
}

func (p *Pipeline) fit(name string, m *nn.Model, tr, va Batches, cfg Config, seed uint64) (*Result, error) {
	h := p.Hooks
	h.Epoch = func(rec Record) {
		p.records = append(p.records, rec)
		if err := writeMetrics(filepath.Join(p.Out, "metrics.csv"), p.records); err != nil {
			p.logf("warning: %v", err)
		}
		if p.Hooks.Epoch != nil {
			p.Hooks.Epoch(rec)
		}
	}
	return Fit(name, m, tr, va, cfg, seed, h)
}

func (p *Pipeline) finish(name string, pr Predictor, r *Result, params int) {
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

// predictions collects predictions.csv rows.
type predictions struct{ rows [][]string }

func newPredictions() *predictions { return &predictions{} }

func (p *predictions) add(model string) func(i int, label, class uint8, prob float32) {
	return func(i int, label, class uint8, prob float32) {
		p.rows = append(p.rows, []string{model, strconv.Itoa(i), strconv.Itoa(int(label)), strconv.Itoa(int(class)),
			strconv.FormatFloat(float64(prob), 'f', 5, 32)})
	}
}

func (p *predictions) write(path string) error {
	return writeCSV(path, append([][]string{{"model", "index", "label", "pred", "prob"}}, p.rows...))
}

// MetricsHeader is the header of metrics.csv.
var MetricsHeader = []string{"model", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "img_per_s", "seconds"}

func writeMetrics(path string, recs []Record) error {
	rows := [][]string{MetricsHeader}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, r := range recs {
		rows = append(rows, []string{r.Model, strconv.Itoa(r.Epoch), f(r.TrainLoss), f(r.TrainAcc), f(r.ValLoss),
			f(r.ValAcc), f(r.LR), f(r.ImgPerS), f(r.Seconds)})
	}
	return writeCSV(path, rows)
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
	b, err := os.ReadFile(path)
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
