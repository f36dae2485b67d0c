package dataset

import (
	"fmt"
	"math"

	"github.com/fmnist/fmnist/tensor"
)

// Augment selects the training augmentations. The zero value is none.
type Augment struct {
	Pad   int     `json:"pad"`   // random crop: shift by up to ±Pad pixels, filling with pixel 0
	Flip  bool    `json:"flip"`  // mirror left-right with probability 0.5
	Erase float64 `json:"erase"` // probability of erasing a rectangle of 2%–20% of the image, aspect 0.3–3.3, to 0 (after normalisation)
}

// LoaderConfig configures a Loader.
type LoaderConfig struct {
	Batch    int    // items per batch, > 0
	Shuffle  bool   // a new order each epoch, from (Seed, epoch)
	Seed     uint64 // for the order and the augmentation
	Mean     float32
	Std      float32 // 0 is taken as 1; x = (pixel/255 - Mean) / Std
	Augment  Augment
	DropLast bool // drop the last partial batch instead of returning it
}

// Loader turns a Set into normalised float32 batches. It reuses its
// buffers, so Next allocates nothing. The order of epoch e and the
// augmentation of each item are pure functions of (Seed, e, position), so a
// run can stop and resume mid-epoch with Epoch and Seek and see the same
// bits.
type Loader struct {
	set  *Set
	cfg  LoaderConfig
	lut  [256]float32 // pixel -> normalised value
	bg   float32      // lut[0]: what the crop pads with
	n    int          // items
	nb   int          // batches per epoch
	full *tensor.Tensor
	part *tensor.Tensor // the last partial batch, sharing full's storage
	y    []uint8
	last []int // indices of the last batch

	order   []int
	epoch   int
	k       int
	augBase uint64
	r       rng
}

// NewLoader returns a loader at the start of epoch 0. It panics when
// cfg.Batch is not positive, a programming error.
func NewLoader(s *Set, cfg LoaderConfig) *Loader {
	if cfg.Batch <= 0 {
		panic(fmt.Sprintf("dataset: NewLoader: batch %d", cfg.Batch))
	}
	cfg.Augment.Pad = max(0, min(cfg.Augment.Pad, Rows))
	l := &Loader{set: s, cfg: cfg, n: s.Len()}
	std := cfg.Std
	if std == 0 {
		std = 1
	}
	for v := range l.lut {
		l.lut[v] = (float32(v)/255 - cfg.Mean) / std
	}
	l.bg = l.lut[0]
	l.nb = l.n / cfg.Batch
	if !cfg.DropLast && l.n%cfg.Batch != 0 {
		l.nb++
	}
	l.full = tensor.New(cfg.Batch, Rows, Cols, 1)
	if r := l.n % cfg.Batch; r != 0 && !cfg.DropLast {
		l.part = tensor.FromData(l.full.Data[:r*Pixels], r, Rows, Cols, 1)
	}
	l.y = make([]uint8, cfg.Batch)
	l.order = make([]int, l.n)
	l.Epoch(0)
	return l
}

// Len is the number of items.
func (l *Loader) Len() int { return l.n }

// Batches is the number of batches per epoch.
func (l *Loader) Batches() int { return l.nb }

// Pos returns the current epoch and the index of the batch Next returns.
func (l *Loader) Pos() (epoch, k int) { return l.epoch, l.k }

// Epoch starts epoch e: the order (when shuffling) and the augmentation
// derive from (Seed, e).
func (l *Loader) Epoch(e int) {
	l.epoch, l.k = e, 0
	for i := range l.order {
		l.order[i] = i
	}
	if l.cfg.Shuffle {
		l.r.seed(mix(l.cfg.Seed, tagShuffle), uint64(e))
		for i := len(l.order) - 1; i > 0; i-- {
			j := int(l.r.below(uint64(i + 1)))
			l.order[i], l.order[j] = l.order[j], l.order[i]
		}
	}
	l.augBase = mix(mix(l.cfg.Seed, tagAugment), uint64(e))
}

// Seek makes batch k of the current epoch the next one, as if k batches
// had been read.
func (l *Loader) Seek(k int) { l.k = max(0, min(k, l.nb)) }

// Next returns the next batch: x is (B, 28, 28, 1) NHWC and y its labels,
// both owned by the loader and valid until the next call. The last batch
// may be smaller (unless DropLast). ok is false at the end of the epoch.
func (l *Loader) Next() (x *tensor.Tensor, y []uint8, ok bool) {
	if l.k >= l.nb {
		return nil, nil, false
	}
	b := l.cfg.Batch
	start := l.k * b
	x = l.full
	if start+b > l.n {
		b = l.n - start
		x = l.part
	}
	idx := l.order[start : start+b]
	y = l.y[:b]
	for j, i := range idx {
		y[j] = l.set.Labels[i]
		l.fill(x.Data[j*Pixels:(j+1)*Pixels], l.set.Image(i), start+j)
	}
	l.last = idx
	l.k++
	return x, y, true
}

// BatchIndices returns the indices in the Set of the items of the last
// batch, valid until the next Next or Epoch.
func (l *Loader) BatchIndices() []int { return l.last }

// fill normalises one image into dst, augmenting it with the draws of
// position pos of the epoch.
func (l *Loader) fill(dst []float32, src []uint8, pos int) {
	a := l.cfg.Augment
	if a == (Augment{}) {
		for i, p := range src[:Pixels] {
			dst[i] = l.lut[p]
		}
		return
	}
	r := &l.r
	r.seed(l.augBase, uint64(pos))
	dy, dx := 0, 0
	if a.Pad > 0 {
		dy = int(r.below(uint64(2*a.Pad+1))) - a.Pad
		dx = int(r.below(uint64(2*a.Pad+1))) - a.Pad
	}
	flip := a.Flip && r.pcg.Uint64()>>63 != 0
	l.shift(dst, src, dy, dx, flip)
	if a.Erase > 0 && r.float() < a.Erase {
		erase(dst, r)
	}
}

// shift writes out[y][x] = src[y+dy][x'+dx], x' = 27-x when flip else x,
// with lut[0] where that falls outside the image.
func (l *Loader) shift(dst []float32, src []uint8, dy, dx int, flip bool) {
	lut := &l.lut
	for y := range Rows {
		row := dst[y*Cols : (y+1)*Cols]
		sy := y + dy
		if sy < 0 || sy >= Rows {
			for x := range row {
				row[x] = l.bg
			}
			continue
		}
		s := src[sy*Cols : (sy+1)*Cols]
		if !flip {
			x0 := min(Cols, max(0, -dx))
			x1 := max(x0, min(Cols, Cols-dx))
			for x := range x0 {
				row[x] = l.bg
			}
			for x := x0; x < x1; x++ {
				row[x] = lut[s[x+dx]]
			}
			for x := x1; x < Cols; x++ {
				row[x] = l.bg
			}
		} else {
			x0 := min(Cols, max(0, dx))
			x1 := max(x0, min(Cols, Cols+dx))
			for x := range x0 {
				row[x] = l.bg
			}
			for x := x0; x < x1; x++ {
				row[x] = lut[s[Cols-1-x+dx]]
			}
			for x := x1; x < Cols; x++ {
				row[x] = l.bg
			}
		}
	}
}

// aspects are 257 ratios spaced evenly in log between 0.3 and 3.3. They are
// built from square roots and products only, which IEEE arithmetic rounds
// the same way on every machine (math.Exp and math.Log need not).
var aspects = func() (t [257]float64) {
	q := 3.3 / 0.3
	for range 8 {
		q = math.Sqrt(q) // 11^(1/256)
	}
	t[0] = 0.3
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] * q
	}
	return t
}()

// Erase area in pixels: 2% to 20% of 784.
const (
	eraseMin = Pixels * 2 / 100  // 15
	eraseMax = Pixels * 20 / 100 // 156
)

// erase zeroes a random rectangle (random erasing, Zhong et al. 2017): area
// uniform in [eraseMin, eraseMax] pixels, log-uniform aspect 0.3–3.3, up to
// ten tries for one that fits, as torchvision does.
func erase(dst []float32, r *rng) {
	for range 10 {
		area := float64(eraseMin + r.below(eraseMax-eraseMin+1))
		ar := aspects[r.below(uint64(len(aspects)))]
		h := int(math.Round(math.Sqrt(area * ar)))
		w := int(math.Round(math.Sqrt(area / ar)))
		if h >= Rows || w >= Cols || h < 1 || w < 1 {
			continue
		}
		y0 := int(r.below(uint64(Rows - h + 1)))
		x0 := int(r.below(uint64(Cols - w + 1)))
		for y := y0; y < y0+h; y++ {
			clear(dst[y*Cols+x0 : y*Cols+x0+w])
		}
		return
	}
}
