package pipeline

import (
	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/tensor"
)

// Extract runs the backbone of a CNN over one pass of src and returns the
// feature matrix (rows in src's epoch-0 order) and the labels.
func Extract(m *nn.Model, src fit.Batches) (feats []float32, dim int, labels []uint8) {
	src.Epoch(0)
	for {
		x, y, ok := src.Next()
		if !ok {
			break
		}
		f := m.Features(x)
		dim = f.Shape[1]
		feats = append(feats, f.Data...)
		labels = append(labels, y...)
	}
	return feats, dim, labels
}

// AugFeatureLoader serves the backbone's features of augmented images,
// standardised by norm: each epoch the cnn_mlp's MLP sees the features of a new
// augmentation of every image, so that it trains on features as noisy as
// those the backbone gives unseen images, not on the features of images
// the backbone has fitted. Its order and augmentation are src's, so Seek
// resumes an epoch exactly.
type AugFeatureLoader struct {
	src  *dataset.Loader
	cnn  *nn.Model
	norm *model.Standardizer
	xb   *tensor.Tensor
}

// NewAugFeatureLoader serves the features cnn gives src's batches.
func NewAugFeatureLoader(src *dataset.Loader, cnn *nn.Model, norm *model.Standardizer) *AugFeatureLoader {
	return &AugFeatureLoader{src: src, cnn: cnn, norm: norm}
}

// Batches is src's number of batches per epoch.
func (l *AugFeatureLoader) Batches() int { return l.src.Batches() }

// Epoch starts epoch e of src.
func (l *AugFeatureLoader) Epoch(e int) { l.src.Epoch(e) }

// Seek makes batch k of the current epoch the next one.
func (l *AugFeatureLoader) Seek(k int) { l.src.Seek(k) }

// Next returns the standardised features of src's next batch, owned by the
// loader.
func (l *AugFeatureLoader) Next() (*tensor.Tensor, []uint8, bool) {
	x, y, ok := l.src.Next()
	if !ok {
		return nil, nil, false
	}
	f := l.cnn.Features(x)
	l.xb = tensor.Ensure(l.xb, f.Shape[0], f.Shape[1])
	copy(l.xb.Data, f.Data)
	l.norm.Apply(l.xb.Data)
	return l.xb, y, true
}
