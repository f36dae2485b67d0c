package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/runfolder"
)

// Pipeline runs the stages of a run and writes its run folder.
//
// At the end of every epoch, and when Hooks.Stop ends a stage, it saves a
// checkpoint under Out/checkpoints; with Resume set it continues from one,
// skipping the stages already done (their model files are reloaded) and
// ending with the same bytes an uninterrupted run writes.
type Pipeline struct {
	Config RunConfig
	Data   *Splits
	Out    string
	Hooks  fit.Hooks
	// Log receives one-line notes (stage changes, saved files); may be nil.
	Log func(string)

	// Keep is how many checkpoints to keep: 0 means 2, a negative number
	// writes none.
	Keep int
	// Command and Stages are what a resume continues: "run" (the default)
	// with all of Stages, or "train" with one.
	Command string
	Stages  []string
	// Backbone is, for the cnn_mlp stage trained alone, the file its CNN
	// came from, and BackboneCNN that CNN, loaded.
	Backbone    string
	BackboneCNN *nn.Model
	// Resume, when set before Start, continues the run it holds.
	Resume *Checkpoint

	records     []fit.Record
	results     map[string]*runfolder.Result
	preds       *predictions
	testL, valL fit.Batches
	done        []string
	backboneSum string
	lastCkpt    string
	modelSums   map[string]string        // of the model files written, by stage
	loaded      map[string]*model.Loaded // checked on resume, reused by reload
}

func (p *Pipeline) logf(format string, args ...any) {
	if p.Log != nil {
		p.Log(fmt.Sprintf(format, args...))
	}
}

// Run trains every stage in order, evaluates each model once on the test
// set with its best-validation weights, and writes config.json,
// metrics.csv, timing.csv, results.json, predictions.csv and the model
// files into p.Out. It returns the results by model name.
func (p *Pipeline) Run() (map[string]*runfolder.Result, error) {
	if err := p.Start(); err != nil {
		return nil, err
	}
	for _, name := range p.Stages {
		if err := p.RunStage(name); err != nil {
			return p.results, err
		}
	}
	return p.results, p.Finish()
}

// Start validates the config, creates the output folder and writes
// config.json, or, with Resume, checks that it fits this run and restores
// what it holds. Call it before RunStage.
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
		return fmt.Errorf("pipeline: output folder: %w", err)
	}
	p.results = map[string]*runfolder.Result{}
	p.preds = newPredictions()
	p.records, p.done = nil, nil
	p.modelSums, p.loaded = map[string]string{}, map[string]*model.Loaded{}
	d := p.Data
	p.testL = d.loader(d.Test, model.EvalBatch, false, 0, dataset.Augment{})
	p.valL = d.loader(d.Val, model.EvalBatch, false, 0, dataset.Augment{})
	if p.Resume != nil {
		return p.restore(p.Resume)
	}
	return runfolder.WriteConfig(p.Out, p.Config)
}

// restore takes over what a checkpoint holds, after checking it is of this
// run: command, stages, config and data.
func (p *Pipeline) restore(c *Checkpoint) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", fit.ErrCheckpoint, c.Path, fmt.Sprintf(format, args...))
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
	for m, sum := range c.ModelSums {
		p.modelSums[m] = sum
	}
	for _, m := range c.Done {
		r := *c.Results[m]
		p.results[m] = &r
		p.preds.set(m, c.Preds[m])
		if err := p.checkModelFile(c, m); err != nil {
			return err
		}
	}
	return nil
}

// checkModelFile checks that the model file of a stage done before a
// resume is the one that stage wrote: of its kind, of the architecture its
// config describes, and, when the checkpoint recorded it, of its checksum.
func (p *Pipeline) checkModelFile(c *Checkpoint, name string) error {
	path := filepath.Join(p.Out, model.FileName(name))
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s; it is not the file the interrupted run wrote, so the run cannot go on from %s",
			fit.ErrCheckpoint, path, fmt.Sprintf(format, args...), c.Path)
	}
	l, err := model.LoadModel(path)
	if err != nil {
		return fmt.Errorf("%w: resuming after %s: %w", fit.ErrCheckpoint, name, err)
	}
	if l.Kind != name {
		return bad("it holds a %s model, want %s", l.Kind, name)
	}
	if want, ok := c.ModelSums[name]; ok && l.Meta["checksum"] != want {
		return bad("checksum %s, the checkpoint recorded %s", l.Meta["checksum"], want)
	}
	got := []nn.Spec{}
	want := []nn.Spec{}
	switch name {
	case model.KindCNNMLP:
		cnn := p.Config.CNN.Spec
		if p.BackboneCNN != nil {
			cnn = p.BackboneCNN.Spec
		}
		cnn, err = cnn.Normalize()
		if err != nil {
			return err
		}
		head := p.Config.CNNMLP.Spec
		head.In = cnn.Widths[len(cnn.Widths)-1]
		got, want = []nn.Spec{l.CNNMLP.CNN.Spec, l.CNNMLP.MLP.Spec}, []nn.Spec{cnn, head}
	default:
		got, want = []nn.Spec{l.Model.Spec}, []nn.Spec{stageTable[name].recipe(&p.Config).Spec}
	}
	for i := range want {
		w, err := want[i].Normalize()
		if err != nil {
			return err
		}
		if mustJSON(w) != mustJSON(got[i]) {
			return bad("its architecture is %s, the config describes %s", mustJSON(got[i]), mustJSON(w))
		}
	}
	p.loaded[name] = l
	return nil
}

// Finish writes predictions.csv and results.json.
func (p *Pipeline) Finish() error {
	if err := runfolder.WritePredictions(p.Out, p.preds.models, p.preds.rows); err != nil {
		return err
	}
	return runfolder.WriteResults(p.Out, p.results)
}

// Records are the epoch records so far, of every model, in order.
func (p *Pipeline) Records() []fit.Record { return p.records }

// Results are the results so far, by model name.
func (p *Pipeline) Results() map[string]*runfolder.Result { return p.results }

// SetBackboneChecksum records the checksum of the Backbone file, which a
// resume of a cnn_mlp stage trained alone checks.
func (p *Pipeline) SetBackboneChecksum(sum string) { p.backboneSum = sum }

// checkpointOf gathers the run's state, with st the state of stage's
// training (nil when it has not started).
func (p *Pipeline) checkpointOf(stage string, st *fit.State) *Checkpoint {
	return &Checkpoint{Command: p.Command, Stages: p.Stages, Done: p.done, ModelSums: p.modelSums, Stage: stage, Config: p.Config,
		Mean: p.Data.Mean, Std: p.Data.Std, Backbone: p.Backbone, BackboneSum: p.backboneSum,
		Records: p.records, Results: p.results, Preds: p.preds.rows, Fit: st}
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
		return &fit.InterruptedError{Model: next, Checkpoint: p.lastCkpt}
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
		pr := fit.Progress{Model: name, Phase: phase}
		pr.Stage, pr.Stages = p.stageOf(name)
		p.Hooks.Progress(pr)
	}
}

// fit runs Fit for a stage with the pipeline's hooks around the caller's:
// every epoch record goes to metrics.csv, every state to a checkpoint.
func (p *Pipeline) fit(name string, m *nn.Model, tr, va fit.Batches, cfg fit.Config) (*fit.Result, error) {
	h := p.Hooks
	if h.Progress != nil {
		stage, stages := p.stageOf(name)
		h.Progress = func(pr fit.Progress) {
			pr.Stage, pr.Stages = stage, stages
			p.Hooks.Progress(pr)
		}
	}
	h.Epoch = func(rec fit.Record) {
		p.records = append(p.records, rec)
		if err := runfolder.WriteMetrics(p.Out, p.records); err != nil {
			p.logf("warning: %v", err)
		}
		if p.Hooks.Epoch != nil {
			p.Hooks.Epoch(rec)
		}
	}
	h.Checkpoint = nil
	if p.Keep >= 0 {
		h.Checkpoint = func(s *fit.State) error {
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
	var from *fit.State
	if c := p.Resume; c != nil && c.Stage == name && c.Fit != nil {
		from = c.Fit
		p.logf("%s: resuming at epoch %d, step %d of %d", name, from.Epoch+1, from.Batch, tr.Batches())
	}
	r, err := fit.FitFrom(name, m, tr, va, cfg, h, from)
	if errors.Is(err, fit.ErrCheckpoint) && from != nil {
		err = fmt.Errorf("%s: %w", p.Resume.Path, err)
	}
	var ie *fit.InterruptedError
	if errors.As(err, &ie) {
		ie.Checkpoint = p.lastCkpt
	}
	return r, err
}

// test evaluates a trained stage once on the test set and keeps its
// result and predictions.
func (p *Pipeline) test(name string, pr nn.Predictor, r *fit.Result, params int) {
	p.phase(name, fit.PhaseTest)
	sc := fit.Evaluate(pr, p.testL, p.preds.add(name))
	p.results[name] = &runfolder.Result{TestAcc: sc.Acc, TestLoss: sc.Loss, ValAcc: r.BestVal, BestEpoch: r.BestEpoch,
		Epochs: r.Epochs, TrainS: r.Seconds, Params: params}
}

// predictions collects the test predictions of each model, in the order
// the models were added.
type predictions struct {
	models []string
	rows   map[string][]runfolder.Prediction
}

func newPredictions() *predictions { return &predictions{rows: map[string][]runfolder.Prediction{}} }

// add returns the callback Evaluate fills, which takes items in order.
func (p *predictions) add(model string) func(i int, label, class uint8, prob float32) {
	p.set(model, nil)
	return func(i int, label, class uint8, prob float32) {
		p.rows[model] = append(p.rows[model], runfolder.Prediction{Index: i, Label: label, Pred: class, Prob: float64(prob)})
	}
}

func (p *predictions) set(model string, rows []runfolder.Prediction) {
	if !slices.Contains(p.models, model) {
		p.models = append(p.models, model)
	}
	p.rows[model] = rows
}
