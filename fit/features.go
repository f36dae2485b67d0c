package fit

import (
	"math/rand/v2"

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
	// DropLast drops a last partial batch, one too small to train on.
	DropLast bool
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
	if l.DropLast {
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
	if l.pos >= len(l.order) || l.DropLast && len(l.order)-l.pos < l.batch {
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

// Seek makes batch k of the current epoch the next one, as if k batches had
// been read, so that a resumed Fit continues mid-epoch.
func (l *FeatureLoader) Seek(k int) { l.pos = max(0, min(k*l.batch, len(l.order))) }
