package pipeline

import (
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
)

// dataBytes is what a run holds besides the models: the 70,000 images as
// bytes, and for cnn_mlp the features of every image, twice (raw and a
// batch's copy), in float32.
func dataBytes(featureDim int) float64 {
	const images = 70000
	return images*784 + 2*4*images*float64(featureDim)
}

// CheckMemory checks each stage of c against the memory budget: training
// at its batch size, and evaluation at model.EvalBatch. Call it after Validate.
func (c RunConfig) CheckMemory() error {
	cnn, err := c.CNN.Spec.Normalize()
	if err != nil {
		return err
	}
	head := c.CNNMLP.Spec
	if w := cnn.Widths; len(w) > 0 {
		head.In = w[len(w)-1]
	}
	for _, s := range []struct {
		name  string
		spec  nn.Spec
		batch int
		dim   int
	}{{"mlp", c.MLP.Spec, c.MLP.Train.Batch, 0}, {"cnn", c.CNN.Spec, c.CNN.Train.Batch, 0}, {"cnn_mlp", head, c.CNNMLP.Train.Batch, head.In}} {
		if err := model.CheckMemory(s.name, s.spec, s.batch, true, dataBytes(s.dim)); err != nil {
			return err
		}
		if err := model.CheckMemory(s.name, s.spec, model.EvalBatch, false, dataBytes(s.dim)); err != nil {
			return err
		}
	}
	if c.CNNMLP.Augment != (Stage{}).Augment {
		// The head's augmented features go through the backbone each step.
		if err := model.CheckMemory("cnn_mlp's cnn", c.CNN.Spec, c.CNNMLP.Train.Batch, false, dataBytes(head.In)); err != nil {
			return err
		}
	}
	return nil
}
