package train

import (
	"math"
	"math/rand/v2"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/tensor"
)

// FeatureLoader serves rows of a dense feature matrix in batches, like
// dataset.Loader serves images. Shuffling is derived from (seed, epoch).
type FeatureLoader struct {
	x      []float32
	dim    int
	labels []uint8
	batch  int
	shuf   bool
	seed   uint64
	order  []int32
	pos    int
	xb     *tensor.Tensor
	yb     []uint8
	// dropLast drops a last partial batch (see the dropLast function).
	dropLast bool
}

// NewFeatureLoader serves x (len(labels) rows of dim features).
func NewFeatureLoader(x []float32, dim int, labels []uint8, batch int, shuffle bool, seed uint64) *FeatureLoader {
	l := &FeatureLoader{x: x, dim: dim, labels: labels, batch: batch, shuf: shuffle, seed: seed,
		order: make([]int32, len(labels)), yb: make([]uint8, batch)}
	l.Epoch(0)
	return l
}

// Batches is the number of batches per epoch, the last one partial.
func (l *FeatureLoader) Batches() int {
	if l.dropLast {
		return len(l.labels) / l.batch
	}
	return (len(l.labels) + l.batch - 1) / l.batch
}

// Epoch starts epoch e.
func (l *FeatureLoader) Epoch(e int) {
	for i := range l.order {
		l.order[i] = int32(i)
	}
	if l.shuf {
		r := rand.New(rand.NewPCG(l.seed, uint64(e)+0x9e3779b97f4a7c15))
		r.Shuffle(len(l.order), func(i, j int) { l.order[i], l.order[j] = l.order[j], l.order[i] })
	}
	l.pos = 0
}

// Next returns the next batch, owned by the loader.
func (l *FeatureLoader) Next() (*tensor.Tensor, []uint8, bool) {
	if l.pos >= len(l.order) || l.dropLast && len(l.order)-l.pos < l.batch {
		return nil, nil, false
	}
	n := min(l.batch, len(l.order)-l.pos)
	l.xb = tensor.Ensure(l.xb, n, l.dim)
	for i := 0; i < n; i++ {
		j := int(l.order[l.pos+i])
		copy(l.xb.Data[i*l.dim:(i+1)*l.dim], l.x[j*l.dim:(j+1)*l.dim])
		l.yb[i] = l.labels[j]
	}
	l.pos += n
	return l.xb, l.yb[:n], true
}

// Extract runs the backbone of a CNN over one pass of src and returns the
// feature matrix (rows in src's epoch-0 order) and the labels.
func Extract(m *nn.Model, src Batches) (feats []float32, dim int, labels []uint8) {
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

// Standardizer maps each feature to zero mean and unit variance, with the
// statistics of the training features.
type Standardizer struct {
	Mean, Std []float32
}

// FitStandardizer computes per-feature mean and std (float64 sums; a
// constant feature gets std 1).
func FitStandardizer(x []float32, dim int) Standardizer {
	n := len(x) / dim
	mean := make([]float64, dim)
	sq := make([]float64, dim)
	for i := 0; i < n; i++ {
		for j, v := range x[i*dim : (i+1)*dim] {
			mean[j] += float64(v)
			sq[j] += float64(v) * float64(v)
		}
	}
	s := Standardizer{Mean: make([]float32, dim), Std: make([]float32, dim)}
	for j := range mean {
		m := mean[j] / float64(n)
		v := sq[j]/float64(n) - m*m
		sd := math.Sqrt(max(v, 0))
		if sd < 1e-6 {
			sd = 1
		}
		s.Mean[j], s.Std[j] = float32(m), float32(sd)
	}
	return s
}

// Apply standardises x (rows of len(s.Mean)) in place.
func (s Standardizer) Apply(x []float32) {
	dim := len(s.Mean)
	for i := 0; i+dim <= len(x); i += dim {
		row := x[i : i+dim]
		for j := range row {
			row[j] = (row[j] - s.Mean[j]) / s.Std[j]
		}
	}
}

// Stacked is the CNN-features-into-MLP classifier: the backbone's features,
// standardised, into the head.
type Stacked struct {
	Backbone *nn.Model
	Norm     Standardizer
	Head     *nn.Model
	buf      *tensor.Tensor
}

// Predict returns the head's logits for a batch of images.
func (s *Stacked) Predict(x *tensor.Tensor) *tensor.Tensor {
	f := s.Backbone.Features(x)
	s.buf = tensor.Ensure(s.buf, f.Shape...)
	copy(s.buf.Data, f.Data)
	s.Norm.Apply(s.buf.Data)
	return s.Head.Forward(s.buf, false)
}

// AugFeatureLoader serves the backbone's features of augmented images,
// standardised by norm: each epoch the head sees the features of a new
// augmentation of every image, so that it trains on features as noisy as
// those the backbone gives unseen images, not on the features of images
// the backbone has fitted. Its order and augmentation are src's, so Seek
// resumes an epoch exactly.
type AugFeatureLoader struct {
	src  *dataset.Loader
	cnn  *nn.Model
	norm *Standardizer
	xb   *tensor.Tensor
}

// NewAugFeatureLoader serves the features cnn gives src's batches.
func NewAugFeatureLoader(src *dataset.Loader, cnn *nn.Model, norm *Standardizer) *AugFeatureLoader {
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
