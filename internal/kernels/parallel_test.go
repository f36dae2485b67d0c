package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
)

// Helpers shared by the tests of the element-wise, pooling, convolution and
// loss kernels (prefixed kt to stay clear of the SGEMM tests' names).

// ktGuard is the width of the guard bands around outputs, and ktSentinel
// their value: a NaN with a payload no kernel produces.
const ktGuard = 11

var ktSentinel = math.Float32frombits(0x7fa5a5a5)

// ktOut returns an output of n floats filled with fill, inside guard bands;
// check it later with ktGuards.
func ktOut(n int, fill float32) (out, all []float32) {
	all = make([]float32, n+2*ktGuard)
	for i := range all {
		all[i] = ktSentinel
	}
	out = all[ktGuard : ktGuard+n : ktGuard+n]
	for i := range out {
		out[i] = fill
	}
	return out, all
}

// ktGuards fails when a guard band of all (from ktOut) was written.
func ktGuards(t *testing.T, name string, all []float32) {
	t.Helper()
	n := len(all) - 2*ktGuard
	for i := 0; i < ktGuard; i++ {
		for _, j := range []int{i, ktGuard + n + i} {
			if math.Float32bits(all[j]) != math.Float32bits(ktSentinel) {
				t.Fatalf("%s: guard band written at %d (output is [%d, %d)): %v", name, j, ktGuard, ktGuard+n, all[j])
			}
		}
	}
}

// ktRand returns n values from a normal distribution, placed off elements
// into a fresh slice so that the kernels see unaligned data.
func ktRand(rng *rand.Rand, n, off int) []float32 {
	s := make([]float32, n+off)[off:]
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// ktClone copies s.
func ktClone(s []float32) []float32 { return append([]float32(nil), s...) }

// ktSame fails unless got and want hold the same bits.
func ktSame(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %v (%#08x), want %v (%#08x)", name, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// ktSameIdx fails unless got equals want.
func ktSameIdx(t *testing.T, name string, got, want []int32) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: idx[%d] = %d, want %d", name, i, got[i], want[i])
		}
	}
}

// ktPath is one way to run the kernels: a kset (the Go twins or the
// assembly) on one or two goroutines.
type ktPath struct {
	k     *kset
	procs int
}

func (p ktPath) String() string {
	return fmt.Sprintf("%s/procs=%d", p.k.name, p.procs)
}

// ktSets are the ksets this build and CPU can run: the Go twins, and the
// assembly if there is some.
func ktSets() []*kset {
	if asmSet != nil {
		return []*kset{goSet, asmSet}
	}
	return []*kset{goSet}
}

// ktPaths lists the paths this build and CPU can run.
func ktPaths() []ktPath {
	var ps []ktPath
	for _, k := range ktSets() {
		for _, procs := range []int{1, 2} {
			ps = append(ps, ktPath{k, procs})
		}
	}
	return ps
}

// exec is how path p runs: every region of at least two tasks goes to the
// pool when p.procs > 1.
func (p ktPath) exec() exec {
	return exec{k: p.k, procs: p.procs, minWork: 0, winoTiles: winoChunkTiles}
}

// ktOn runs f on path p.
func ktOn(p ktPath, f func(e exec)) { f(p.exec()) }

type ktCountJob struct{ hits []atomic.Int32 }

func (j *ktCountJob) task(t int) { j.hits[t].Add(1) }

// TestParRegion checks that a region runs every task exactly once, for any
// number of tasks and goroutines, and that a region started inside a region
// runs serially instead of deadlocking.
func TestParRegion(t *testing.T) {
	for _, procs := range []int{1, 2, 3, 8} {
		for _, tasks := range []int{1, 2, 3, 7, 100} {
			j := &ktCountJob{hits: make([]atomic.Int32, tasks)}
			parShared.mu.Lock()
			parShared.region(j, tasks, procs)
			parShared.mu.Unlock()
			for i := range j.hits {
				if n := j.hits[i].Load(); n != 1 {
					t.Fatalf("procs %d, tasks %d: task %d ran %d times", procs, tasks, i, n)
				}
			}
		}
	}
	// With the pool held, kernels still run (serially).
	parShared.mu.Lock()
	defer parShared.mu.Unlock()
	old := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(old)
	x := make([]float32, 1<<18)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	y := make([]float32, len(x))
	ReLU(y, x)
	want := make([]float32, len(x))
	ReLURef(want, x)
	ktSame(t, "ReLU with the pool busy", y, want)
}

func TestParSpan(t *testing.T) {
	for _, tc := range []struct {
		t, size, total, lo, hi int
	}{
		{0, 4, 10, 0, 4},
		{2, 4, 10, 8, 10},
		{0, 4, 3, 0, 3},
	} {
		lo, hi := parSpan(tc.t, tc.size, tc.total)
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("parSpan(%d, %d, %d) = %d, %d, want %d, %d", tc.t, tc.size, tc.total, lo, hi, tc.lo, tc.hi)
		}
	}
	for _, tc := range [][3]int{{4, 0, 0}, {4, 1, 1}, {4, 4, 1}, {4, 5, 2}} {
		if got := parCount(tc[0], tc[1]); got != tc[2] {
			t.Errorf("parCount(%d, %d) = %d, want %d", tc[0], tc[1], got, tc[2])
		}
	}
}

// TestKernelAllocs checks that the kernels allocate nothing in steady state,
// on the pool included.
func TestKernelAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, h, w, c = 8, 28, 28, 32 // large enough for several tasks per kernel
	x := ktRand(rng, n*h*w*c, 0)
	col := make([]float32, n*h*w*9*c)
	y := make([]float32, n*h*w*c)
	idx := make([]int32, n*h*w*c)
	g := ktRand(rng, c, 0)
	logits := ktRand(rng, 600*10, 0)
	labels := make([]uint8, 600)
	mean, vari := make([]float32, c), make([]float32, c)
	xhat := make([]float32, len(x))
	u, du := ktRand(rng, 16*c*c, 0), make([]float32, 16*c*c)
	var ws WinogradScratch
	cases := []struct {
		name string
		f    func()
		gemm bool // calls Sgemm, whose sync.Pool the race detector empties at random
	}{
		{"Im2col3x3", func() { Im2col3x3(col, x, n, h, w, c) }, false},
		{"Col2im3x3", func() { Col2im3x3(y, col, n, h, w, c) }, false},
		{"MaxPool2x2", func() { MaxPool2x2(y, idx, x, n, h, w, c) }, false},
		{"MaxPoolBackward", func() { MaxPoolBackward(y, x[:len(x)/4], idx[:len(x)/4], len(y)) }, false},
		{"MaxPool2x2Backward", func() { MaxPool2x2Backward(y, x[:len(x)/4], idx[:len(x)/4], n, h, w, c) }, false},
		{"GlobalMaxPool", func() { GlobalMaxPool(y, idx, x, n, h*w, c) }, false},
		{"AddBiasReLU", func() { AddBiasReLU(y, g, n*h*w, c, true) }, false},
		{"ReLU", func() { ReLU(y, x) }, false},
		{"ReLUBackward", func() { ReLUBackward(y, x, x) }, false},
		{"ColSum", func() { ColSum(mean, x, n*h*w, c) }, false},
		{"SoftmaxCrossEntropy", func() { SoftmaxCrossEntropy(logits, logits, labels, 600, 10, 0.1) }, false},
		{"BatchNormStats", func() { BatchNormStats(mean, vari, x, n*h*w, c) }, false},
		{"BatchNormForward", func() { BatchNormForward(y, xhat, x, mean, g, g, g, n*h*w, c, true) }, false},
		{"BatchNormReLUBackward", func() { BatchNormReLUBackward(y, mean, vari, x, xhat, g, g, g, n*h*w, c) }, false},
		{"Axpy", func() { Axpy(y, x, 0.5) }, false},
		{"Scale", func() { Scale(y, 0.5) }, false},
		{"MulMask", func() { MulMask(y, x, x) }, false},
		{"SGDMomentum", func() { SGDMomentum(y, x, xhat, 1e-3, 1e-4, 0.9) }, false},
		{"WinogradConv", func() { WinogradConv(y, x, u, g, n, h, w, c, c, true, &ws) }, true},
		{"WinogradConvBackward", func() { WinogradConvBackward(xhat, du, mean, x, y, x, u, n, h, w, c, c, true, &ws) }, true},
		{"Conv3x3Taps", func() { Conv3x3Taps(y[:4*3*3*c], x[:4*3*3*c], u[:9*c*c], g, 4, 3, 3, c, c, true) }, true},
		{"Conv3x3TapsBackward", func() {
			Conv3x3TapsBackward(xhat[:4*3*3*c], du[:9*c*c], x[:4*3*3*c], y[:4*3*3*c], u[:9*c*c], 4, 3, 3, c, c)
		}, true},
	}
	for _, p := range ktPaths() {
		ktOn(p, func(e exec) {
			for _, tc := range cases {
				if tc.gemm && raceEnabled {
					continue
				}
				tc.f()
				if a := testing.AllocsPerRun(10, tc.f); a != 0 {
					t.Errorf("%s/%v: %v allocations per call, want 0", tc.name, p, a)
				}
			}
		})
	}
}
