package pipeline

import (
	"errors"

	"fmt"
	"github.com/fmnist/fmnist/checkpoint"
	"path/filepath"
	"slices"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
)

// Stages are the models of the pipeline, in the order it trains them.
var Stages = model.Names

// A stage's seeds are the run's seed plus offsets from its place k (1, 2
// or 3) in model.Names: its initial weights and dropout streams (both drawn
// by nn.Build) Seed+k, its training order and augmentation Seed+10+k. So
// each stage draws from streams of its own, and a stage trained alone by
// `fmnist train` gets the numbers it gets inside `fmnist run`. (Fit once
// took a Seed+20+k it never used; it now takes none.)
const (
	weightSeed = 0
	orderSeed  = 10
)

// trained is what a stage's preparation hands to Fit, and how to test and
// save the result.
type trained struct {
	m      *nn.Model // the model Fit trains
	tr, va fit.Batches
	// predictor is what the test set runs through, and save writes its
	// file, both after Fit has restored the best weights.
	predictor nn.Predictor
	save      func(path string) error
}

// stageTable is the one table of the stages: how each makes its model and
// its batches. Everything else (fitting, testing, saving, checkpoints,
// resuming) is the same for every stage, in RunStage.
var stageTable = map[string]struct {
	recipe  func(*RunConfig) Stage
	prepare func(p *Pipeline, st Stage, seed uint64) (*trained, error)
}{
	model.KindMLP:    {func(c *RunConfig) Stage { return c.MLP }, (*Pipeline).onImages},
	model.KindCNN:    {func(c *RunConfig) Stage { return c.CNN }, (*Pipeline).onImages},
	model.KindCNNMLP: {func(c *RunConfig) Stage { return c.CNNMLP }, (*Pipeline).onFeatures},
}

// RunStage trains stage name, tests it and saves its model file; a stage
// done before a resume is reloaded from its file instead.
func (p *Pipeline) RunStage(name string) error {
	def, ok := stageTable[name]
	if !ok {
		return fmt.Errorf("pipeline: unknown stage %q (want one of %v)", name, Stages)
	}
	path := filepath.Join(p.Out, model.FileName(name))
	if slices.Contains(p.done, name) {
		return p.reload(name, path)
	}
	seed := p.Config.Seed + uint64(slices.Index(model.Names, name)+1)
	st := def.recipe(&p.Config)
	t, err := def.prepare(p, st, seed)
	if err != nil {
		return err
	}
	r, err := p.fit(name, t.m, t.tr, t.va, st.Train)
	if err != nil {
		return err
	}
	p.test(name, t.predictor, r, model.ParamCount(t.m))
	if err := t.save(path); err != nil {
		return err
	}
	// The checksum a resume holds this file to, read back as a reader sees it.
	f, err := checkpoint.Read(path)
	if err != nil {
		return err
	}
	p.modelSums[name] = f.Metadata["checksum"]
	if name == model.KindCNN {
		p.BackboneCNN = t.m
	}
	return p.stageDone(name)
}

// reload takes a finished stage's model from its file, checked by Start.
func (p *Pipeline) reload(name, path string) error {
	l := p.loaded[name]
	if l == nil {
		var err error
		if l, err = model.LoadModel(path); err != nil {
			return fmt.Errorf("resuming after %s: %w", name, err)
		}
	}
	if l.Kind != name {
		return fmt.Errorf("pipeline: %s holds a %s model, want %s", path, l.Kind, name)
	}
	if name == model.KindCNN {
		p.BackboneCNN = l.Model
	}
	p.logf("%s: done, reloaded %s", name, path)
	return nil
}

// onImages prepares a model that trains on the images: the MLP on pixels
// and the CNN.
func (p *Pipeline) onImages(st Stage, seed uint64) (*trained, error) {
	d := p.Data
	m, err := nn.Build(st.Spec, seed+weightSeed)
	if err != nil {
		return nil, err
	}
	if m.Spec.Kind == "cnn" {
		p.logf("training cnn widths %v, batch norm %v", m.Spec.Widths, m.Spec.BatchNorm)
	} else {
		p.logf("training mlp %v on %d images", m.Spec.Hidden, d.Train.Len())
	}
	meta := model.PixelMeta(d.Mean, d.Std)
	return &trained{m: m, tr: d.trainLoader(st, seed+orderSeed), va: p.valL, predictor: nn.Eval{Model: m},
		save: func(path string) error { return model.SaveModel(path, m, meta) }}, nil
}

// onFeatures prepares the MLP on CNN features: it extracts the features of
// the trained backbone, standardises them with the train split's
// statistics, and serves them in batches.
func (p *Pipeline) onFeatures(st Stage, seed uint64) (*trained, error) {
	d, cnn := p.Data, p.BackboneCNN
	if cnn == nil || cnn.Spec.Kind != "cnn" {
		return nil, errors.New("pipeline: the cnn_mlp stage needs a trained cnn backbone")
	}
	p.logf("extracting cnn features of %d train and %d val images", d.Train.Len(), d.Val.Len())
	p.phase(model.KindCNNMLP, fit.PhaseFeatures)
	trF, dim, trY := Extract(cnn, d.loader(d.Train, model.EvalBatch, false, 0, dataset.Augment{}))
	vaF, _, vaY := Extract(cnn, p.valL)
	norm := model.FitStandardizer(trF, dim)
	norm.Apply(trF)
	norm.Apply(vaF)
	hs := st.Spec
	hs.In = dim
	head, err := nn.Build(hs, seed+weightSeed)
	if err != nil {
		return nil, err
	}
	p.logf("training the mlp head %v on %d-d features", head.Spec.Hidden, dim)
	var trL fit.Batches
	if st.Augment != (dataset.Augment{}) {
		// The features of new augmented images every epoch, through the backbone.
		trL = NewAugFeatureLoader(d.trainLoader(st, seed+orderSeed), cnn, &norm)
	} else {
		fl := fit.NewFeatureLoader(trF, dim, trY, st.Train.Batch, true, seed+orderSeed)
		fl.DropLast = dropLast(st.Spec, len(trY), st.Train.Batch)
		trL = fl
	}
	s := &model.CNNMLP{CNN: cnn, Norm: norm, MLP: head}
	meta := model.PixelMeta(d.Mean, d.Std)
	return &trained{m: head, tr: trL, va: fit.NewFeatureLoader(vaF, dim, vaY, model.EvalBatch, false, 0), predictor: s,
		save: func(path string) error { return model.SaveCNNMLP(path, s, meta) }}, nil
}
