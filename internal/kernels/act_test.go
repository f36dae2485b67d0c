package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// ktSpecials are values that the element-wise kernels must pass through as
// their references do.
var ktSpecials = []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), -1e-40, 1e-40}

// ktVec returns n random values with the specials sprinkled in.
func ktVec(rng *rand.Rand, n, off int) []float32 {
	s := ktRand(rng, n, off)
	for i := range s {
		if rng.IntN(8) == 0 {
			s[i] = ktSpecials[rng.IntN(len(ktSpecials))]
		}
	}
	return s
}

// ktLens are vector lengths around the 8- and 32-wide loops and the task
// grain.
var ktLens = []int{0, 1, 7, 8, 9, 31, 32, 33, 100, parGrain - 1, parGrain + 9, 3*parGrain + 17}

func TestElementwise(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	type kernel struct {
		name    string
		fast    func(e exec, y, a, b []float32)
		ref     func(y, a, b []float32)
		inputs  int  // inputs a (and b) beyond y
		inPlace bool // y also read
	}
	kernels := []kernel{
		{"ReLU", func(e exec, y, a, _ []float32) { e.ReLU(y, a) }, func(y, a, _ []float32) { ReLURef(y, a) }, 1, false},
		{"ReLUBackward", exec.ReLUBackward, ReLUBackwardRef, 2, false},
		{"Axpy", func(e exec, y, a, _ []float32) { e.Axpy(y, a, -0.75) }, func(y, a, _ []float32) { AxpyRef(y, a, -0.75) }, 1, true},
		{"Scale", func(e exec, y, _, _ []float32) { e.Scale(y, 1.5) }, func(y, _, _ []float32) { ScaleRef(y, 1.5) }, 0, true},
		{"MulMask", exec.MulMask, MulMaskRef, 2, false},
	}
	for _, k := range kernels {
		for _, n := range ktLens {
			for _, off := range []int{0, 1} {
				a, b := ktVec(rng, n, off), ktVec(rng, n, 1-off)
				y0 := ktVec(rng, n, 0)
				want := ktClone(y0)
				k.ref(want, a, b)
				for _, p := range ktPaths(t) {
					name := fmt.Sprintf("%s/n=%d/off=%d/%v", k.name, n, off, p)
					a0, b0 := ktClone(a), ktClone(b)
					y, all := ktOut(n, 0)
					copy(y, y0)
					ktOn(p, func(e exec) {
						if k.inputs == 0 {
							k.fast(e, y, nil, nil)
						} else {
							k.fast(e, y, a, b)
						}
					})
					ktSame(t, name, y, want)
					ktGuards(t, name, all)
					ktSame(t, name+" input a", a, a0)
					ktSame(t, name+" input b", b, b0)
				}
			}
		}
	}
}

// TestSGDMomentum compares the optimiser step with its reference, bit for
// bit, on both outputs (the weights and the momentum buffer), with and
// without weight decay (−0 counts as none, as in the reference).
func TestSGDMomentum(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 10))
	for _, hp := range [][3]float32{{0.01, 0, 0.9}, {0.1, 5e-4, 0.9}, {0.05, float32(math.Copysign(0, -1)), 0.5}, {1e-3, 1e-2, 0}} {
		lr, wd, mom := hp[0], hp[1], hp[2]
		for _, n := range ktLens {
			for _, off := range []int{0, 1} {
				w0, g, b0 := ktVec(rng, n, off), ktVec(rng, n, 1-off), ktVec(rng, n, 0)
				wantW, wantB := ktClone(w0), ktClone(b0)
				SGDMomentumRef(wantW, g, wantB, lr, wd, mom)
				for _, p := range ktPaths(t) {
					name := fmt.Sprintf("lr=%v/wd=%v/mom=%v/n=%d/off=%d/%v", lr, wd, mom, n, off, p)
					g0 := ktClone(g)
					w, wAll := ktOut(n, 0)
					buf, bAll := ktOut(n, 0)
					copy(w, w0)
					copy(buf, b0)
					ktOn(p, func(e exec) { e.SGDMomentum(w, g, buf, lr, wd, mom) })
					ktSame(t, name+" w", w, wantW)
					ktSame(t, name+" buf", buf, wantB)
					ktGuards(t, name+" w", wAll)
					ktGuards(t, name+" buf", bAll)
					ktSame(t, name+" g unchanged", g, g0)
				}
			}
		}
	}
}

// TestElementwiseAlias runs the kernels documented as in-place safe with
// the output on top of an input.
func TestElementwiseAlias(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 1000
	for _, p := range ktPaths(t) {
		x, y := ktVec(rng, n, 0), ktVec(rng, n, 0)
		want := make([]float32, n)
		ReLURef(want, x)
		got := ktClone(x)
		ktOn(p, func(e exec) { e.ReLU(got, got) })
		ktSame(t, "ReLU in place/"+p.String(), got, want)

		ReLUBackwardRef(want, x, y)
		got = ktClone(x)
		ktOn(p, func(e exec) { e.ReLUBackward(got, got, y) })
		ktSame(t, "ReLUBackward in place/"+p.String(), got, want)

		MulMaskRef(want, x, y)
		got = ktClone(x)
		ktOn(p, func(e exec) { e.MulMask(got, got, y) })
		ktSame(t, "MulMask in place/"+p.String(), got, want)
	}
}

// TestReLUSpecials pins the values the references define for NaN and -0,
// which an instruction with the wrong operand order would change.
func TestReLUSpecials(t *testing.T) {
	t.Parallel()
	neg0 := float32(math.Copysign(0, -1))
	nan := float32(math.NaN())
	x := []float32{-2, neg0, 0, nan, 3, -1, 2, neg0, nan}
	wantReLU := []float32{0, neg0, 0, nan, 3, 0, 2, neg0, nan}
	dy := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	wantBack := []float32{0, 0, 0, 0, 5, 0, 7, 0, 0}
	for _, p := range ktPaths(t) {
		y := make([]float32, len(x))
		ktOn(p, func(e exec) { e.ReLU(y, x) })
		ktSame(t, "ReLU/"+p.String(), y, wantReLU)
		ktOn(p, func(e exec) { e.ReLUBackward(y, dy, x) })
		ktSame(t, "ReLUBackward/"+p.String(), y, wantBack)
		b := make([]float32, 8)
		for i := range b {
			b[i] = neg0 // x + -0 is x, -0 included
		}
		yb := append(ktClone(x[:8]), x[:8]...)
		ktOn(p, func(e exec) { e.AddBiasReLU(yb, b, 2, 8, true) })
		ktSame(t, "AddBiasReLU/"+p.String(), yb, append(ktClone(wantReLU[:8]), wantReLU[:8]...))
	}
}

// ktShapes2D are (rows, cols) shapes for the row/column kernels: cols around
// the vector width and the CNN's channel counts.
var ktShapes2D = [][2]int{
	{0, 0}, {0, 5}, {5, 0}, {1, 1}, {3, 3}, {2, 8}, {5, 9}, {4, 17}, {7, 32}, {3, 33},
	{2, 10}, {9, 64}, {1, 100}, {300, 16}, {2100, 32}, {600, 64}, {130, 256}, {1025, 24},
}

func TestAddBiasReLU(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	for _, s := range ktShapes2D {
		rows, cols := s[0], s[1]
		for _, relu := range []bool{false, true} {
			y0, bias := ktVec(rng, rows*cols, 1), ktRand(rng, cols, 1)
			want := ktClone(y0)
			AddBiasReLURef(want, bias, rows, cols, relu)
			for _, p := range ktPaths(t) {
				name := fmt.Sprintf("%dx%d/relu=%v/%v", rows, cols, relu, p)
				y, all := ktOut(rows*cols, 0)
				copy(y, y0)
				b0 := ktClone(bias)
				ktOn(p, func(e exec) { e.AddBiasReLU(y, bias, rows, cols, relu) })
				ktSame(t, name, y, want)
				ktGuards(t, name, all)
				ktSame(t, name+" bias", bias, b0)
			}
		}
	}
}

func TestColSum(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range ktShapes2D {
		rows, cols := s[0], s[1]
		x, d0 := ktRand(rng, rows*cols, 1), ktRand(rng, cols, 0)
		want := ktClone(d0)
		ColSumRef(want, x, rows, cols)
		for _, p := range ktPaths(t) {
			name := fmt.Sprintf("%dx%d/%v", rows, cols, p)
			dst, all := ktOut(cols, 0)
			copy(dst, d0)
			x0 := ktClone(x)
			ktOn(p, func(e exec) { e.ColSum(dst, x, rows, cols) })
			ktSame(t, name, dst, want)
			ktGuards(t, name, all)
			ktSame(t, name+" x", x, x0)
		}
	}
}

// TestBadArgs checks that short slices and negative sizes panic in the
// caller with the package prefix, before any goroutine or assembly sees
// them.
func TestBadArgs(t *testing.T) {
	t.Parallel()
	s := make([]float32, 10)
	idx := make([]int32, 10)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"ReLU short y", func() { ReLU(s[:3], s) }},
		{"ReLUBackward short dy", func() { ReLUBackward(s, s[:3], s) }},
		{"AddBiasReLU short y", func() { AddBiasReLU(s, s, 3, 4, true) }},
		{"AddBiasReLU negative", func() { AddBiasReLU(s, s, -1, 4, true) }},
		{"ColSum short dst", func() { ColSum(s[:1], s, 5, 2) }},
		{"Im2col3x3 short col", func() { Im2col3x3(s, s, 1, 1, 1, 2) }},
		{"Col2im3x3 short col", func() { Col2im3x3(s, s, 1, 1, 1, 2) }},
		{"MaxPool2x2 short idx", func() { MaxPool2x2(s, idx[:1], s, 1, 2, 2, 2) }},
		{"MaxPoolBackward short dx", func() { MaxPoolBackward(s[:2], s, idx, 3) }},
		{"MaxPool2x2Backward short dy", func() { MaxPool2x2Backward(s, s[:1], idx, 1, 2, 2, 2) }},
		{"GlobalMaxPool hw=0", func() { GlobalMaxPool(s, idx, s, 1, 0, 2) }},
		{"SoftmaxCrossEntropy label", func() { SoftmaxCrossEntropy(nil, s, []uint8{5}, 1, 5, 0) }},
		{"BatchNormStats short x", func() { BatchNormStats(s, s, s[:5], 2, 3) }},
		{"BatchNormForward short beta", func() { BatchNormForward(s, nil, s, s, s, s, s[:1], 2, 3, false) }},
		{"BatchNormBackward short xhat", func() { BatchNormBackward(s, s, s, s, s[:2], s, s, 2, 3) }},
		{"BatchNormReLUBackward nil beta", func() { BatchNormReLUBackward(s, s, s, s, s, s, s, nil, 2, 3) }},
		{"Axpy short y", func() { Axpy(s[:2], s, 1) }},
		{"MulMask short mask", func() { MulMask(s, s, s[:2]) }},
		{"SGDMomentum short buf", func() { SGDMomentum(s, s, s[:2], 0.1, 0, 0.9) }},
	} {
		func() {
			defer func() {
				r := recover()
				msg, ok := r.(string)
				if !ok || len(msg) < 9 || msg[:9] != "kernels: " {
					t.Errorf("%s: panic %v, want a kernels: message", tc.name, r)
				}
			}()
			tc.f()
		}()
	}
}

// ktBenchSizes are the activation sizes of the reference CNN at batch 128,
// as rows × channels of NHWC.
var ktBenchSizes = []struct {
	name       string
	rows, cols int
}{
	{"conv1-28x28x32", 128 * 28 * 28, 32},
	{"conv2-28x28x64", 128 * 28 * 28, 64},
	{"conv3-14x14x128", 128 * 14 * 14, 128},
	{"conv4-7x7x256", 128 * 7 * 7, 256},
	{"conv5-3x3x256", 128 * 3 * 3, 256},
}

func ktBenchBoth(b *testing.B, name string, bytes int, fast, ref func()) {
	for _, v := range []struct {
		name string
		f    func()
	}{{"fast", fast}, {"ref", ref}} {
		b.Run(name+"/"+v.name, func(b *testing.B) {
			b.SetBytes(int64(bytes))
			v.f()
			for b.Loop() {
				v.f()
			}
		})
	}
}

func BenchmarkReLU(b *testing.B) {
	for _, s := range ktBenchSizes[:3] {
		x := ktRand(rand.New(rand.NewPCG(1, 1)), s.rows*s.cols, 0)
		y := make([]float32, len(x))
		ktBenchBoth(b, s.name, 8*len(x), func() { ReLU(y, x) }, func() { ReLURef(y, x) })
	}
}

func BenchmarkReLUBackward(b *testing.B) {
	for _, s := range ktBenchSizes[:3] {
		rng := rand.New(rand.NewPCG(1, 1))
		y, dy := ktRand(rng, s.rows*s.cols, 0), ktRand(rng, s.rows*s.cols, 0)
		dx := make([]float32, len(y))
		ktBenchBoth(b, s.name, 12*len(y), func() { ReLUBackward(dx, dy, y) }, func() { ReLUBackwardRef(dx, dy, y) })
	}
}

func BenchmarkAddBiasReLU(b *testing.B) {
	for _, s := range ktBenchSizes {
		rng := rand.New(rand.NewPCG(1, 1))
		y, bias := ktRand(rng, s.rows*s.cols, 0), ktRand(rng, s.cols, 0)
		ktBenchBoth(b, s.name, 8*len(y),
			func() { AddBiasReLU(y, bias, s.rows, s.cols, true) },
			func() { AddBiasReLURef(y, bias, s.rows, s.cols, true) })
	}
}

func BenchmarkColSum(b *testing.B) {
	for _, s := range append(ktBenchSizes, struct {
		name       string
		rows, cols int
	}{"fc-128x10", 128, 10}) {
		x := ktRand(rand.New(rand.NewPCG(1, 1)), s.rows*s.cols, 0)
		dst := make([]float32, s.cols)
		ktBenchBoth(b, s.name, 4*len(x), func() { ColSum(dst, x, s.rows, s.cols) }, func() { ColSumRef(dst, x, s.rows, s.cols) })
	}
}

func BenchmarkAxpy(b *testing.B) {
	// The reference CNN's parameters, about 1.1M floats, as one vector.
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := ktRand(rng, 1<<20, 0), ktRand(rng, 1<<20, 0)
	ktBenchBoth(b, "1M", 12*len(x), func() { Axpy(y, x, 1e-3) }, func() { AxpyRef(y, x, 1e-3) })
}

func BenchmarkSGDMomentum(b *testing.B) {
	// The parameters of mlp-ref (535,818) and of the reference CNN.
	for _, n := range []int{535818, 1 << 20} {
		rng := rand.New(rand.NewPCG(1, 1))
		w, g, buf := ktRand(rng, n, 0), ktRand(rng, n, 0), ktRand(rng, n, 0)
		ktBenchBoth(b, fmt.Sprint(n), 20*n, func() { SGDMomentum(w, g, buf, 1e-3, 0, 0.9) }, func() { SGDMomentumRef(w, g, buf, 1e-3, 0, 0.9) })
	}
}

func BenchmarkMulMask(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, m := ktRand(rng, 128*256, 0), ktRand(rng, 128*256, 0)
	y := make([]float32, len(x))
	ktBenchBoth(b, "128x256", 12*len(x), func() { MulMask(y, x, m) }, func() { MulMaskRef(y, x, m) })
}
