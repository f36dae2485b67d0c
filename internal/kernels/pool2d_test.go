package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// ktTies returns n values from a small set, so that windows hold ties,
// with NaNs and signed zeros among them.
func ktTies(rng *rand.Rand, n, off int) []float32 {
	vals := []float32{-1, 0, float32(math.Copysign(0, -1)), 1, 2, float32(math.NaN())}
	s := make([]float32, n+off)[off:]
	for i := range s {
		s[i] = vals[rng.IntN(len(vals))]
	}
	return s
}

func TestMaxPool2x2(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(21, 22))
	for _, s := range ktShapes4D {
		n, h, w, c := s[0], s[1], s[2], s[3]
		for _, gen := range []func(*rand.Rand, int, int) []float32{ktRand, ktTies} {
			x := gen(rng, n*h*w*c, 1)
			out := n * (h / 2) * (w / 2) * c
			want, wantIdx := make([]float32, out), make([]int32, out)
			MaxPool2x2Ref(want, wantIdx, x, n, h, w, c)
			for _, p := range ktPaths(t) {
				name := fmt.Sprintf("%v/%v", s, p)
				y, all := ktOut(out, 42)
				idxAll := make([]int32, out+2*ktGuard)
				for i := range idxAll {
					idxAll[i] = -7
				}
				idx := idxAll[ktGuard : ktGuard+out]
				x0 := ktClone(x)
				ktOn(p, func(e exec) { e.MaxPool2x2(y, idx, x, n, h, w, c) })
				ktSame(t, name, y, want)
				ktSameIdx(t, name, idx, wantIdx)
				ktGuards(t, name, all)
				for i := 0; i < ktGuard; i++ {
					if idxAll[i] != -7 || idxAll[ktGuard+out+i] != -7 {
						t.Fatalf("%s: idx guard band written", name)
					}
				}
				ktSame(t, name+" x", x, x0)
			}
		}
	}
}

// TestMaxPoolHand pins ties, NaNs and the floor mode on hand-made windows,
// for the assembly (c = 8, every channel the same window) and the Go code
// (c = 1).
func TestMaxPoolHand(t *testing.T) {
	t.Parallel()
	nan := float32(math.NaN())
	neg0 := float32(math.Copysign(0, -1))
	for _, tc := range []struct {
		name   string
		window [4]float32 // (0,0), (0,1), (1,0), (1,1)
		want   float32
		at     int // position in the window that wins
	}{
		{"max", [4]float32{1, 4, 3, 2}, 4, 1},
		{"tie first wins", [4]float32{1, 3, 3, 3}, 3, 1},
		{"all equal", [4]float32{5, 5, 5, 5}, 5, 0},
		{"signed zeros tie", [4]float32{neg0, 0, 0, neg0}, neg0, 0},
		{"NaN wins", [4]float32{1, nan, 5, 2}, nan, 1},
		{"first NaN wins", [4]float32{nan, 1, nan, 2}, nan, 0},
		{"NaN last", [4]float32{1, 2, 3, nan}, nan, 3},
		{"negative", [4]float32{-4, -3, -2, -5}, -2, 2},
	} {
		for _, c := range []int{1, 8} {
			// A 3×3 image: the window is its top-left 2×2; the last row and
			// column are dropped, and hold larger values to prove it.
			const h, w = 3, 3
			x := make([]float32, h*w*c)
			for i := range x {
				x[i] = 100
			}
			for k, v := range tc.window {
				py, px := k/2, k%2
				for ch := 0; ch < c; ch++ {
					x[(py*w+px)*c+ch] = v
				}
			}
			wantIdx := ((tc.at/2)*w + tc.at%2) * c
			for _, p := range ktPaths(t) {
				y, idx := make([]float32, c), make([]int32, c)
				ktOn(p, func(e exec) { e.MaxPool2x2(y, idx, x, 1, h, w, c) })
				for ch := 0; ch < c; ch++ {
					if math.Float32bits(y[ch]) != math.Float32bits(tc.want) || idx[ch] != int32(wantIdx+ch) {
						t.Errorf("%s c=%d %v: channel %d = %v at %d, want %v at %d", tc.name, c, p, ch, y[ch], idx[ch], tc.want, wantIdx+ch)
					}
				}
			}
			y, idx := make([]float32, c), make([]int32, c)
			MaxPool2x2Ref(y, idx, x, 1, h, w, c)
			if math.Float32bits(y[0]) != math.Float32bits(tc.want) || idx[0] != int32(wantIdx) {
				t.Errorf("%s c=%d: reference gives %v at %d, want %v at %d", tc.name, c, y[0], idx[0], tc.want, wantIdx)
			}
		}
	}
}

func TestGlobalMaxPool(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(23, 24))
	for _, s := range [][3]int{{0, 3, 4}, {2, 1, 3}, {1, 9, 1}, {3, 9, 17}, {2, 49, 8}, {128, 9, 256}, {5, 7, 32}} {
		n, hw, c := s[0], s[1], s[2]
		for _, gen := range []func(*rand.Rand, int, int) []float32{ktRand, ktTies} {
			x := gen(rng, n*hw*c, 1)
			want, wantIdx := make([]float32, n*c), make([]int32, n*c)
			GlobalMaxPoolRef(want, wantIdx, x, n, hw, c)
			for _, p := range ktPaths(t) {
				name := fmt.Sprintf("%v/%v", s, p)
				y, all := ktOut(n*c, 42)
				idx := make([]int32, n*c)
				x0 := ktClone(x)
				ktOn(p, func(e exec) { e.GlobalMaxPool(y, idx, x, n, hw, c) })
				ktSame(t, name, y, want)
				ktSameIdx(t, name, idx, wantIdx)
				ktGuards(t, name, all)
				ktSame(t, name+" x", x, x0)
			}
		}
	}
	// By hand: channel 0 ties (first wins), channel 1 has a NaN.
	nan := float32(math.NaN())
	x := []float32{1, 2, 3, nan, 3, 9}
	y, idx := make([]float32, 2), make([]int32, 2)
	GlobalMaxPool(y, idx, x, 1, 3, 2)
	if y[0] != 3 || idx[0] != 2 || y[1] == y[1] || idx[1] != 3 {
		t.Errorf("by hand: y = %v, idx = %v, want [3 NaN] [2 3]", y, idx)
	}
}

func TestMaxPoolBackward(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(25, 26))
	for _, s := range ktShapes4D {
		n, h, w, c := s[0], s[1], s[2], s[3]
		x := ktRand(rng, n*h*w*c, 0)
		out := n * (h / 2) * (w / 2) * c
		y, idx := make([]float32, out), make([]int32, out)
		MaxPool2x2Ref(y, idx, x, n, h, w, c)
		dy := ktVec(rng, out, 1)
		want := ktRand(rng, len(x), 0)
		MaxPoolBackwardRef(want, dy, idx, len(x))
		for _, p := range ktPaths(t) {
			name := fmt.Sprintf("%v/%v", s, p)
			dx, all := ktOut(len(x), 42)
			dy0 := ktClone(dy)
			ktOn(p, func(e exec) { e.MaxPoolBackward(dx, dy, idx, len(x)) })
			ktSame(t, name, dx, want)
			ktGuards(t, name, all)
			ktSame(t, name+" dy", dy, dy0)
		}
	}
	// By hand: repeated indices add in order; -0 lands as +0 (0 + -0).
	neg0 := float32(math.Copysign(0, -1))
	dy := []float32{1, 2, neg0, 3}
	idx := []int32{1, 1, 2, 4}
	want := []float32{0, 3, 0, 0, 3}
	for _, p := range ktPaths(t) {
		dx := []float32{9, 9, 9, 9, 9}
		ktOn(p, func(e exec) { e.MaxPoolBackward(dx, dy, idx, 5) })
		ktSame(t, "by hand/"+p.String(), dx, want)
	}
}

func TestMaxPool2x2Backward(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(27, 28))
	for _, s := range ktShapes4D {
		n, h, w, c := s[0], s[1], s[2], s[3]
		for _, gen := range []func(*rand.Rand, int, int) []float32{ktRand, ktTies} {
			x := gen(rng, n*h*w*c, 0)
			out := n * (h / 2) * (w / 2) * c
			y, idx := make([]float32, out), make([]int32, out)
			MaxPool2x2Ref(y, idx, x, n, h, w, c)
			dy := ktVec(rng, out, 1)
			want := ktRand(rng, len(x), 0)
			MaxPool2x2BackwardRef(want, dy, idx, n, h, w, c)
			for _, p := range ktPaths(t) {
				name := fmt.Sprintf("%v/%v", s, p)
				dx, all := ktOut(len(x), 42)
				dy0 := ktClone(dy)
				ktOn(p, func(e exec) { e.MaxPool2x2Backward(dx, dy, idx, n, h, w, c) })
				ktSame(t, name, dx, want)
				ktGuards(t, name, all)
				ktSame(t, name+" dy", dy, dy0)
				// The windows alone must do it, without the fallback.
				if out == 0 {
					continue
				}
				j := maxPool2x2BackJob{k: p.k, dx: dx, dy: dy, idx: idx, n: n, h: h, w: w, c: c}
				j.rows(0, n*(h/2))
				if j.bad.Load() {
					t.Fatalf("%s: an index of MaxPool2x2 was taken for a foreign one", name)
				}
			}
		}
	}
}

// TestMaxPool2x2BackwardForeign feeds indices MaxPool2x2 cannot produce
// (outside their window, repeated): the kernel must notice and still give
// the reference's bits.
func TestMaxPool2x2BackwardForeign(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(29, 30))
	for _, s := range [][4]int{{2, 4, 4, 8}, {2, 5, 3, 3}, {3, 28, 28, 32}} {
		n, h, w, c := s[0], s[1], s[2], s[3]
		x := ktRand(rng, n*h*w*c, 0)
		out := n * (h / 2) * (w / 2) * c
		y, idx := make([]float32, out), make([]int32, out)
		MaxPool2x2Ref(y, idx, x, n, h, w, c)
		for _, k := range []int{0, out / 2, out - 1} {
			foreign := append([]int32(nil), idx...)
			foreign[k] = idx[(k+1)%out] // another window's index, now twice
			dy := ktRand(rng, out, 0)
			want := make([]float32, len(x))
			MaxPool2x2BackwardRef(want, dy, foreign, n, h, w, c)
			for _, p := range ktPaths(t) {
				dx := ktRand(rng, len(x), 0)
				ktOn(p, func(e exec) { e.MaxPool2x2Backward(dx, dy, foreign, n, h, w, c) })
				ktSame(t, fmt.Sprintf("%v/entry %d/%v", s, k, p), dx, want)
			}
		}
	}
}

// The pooling layers of the reference CNN at batch 128.
var ktPoolShapes = []struct {
	name       string
	n, h, w, c int
}{
	{"pool1-28x28x64", 128, 28, 28, 64},
	{"pool2-14x14x128", 128, 14, 14, 128},
	{"pool3-7x7x256", 128, 7, 7, 256},
}

func BenchmarkMaxPool2x2(b *testing.B) {
	for _, s := range ktPoolShapes {
		x := ktRand(rand.New(rand.NewPCG(1, 1)), s.n*s.h*s.w*s.c, 0)
		out := s.n * (s.h / 2) * (s.w / 2) * s.c
		y, idx := make([]float32, out), make([]int32, out)
		ktBenchBoth(b, s.name, 4*len(x)+8*out,
			func() { MaxPool2x2(y, idx, x, s.n, s.h, s.w, s.c) },
			func() { MaxPool2x2Ref(y, idx, x, s.n, s.h, s.w, s.c) })
	}
}

func BenchmarkMaxPoolBackward(b *testing.B) {
	for _, s := range ktPoolShapes {
		x := ktRand(rand.New(rand.NewPCG(1, 1)), s.n*s.h*s.w*s.c, 0)
		out := s.n * (s.h / 2) * (s.w / 2) * s.c
		y, idx := make([]float32, out), make([]int32, out)
		MaxPool2x2(y, idx, x, s.n, s.h, s.w, s.c)
		dx := make([]float32, len(x))
		ktBenchBoth(b, s.name, 4*len(x)+8*out,
			func() { MaxPoolBackward(dx, y, idx, len(x)) },
			func() { MaxPoolBackwardRef(dx, y, idx, len(x)) })
	}
}

func BenchmarkMaxPool2x2Backward(b *testing.B) {
	for _, s := range ktPoolShapes {
		x := ktRand(rand.New(rand.NewPCG(1, 1)), s.n*s.h*s.w*s.c, 0)
		out := s.n * (s.h / 2) * (s.w / 2) * s.c
		y, idx := make([]float32, out), make([]int32, out)
		MaxPool2x2(y, idx, x, s.n, s.h, s.w, s.c)
		dx := make([]float32, len(x))
		ktBenchBoth(b, s.name, 4*len(x)+8*out,
			func() { MaxPool2x2Backward(dx, y, idx, s.n, s.h, s.w, s.c) },
			func() { MaxPool2x2BackwardRef(dx, y, idx, s.n, s.h, s.w, s.c) })
	}
}

func BenchmarkGlobalMaxPool(b *testing.B) {
	const n, hw, c = 128, 9, 256
	x := ktRand(rand.New(rand.NewPCG(1, 1)), n*hw*c, 0)
	y, idx := make([]float32, n*c), make([]int32, n*c)
	ktBenchBoth(b, "3x3x256", 4*len(x),
		func() { GlobalMaxPool(y, idx, x, n, hw, c) },
		func() { GlobalMaxPoolRef(y, idx, x, n, hw, c) })
}
