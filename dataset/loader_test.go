package dataset

import (
	"math"
	"slices"
	"testing"

	"github.com/fmnist/fmnist/tensor"
)

// batches reads one epoch and returns copies of the batches.
func batches(l *Loader) (xs [][]float32, ys [][]uint8, ids [][]int) {
	for {
		x, y, ok := l.Next()
		if !ok {
			return
		}
		xs = append(xs, slices.Clone(x.Data))
		ys = append(ys, slices.Clone(y))
		ids = append(ids, slices.Clone(l.BatchIndices()))
	}
}

func TestLoaderShapesAndValues(t *testing.T) {
	s := synth(25, false)
	for _, tc := range []struct {
		batch    int
		dropLast bool
		sizes    []int
	}{
		{10, false, []int{10, 10, 5}},
		{10, true, []int{10, 10}},
		{5, false, []int{5, 5, 5, 5, 5}},
		{25, false, []int{25}},
		{40, false, []int{25}},
		{40, true, nil},
	} {
		l := NewLoader(s, LoaderConfig{Batch: tc.batch, DropLast: tc.dropLast, Mean: 0.25, Std: 0.5})
		if l.Batches() != len(tc.sizes) || l.Len() != 25 {
			t.Errorf("batch %d drop %v: %d batches, want %d", tc.batch, tc.dropLast, l.Batches(), len(tc.sizes))
		}
		for k, want := range tc.sizes {
			x, y, ok := l.Next()
			if !ok {
				t.Fatalf("batch %d: not ok", k)
			}
			tensor.MustShape("loader", x, want, Rows, Cols, 1)
			if len(y) != want {
				t.Fatalf("batch %d: %d labels", k, len(y))
			}
			for j := range want {
				i := k*tc.batch + j // no shuffle: items in order
				if y[j] != s.Labels[i] {
					t.Fatalf("batch %d item %d: label %d, want %d", k, j, y[j], s.Labels[i])
				}
				for p, v := range s.Image(i) {
					want := (float32(v)/255 - 0.25) / 0.5
					if x.Data[j*Pixels+p] != want {
						t.Fatalf("batch %d item %d pixel %d: %v, want %v", k, j, p, x.Data[j*Pixels+p], want)
					}
				}
			}
		}
		if _, _, ok := l.Next(); ok {
			t.Errorf("batch %d drop %v: more batches than Batches()", tc.batch, tc.dropLast)
		}
	}
	// Std 0 means no scaling.
	x, _, _ := NewLoader(s, LoaderConfig{Batch: 1}).Next()
	if want := float32(s.Images[5]) / 255; x.Data[5] != want {
		t.Errorf("zero config: %v, want %v", x.Data[5], want)
	}
}

func TestLoaderEpochs(t *testing.T) {
	s := synth(103, true)
	cfg := LoaderConfig{Batch: 16, Shuffle: true, Seed: 5, Augment: Augment{Pad: 2, Flip: true, Erase: 0.5}}
	a := NewLoader(s, cfg)
	b := NewLoader(s, cfg)
	var first []int
	for e := range 3 {
		a.Epoch(e)
		b.Epoch(e)
		xa, ya, ia := batches(a)
		xb, yb, ib := batches(b)
		if !slices.EqualFunc(xa, xb, slices.Equal) || !slices.EqualFunc(ya, yb, slices.Equal) || !slices.EqualFunc(ia, ib, slices.Equal) {
			t.Fatalf("epoch %d: two loaders with one config differ", e)
		}
		all := slices.Concat(ia...)
		if e == 0 {
			first = all
		} else if slices.Equal(all, first) {
			t.Errorf("epoch %d has the order of epoch 0", e)
		}
		// Every item once, with its label.
		for k := range ia {
			for j, i := range ia[k] {
				if ya[k][j] != s.Labels[i] {
					t.Fatalf("epoch %d batch %d: label of item %d wrong", e, k, i)
				}
			}
		}
		slices.Sort(all)
		for i := range all {
			if all[i] != i {
				t.Fatalf("epoch %d: item %d missing or repeated", e, i)
			}
		}
		if len(ia[len(ia)-1]) != 103%16 {
			t.Errorf("last batch has %d items", len(ia[len(ia)-1]))
		}
	}
	// Another seed, another order.
	cfg.Seed = 6
	c := NewLoader(s, cfg)
	if _, _, ic := batches(c); slices.Equal(slices.Concat(ic...), first) {
		t.Error("seeds 5 and 6 give the same order")
	}
	// Shuffle off: the order of the set.
	cfg.Shuffle = false
	_, _, id := batches(NewLoader(s, cfg))
	for i, v := range slices.Concat(id...) {
		if i != v {
			t.Fatal("unshuffled loader is out of order")
		}
	}
}

// TestLoaderSeek: seeking to batch k gives the bits that reading k batches
// would, augmentation included; and epoch e is the same however it is
// reached.
func TestLoaderSeek(t *testing.T) {
	s := synth(70, false)
	cfg := LoaderConfig{Batch: 8, Shuffle: true, Seed: 9, Mean: 0.3, Std: 0.4, Augment: Augment{Pad: 4, Flip: true, Erase: 0.7}}
	ref := NewLoader(s, cfg)
	ref.Epoch(2)
	want, wantY, _ := batches(ref)
	for _, k := range []int{0, 1, 4, 8, 9} {
		l := NewLoader(s, cfg)
		l.Epoch(2)
		l.Seek(k)
		got, gotY, _ := batches(l)
		if !slices.EqualFunc(got, want[k:], slices.Equal) || !slices.EqualFunc(gotY, wantY[k:], slices.Equal) {
			t.Errorf("Seek(%d) differs from skipping %d batches", k, k)
		}
		if e, pos := l.Pos(); e != 2 || pos != l.Batches() {
			t.Errorf("Pos = %d, %d", e, pos)
		}
	}
	// Epoch 2 after epochs 0 and 1 equals epoch 2 first.
	l := NewLoader(s, cfg)
	batches(l)
	l.Epoch(1)
	l.Next()
	l.Epoch(2)
	if got, _, _ := batches(l); !slices.EqualFunc(got, want, slices.Equal) {
		t.Error("epoch 2 depends on what was read before")
	}
}

// TestShift compares the crop-and-flip with a plain per-pixel definition
// at every shift.
func TestShift(t *testing.T) {
	s := synth(1, false)
	l := NewLoader(s, LoaderConfig{Batch: 1, Mean: 0.1, Std: 0.7})
	src := s.Image(0)
	got := make([]float32, Pixels)
	for dy := -29; dy <= 29; dy++ {
		for dx := -29; dx <= 29; dx++ {
			for _, flip := range []bool{false, true} {
				l.shift(got, src, dy, dx, flip)
				for y := range Rows {
					for x := range Cols {
						sx := x
						if flip {
							sx = Cols - 1 - x
						}
						sy, sx := y+dy, sx+dx
						want := l.lut[0]
						if sy >= 0 && sy < Rows && sx >= 0 && sx < Cols {
							want = l.lut[src[sy*Cols+sx]]
						}
						if got[y*Cols+x] != want {
							t.Fatalf("dy %d dx %d flip %v: pixel (%d,%d) = %v, want %v", dy, dx, flip, y, x, got[y*Cols+x], want)
						}
					}
				}
			}
		}
	}
}

// TestAugmentDraws checks what the random draws produce over many items:
// every shift in ±Pad occurs, flips and erasures happen at their rates,
// and each erasure is one rectangle of plausible size.
func TestAugmentDraws(t *testing.T) {
	const n = 4000
	// A blank image with one bright pixel per row at a known column: the
	// shift and flip can be read back from where the bright pixels land.
	s := &Set{Images: make([]uint8, n*Pixels), Labels: make([]uint8, n)}
	for i := range n {
		for y := range Rows {
			s.Images[i*Pixels+y*Cols+10] = 200
		}
	}
	cfg := LoaderConfig{Batch: 100, Seed: 3, Mean: 0.2, Std: 0.3, Augment: Augment{Pad: 3, Flip: true, Erase: 0.5}}
	l := NewLoader(s, cfg)
	bright := l.lut[200]
	cols := map[int]int{}
	erased := 0
	for {
		x, _, ok := l.Next()
		if !ok {
			break
		}
		for j := range x.Shape[0] {
			img := x.Data[j*Pixels : (j+1)*Pixels]
			col, zeros := -1, 0
			y0, y1, x0, x1 := Rows, -1, Cols, -1
			for p, v := range img {
				y, xx := p/Cols, p%Cols
				switch v {
				case bright:
					col = xx
				case 0:
					zeros++
					y0, y1, x0, x1 = min(y0, y), max(y1, y), min(x0, xx), max(x1, xx)
				}
			}
			if col >= 0 {
				cols[col]++
			}
			if zeros > 0 {
				erased++
				h, w := y1-y0+1, x1-x0+1
				if h*w != zeros || zeros < 8 || zeros > 200 {
					t.Fatalf("erased %d pixels in a %d×%d box", zeros, h, w)
				}
			}
		}
	}
	// Column 10 shifted by dx in ±3, or flipped to 17 and shifted.
	for _, c := range []int{7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20} {
		if cols[c] == 0 {
			t.Errorf("column %d never seen: %v", c, cols)
		}
	}
	if len(cols) != 14 {
		t.Errorf("columns %v", cols)
	}
	left := 0
	for c := 7; c <= 13; c++ {
		left += cols[c]
	}
	if r := float64(left) / n; math.Abs(r-0.5) > 0.05 {
		t.Errorf("unflipped fraction %.3f", r)
	}
	if r := float64(erased) / n; math.Abs(r-0.5) > 0.05 {
		t.Errorf("erased fraction %.3f", r)
	}
}

func TestLoaderNoAllocs(t *testing.T) {
	s := synth(50, false)
	for _, aug := range []Augment{{}, {Pad: 4, Flip: true, Erase: 0.5}} {
		l := NewLoader(s, LoaderConfig{Batch: 8, Shuffle: true, Seed: 1, Augment: aug})
		e := 0
		allocs := testing.AllocsPerRun(100, func() {
			if _, _, ok := l.Next(); !ok {
				e++
				l.Epoch(e)
			}
		})
		if allocs != 0 {
			t.Errorf("augment %+v: %v allocations per Next", aug, allocs)
		}
	}
}

// BenchmarkLoader prepares batches of 128 real-sized items, with and
// without augmentation.
func BenchmarkLoader(b *testing.B) {
	s := synth(1024, false)
	for _, bc := range []struct {
		name string
		aug  Augment
	}{{"plain", Augment{}}, {"augment", Augment{Pad: 4, Flip: true, Erase: 0.5}}} {
		b.Run(bc.name, func(b *testing.B) {
			l := NewLoader(s, LoaderConfig{Batch: 128, Shuffle: true, Mean: 0.286, Std: 0.353, Augment: bc.aug})
			b.SetBytes(128 * Pixels)
			for b.Loop() {
				if _, _, ok := l.Next(); !ok {
					l.Epoch(0)
				}
			}
		})
	}
}
