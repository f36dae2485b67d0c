package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/fmnist/fmnist/internal/alloctest"
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
	pool  *parPool
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

// ktPaths lists the paths this build and CPU can run, on a pool of t's own:
// tests that run in parallel do not take turns on parShared, so the
// two-goroutine paths always run on two goroutines.
func ktPaths(t testing.TB) []ktPath {
	pool := ktPool(t)
	var ps []ktPath
	for _, k := range ktSets() {
		for _, procs := range []int{1, 2} {
			ps = append(ps, ktPath{k, procs, pool})
		}
	}
	return ps
}

// ktPool returns a pool that is stopped when t ends.
func ktPool(t testing.TB) *parPool {
	p := new(parPool)
	t.Cleanup(p.stop)
	return p
}

// exec is how path p runs: every region of at least two tasks goes to the
// pool when p.procs > 1.
func (p ktPath) exec() exec {
	return exec{k: p.k, pool: p.pool, procs: p.procs, minWork: 0, winoTiles: winoChunkTiles}
}

// ktOn runs f on path p.
func ktOn(p ktPath, f func(e exec)) { f(p.exec()) }

type ktCountJob struct{ hits []atomic.Int32 }

func (j *ktCountJob) task(t, _ int) { j.hits[t].Add(1) }

// TestParRegion checks that a region runs every task exactly once, for any
// number of tasks and goroutines, and that a region started inside a region
// runs serially instead of deadlocking.
func TestParRegion(t *testing.T) {
	t.Parallel()
	pool := ktPool(t)
	for _, procs := range []int{1, 2, 3, 8} {
		for _, tasks := range []int{1, 2, 3, 7, 100} {
			j := &ktCountJob{hits: make([]atomic.Int32, tasks)}
			pool.mu.Lock()
			pool.region(j, tasks, procs)
			pool.mu.Unlock()
			for i := range j.hits {
				if n := j.hits[i].Load(); n != 1 {
					t.Fatalf("procs %d, tasks %d: task %d ran %d times", procs, tasks, i, n)
				}
			}
		}
	}
	// With the pool held, kernels still run (serially).
	pool.mu.Lock()
	defer pool.mu.Unlock()
	e := exec{k: active, pool: pool, procs: 2, minWork: 0, winoTiles: winoChunkTiles}
	x := make([]float32, 1<<18)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	y := make([]float32, len(x))
	e.ReLU(y, x)
	want := make([]float32, len(x))
	ReLURef(want, x)
	ktSame(t, "ReLU with the pool busy", y, want)
}

func TestParSpan(t *testing.T) {
	t.Parallel()
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

// ktAllocs returns the allocations made by fmnist's code while f
// runs n times, and where the first was made. It reads the heap profile at
// a rate of one, so that an allocation is attributed to its call site:
// MemStats would also count those of the runtime, which allocates now and
// then a record for a goroutine that parks (a helper of the pool, or the
// caller waiting for one), however often the kernels allocate. A test that
// calls it must not be parallel, and must have warmed f up. Unlike
// testing.AllocsPerRun, it leaves GOMAXPROCS alone, so a pool's helpers
// run beside the caller.
func ktAllocs(n int, f func()) (count int64, where string) {
	defer alloctest.Start()()
	before := alloctest.Snapshot()
	for range n {
		f()
	}
	return alloctest.Ours(before, alloctest.Snapshot())
}

// ktAllocCalls is how many calls an allocation test counts over.
const ktAllocCalls = 20

// ktAllocFree fails unless f, warmed up, makes no allocation of this
// package's code in ktAllocCalls calls.
func ktAllocFree(t *testing.T, name string, f func()) {
	t.Helper()
	for range 20 { // warm up: helpers started, scratch grown
		f()
	}
	if a, where := ktAllocs(ktAllocCalls, f); a != 0 {
		t.Errorf("%s: %d allocations in %d calls (one at %s), want 0", name, a, ktAllocCalls, where)
	}
}

// TestKernelAllocs checks that the kernels allocate nothing in steady state,
// on one goroutine and on the pool, whose helpers must have run tasks.
func TestKernelAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, h, w, c = 2, 28, 28, 32 // large enough for two tasks or more per kernel
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
		f    func(e exec)
	}{
		{"Im2col3x3", func(e exec) { e.Im2col3x3(col, x, n, h, w, c) }},
		{"Col2im3x3", func(e exec) { e.Col2im3x3(y, col, n, h, w, c) }},
		{"MaxPool2x2", func(e exec) { e.MaxPool2x2(y, idx, x, n, h, w, c) }},
		{"MaxPoolBackward", func(e exec) { e.MaxPoolBackward(y, x[:len(x)/4], idx[:len(x)/4], len(y)) }},
		{"MaxPool2x2Backward", func(e exec) { e.MaxPool2x2Backward(y, x[:len(x)/4], idx[:len(x)/4], n, h, w, c) }},
		{"GlobalMaxPool", func(e exec) { e.GlobalMaxPool(y, idx, x, n, h*w, c) }},
		{"AddBiasReLU", func(e exec) { e.AddBiasReLU(y, g, n*h*w, c, true) }},
		{"ReLU", func(e exec) { e.ReLU(y, x) }},
		{"ReLUBackward", func(e exec) { e.ReLUBackward(y, x, x) }},
		{"ColSum", func(e exec) { e.ColSum(mean, x, n*h*w, c) }},
		{"SoftmaxCrossEntropy", func(e exec) { e.SoftmaxCrossEntropy(logits, logits, labels, 600, 10, 0.1) }},
		{"BatchNormStats", func(e exec) { e.BatchNormStats(mean, vari, x, n*h*w, c) }},
		{"BatchNormForward", func(e exec) { e.BatchNormForward(y, xhat, x, mean, g, g, g, n*h*w, c, true) }},
		{"BatchNormReLUBackward", func(e exec) { e.BatchNormReLUBackward(y, mean, vari, x, xhat, g, g, g, n*h*w, c) }},
		{"Axpy", func(e exec) { e.Axpy(y, x, 0.5) }},
		{"Scale", func(e exec) { e.Scale(y, 0.5) }},
		{"MulMask", func(e exec) { e.MulMask(y, x, x) }},
		{"SGDMomentum", func(e exec) { e.SGDMomentum(y, x, xhat, 1e-3, 1e-4, 0.9) }},
		{"WinogradConv", func(e exec) { e.WinogradConv(y, x, u, g, n, h, w, c, c, true, &ws) }},
		{"WinogradConvBackward", func(e exec) { e.WinogradConvBackward(xhat, du, mean, x, y, x, u, n, h, w, c, c, true, &ws) }},
		{"Conv3x3Taps", func(e exec) { e.Conv3x3Taps(y[:4*3*3*c], x[:4*3*3*c], u[:9*c*c], g, 4, 3, 3, c, c, true) }},
		{"Conv3x3TapsBackward", func(e exec) {
			e.Conv3x3TapsBackward(xhat[:4*3*3*c], du[:9*c*c], x[:4*3*3*c], y[:4*3*3*c], u[:9*c*c], 4, 3, 3, c, c)
		}},
	}
	paths := ktPaths(t)
	helped := 0
	for _, p := range paths {
		e := p.exec()
		for _, tc := range cases {
			h0 := p.pool.helped.Load()
			ktAllocFree(t, fmt.Sprintf("%s/%v", tc.name, p), func() { tc.f(e) })
			if p.pool.helped.Load() > h0 {
				helped++
			}
		}
	}
	// A helper may miss the regions of one kernel (the caller can take all
	// the tasks first), but not those of every one.
	if helped == 0 && runtime.GOMAXPROCS(0) > 1 {
		t.Errorf("no helper of the pool ran a task: the parallel path was not measured")
	}
	t.Logf("helpers ran tasks in the windows of %d kernels and paths", helped)
}

// TestKsets checks that every kernel of every set this build has is set: a
// missing one would panic only on the CPUs that choose that set.
func TestKsets(t *testing.T) {
	t.Parallel()
	for _, k := range ktSets() {
		v := reflect.ValueOf(k).Elem()
		for i := range v.NumField() {
			if f := v.Field(i); f.Kind() == reflect.Func && f.IsNil() {
				t.Errorf("kset %s: %s is nil", k.name, v.Type().Field(i).Name)
			}
		}
	}
	for _, kern := range testKernels() {
		if kern.tile == nil || kern.packRuns == nil || kern.packT8 == nil || kern.set == "" {
			t.Errorf("SGEMM kernel %s lacks a tile, a packing loop or its set's name", kern.name)
		}
	}
}
