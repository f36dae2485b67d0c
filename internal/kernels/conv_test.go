package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// ktShapes4D are NHWC shapes: sizes 0 and 1, odd H and W, C around the
// vector width, and a few large enough to run in several tasks.
var ktShapes4D = func() [][4]int {
	s := [][4]int{
		{0, 3, 3, 8}, {1, 0, 3, 8}, {1, 3, 0, 8}, {1, 3, 3, 0},
		{1, 1, 1, 1}, {1, 1, 1, 8}, {1, 1, 2, 8}, {1, 2, 1, 3}, {2, 1, 5, 16},
		{1, 7, 7, 17}, {2, 3, 5, 9}, {1, 28, 28, 1}, {3, 7, 7, 32},
		{9, 28, 28, 1}, {4, 14, 14, 32}, {2, 9, 7, 64}, {3, 7, 7, 256},
	}
	for _, c := range []int{1, 3, 8, 9, 17, 32} {
		s = append(s, [4]int{2, 5, 6, c}, [4]int{1, 7, 3, c})
	}
	return s
}()

func TestIm2col3x3(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	for _, s := range ktShapes4D {
		n, h, w, c := s[0], s[1], s[2], s[3]
		x := ktVec(rng, n*h*w*c, 1)
		want := make([]float32, n*h*w*9*c)
		for i := range want {
			want[i] = ktSentinel
		}
		Im2col3x3Ref(want, x, n, h, w, c)
		for _, p := range ktPaths(t) {
			name := fmt.Sprintf("%v/%v", s, p)
			col, all := ktOut(len(want), 42)
			x0 := ktClone(x)
			ktOn(p, func(e exec) { e.Im2col3x3(col, x, n, h, w, c) })
			ktSame(t, name, col, want)
			ktGuards(t, name, all)
			ktSame(t, name+" x", x, x0)
		}
	}
}

// TestIm2colStreaming runs im2col on a col buffer large enough for the
// streaming stores, aligned (streaming) and not (ordinary stores).
func TestIm2colStreaming(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("large buffers")
	}
	rng := rand.New(rand.NewPCG(13, 14))
	const n, h, w, c = 20, 28, 28, 32
	x := ktRand(rng, n*h*w*c, 0)
	want := make([]float32, n*h*w*9*c)
	Im2col3x3Ref(want, x, n, h, w, c)
	if len(want) < im2colNTMin {
		t.Fatalf("shape too small for streaming stores: %d < %d", len(want), im2colNTMin)
	}
	for _, p := range ktPaths(t) {
		for _, off := range []int{0, 1} {
			buf := make([]float32, len(want)+8)
			col := buf[off : off+len(want)]
			ktOn(p, func(e exec) { e.Im2col3x3(col, x, n, h, w, c) })
			ktSame(t, fmt.Sprintf("off=%d/%v", off, p), col, want)
		}
	}
}

func TestCol2im3x3(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(15, 16))
	for _, s := range ktShapes4D {
		n, h, w, c := s[0], s[1], s[2], s[3]
		col := ktVec(rng, n*h*w*9*c, 1)
		want := ktRand(rng, n*h*w*c, 0) // overwritten: Col2im3x3Ref zeroes first
		Col2im3x3Ref(want, col, n, h, w, c)
		for _, p := range ktPaths(t) {
			name := fmt.Sprintf("%v/%v", s, p)
			dx, all := ktOut(len(want), 42)
			col0 := ktClone(col)
			ktOn(p, func(e exec) { e.Col2im3x3(dx, col, n, h, w, c) })
			ktSame(t, name, dx, want)
			ktGuards(t, name, all)
			ktSame(t, name+" col", col, col0)
		}
	}
}

// TestCol2imAdjoint checks <im2col(x), g> = <x, col2im(g)> in float64, the
// property that makes col2im the gradient of im2col.
func TestCol2imAdjoint(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(17, 18))
	for _, s := range [][4]int{{1, 1, 1, 1}, {2, 3, 4, 5}, {1, 7, 7, 8}} {
		n, h, w, c := s[0], s[1], s[2], s[3]
		x, g := ktRand(rng, n*h*w*c, 0), ktRand(rng, n*h*w*9*c, 0)
		col, dx := make([]float32, len(g)), make([]float32, len(x))
		Im2col3x3(col, x, n, h, w, c)
		Col2im3x3(dx, g, n, h, w, c)
		var a, b float64
		for i := range col {
			a += float64(col[i]) * float64(g[i])
		}
		for i := range x {
			b += float64(x[i]) * float64(dx[i])
		}
		if d := a - b; d > 1e-4 || d < -1e-4 {
			t.Errorf("%v: <im2col x, g> = %v, <x, col2im g> = %v", s, a, b)
		}
	}
}

// The convolutions of the reference CNN at batch 128 (conv1 has no input
// gradient, but im2col runs on it).
var ktConvShapes = []struct {
	name       string
	n, h, w, c int
}{
	{"conv1-28x28x1", 128, 28, 28, 1},
	{"conv2-28x28x32", 128, 28, 28, 32},
	{"conv3-14x14x64", 128, 14, 14, 64},
	{"conv4-7x7x128", 128, 7, 7, 128},
	{"conv5-3x3x256", 128, 3, 3, 256},
}

func BenchmarkIm2col3x3(b *testing.B) {
	for _, s := range ktConvShapes {
		x := ktRand(rand.New(rand.NewPCG(1, 1)), s.n*s.h*s.w*s.c, 0)
		col := make([]float32, s.n*s.h*s.w*9*s.c)
		// Bytes written plus bytes read (each input about nine times, from cache).
		ktBenchBoth(b, s.name, 4*(len(col)+len(x)),
			func() { Im2col3x3(col, x, s.n, s.h, s.w, s.c) },
			func() { Im2col3x3Ref(col, x, s.n, s.h, s.w, s.c) })
	}
}

func BenchmarkCol2im3x3(b *testing.B) {
	for _, s := range ktConvShapes[1:] {
		col := ktRand(rand.New(rand.NewPCG(1, 1)), s.n*s.h*s.w*9*s.c, 0)
		dx := make([]float32, s.n*s.h*s.w*s.c)
		ktBenchBoth(b, s.name, 4*(len(col)+len(dx)),
			func() { Col2im3x3(dx, col, s.n, s.h, s.w, s.c) },
			func() { Col2im3x3Ref(dx, col, s.n, s.h, s.w, s.c) })
	}
}
