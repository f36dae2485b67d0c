package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// sentinel marks memory a kernel must not write.
const sentinel = float32(-1234.5)

// gemmCase is one product to check. Leading dimensions are the stored width
// plus the pad, so sub-matrices are exercised.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int
}

func (tc gemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s/%dx%dx%d/a=%g,b=%g,pad=%d", t(tc.transA), t(tc.transB), tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.pad)
}

// gemmOperands holds the inputs of a case, each inside a larger buffer
// filled with sentinels, so that out-of-bounds writes and reads of the
// wrong elements show.
type gemmOperands struct {
	a, b, c          []float32 // views passed to the kernel
	abuf, bbuf, cbuf []float32 // whole buffers
	lda, ldb, ldc    int
	guard            int
}

func newOperands(rng *rand.Rand, tc gemmCase) *gemmOperands {
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	o := &gemmOperands{lda: ac + tc.pad, ldb: bc + tc.pad, ldc: tc.n + tc.pad, guard: 7}
	o.lda, o.ldb, o.ldc = max(o.lda, 1), max(o.ldb, 1), max(o.ldc, 1)
	fill := func(rows, cols, ld int, nan bool) (view, buf []float32) {
		size := 0
		if rows > 0 && cols > 0 {
			size = (rows-1)*ld + cols
		}
		buf = make([]float32, size+2*o.guard)
		for i := range buf {
			buf[i] = sentinel
		}
		view = buf[o.guard : o.guard+size]
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				v := float32(rng.NormFloat64())
				if nan {
					v = float32(math.NaN())
				}
				view[i*ld+j] = v
			}
		}
		return view, buf
	}
	o.a, o.abuf = fill(ar, ac, o.lda, false)
	o.b, o.bbuf = fill(br, bc, o.ldb, false)
	o.c, o.cbuf = fill(tc.m, tc.n, o.ldc, tc.beta == 0)
	return o
}

// checkGemm compares got (the C buffer after the fast kernel) with want
// (after SgemmRef), within a bound relative to k·eps·(|alpha|·|A||B| +
// |beta|·|C|) per element, and checks that nothing outside C changed.
func checkGemm(t *testing.T, tc gemmCase, o *gemmOperands, c0, got, want []float32) {
	t.Helper()
	g := o.guard
	for i, v := range got {
		in := i >= g && i < len(got)-g
		r, col := 0, 0
		if in {
			r, col = (i-g)/o.ldc, (i-g)%o.ldc
			in = col < tc.n
		}
		if !in {
			if v != sentinel {
				t.Fatalf("%v: wrote %g outside C at buffer index %d", tc, v, i)
			}
			continue
		}
		// Bound from the absolute products.
		var mag float64
		for p := 0; p < tc.k; p++ {
			mag += math.Abs(float64(opAt(o.a, o.lda, tc.transA, r, p)) * float64(opAt(o.b, o.ldb, tc.transB, p, col)))
		}
		bound := math.Abs(float64(tc.alpha)) * mag
		if tc.beta != 0 {
			bound += math.Abs(float64(tc.beta) * float64(c0[i]))
		}
		tol := 2 * float64(tc.k+2) * 0x1p-23 * bound
		if math.IsNaN(float64(v)) || math.Abs(float64(v)-float64(want[i])) > tol {
			t.Fatalf("%v: C[%d,%d] = %g, want %g (tolerance %g)", tc, r, col, v, want[i], tol)
		}
	}
}

func opAt(x []float32, ld int, trans bool, i, j int) float32 {
	if trans {
		return x[j*ld+i]
	}
	return x[i*ld+j]
}

// runCase checks one case for kernel kern on procs goroutines.
// runCase checks one case run as how says.
func runCase(t *testing.T, rng *rand.Rand, how sgemmHow, tc gemmCase) {
	t.Helper()
	o := newOperands(rng, tc)
	a0, b0, c0 := slices.Clone(o.abuf), slices.Clone(o.bbuf), slices.Clone(o.cbuf)
	sgemm(how, sgemmArgs{tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc})
	got := slices.Clone(o.cbuf)
	if !slices.Equal(o.abuf, a0) || !slices.Equal(o.bbuf, b0) {
		t.Fatalf("%v: inputs changed", tc)
	}
	copy(o.cbuf, c0)
	SgemmRef(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc)
	checkGemm(t, tc, o, c0, got, o.cbuf)
}

// testKernels are the kernels under test: the portable one and every
// assembly one this CPU runs.
func testKernels() []*sgemmKernel {
	return append([]*sgemmKernel{goKernel}, sgemmAsmKernels...)
}

// directModes are the settings of sgemmDirect to test kern under: packed
// A, and A read in place when the kernel can.
func directModes(kern *sgemmKernel) []sgemmDirect {
	if kern.tileA == nil {
		return []sgemmDirect{sgemmPacked}
	}
	return []sgemmDirect{sgemmPacked, sgemmInPlace}
}

// edgeSizes are the sizes around a block of b: b-1, b, b+1.
func edgeSizes(b ...int) []int {
	var s []int
	for _, v := range b {
		s = append(s, v-1, v, v+1)
	}
	return s
}

func TestSgemmShapes(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, kern := range testKernels() {
		t.Run(kern.name, func(t *testing.T) {
			// Every size that matters to the blocking, in each dimension in turn
			// with the others small, under every transpose.
			ms := append([]int{0, 1, 2, 7, 13}, edgeSizes(kern.mr, 2*kern.mr, kern.mc)...)
			ns := append([]int{0, 1, 3, 17}, edgeSizes(kern.nr, 2*kern.nr)...)
			ks := append([]int{0, 1, 2, 5}, edgeSizes(kern.kc)...)
			if !testing.Short() {
				ns = append(ns, kern.nc+1)
				ks = append(ks, 2*kern.kc-1, 2*kern.kc, 2*kern.kc+1, 3*kern.kc+1)
			}
			var cases []gemmCase
			for _, tr := range [4][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				for _, m := range ms {
					cases = append(cases, gemmCase{tr[0], tr[1], m, 19, 23, 1, 0, 0})
				}
				for _, n := range ns {
					cases = append(cases, gemmCase{tr[0], tr[1], 11, n, 9, 1, 0, 3})
				}
				for _, k := range ks {
					cases = append(cases, gemmCase{tr[0], tr[1], 7, 18, k, 1, 0, 1})
				}
				// Blocks and panels past their sizes at once.
				cases = append(cases, gemmCase{tr[0], tr[1], kern.mc + kern.mr + 1, 2*kern.nr + 1, kern.kc + 1, 1, 1, 5})
			}
			for _, mode := range directModes(kern) {
				for _, tc := range cases {
					runCase(t, rng, sgemmHow{kern: kern, procs: 1, direct: mode}, tc)
				}
			}
		})
	}
}

func TestSgemmAlphaBeta(t *testing.T) {
	t.Parallel()
	pool := ktPool(t)
	rng := rand.New(rand.NewPCG(3, 4))
	scalars := []float32{0, 1, -1, 0.5, 2.5}
	if testing.Short() {
		scalars = []float32{0, 1, -0.5}
	}
	for _, kern := range testKernels() {
		for _, alpha := range scalars {
			for _, beta := range scalars {
				for _, tr := range [4][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
					// Two blocks of k, so beta is applied once and not again.
					tc := gemmCase{tr[0], tr[1], 2*kern.mr + 1, kern.nr + 3, kern.kc + 7, alpha, beta, 2}
					for _, mode := range directModes(kern) {
						runCase(t, rng, sgemmHow{kern: kern, procs: 2, direct: mode, pool: pool}, tc)
					}
				}
			}
		}
	}
}

// TestSgemmBetaZeroNaN checks that beta 0 overwrites NaNs in C rather than
// multiplying them, as BLAS requires, also when alpha or k is 0.
func TestSgemmBetaZeroNaN(t *testing.T) {
	t.Parallel()
	for _, kern := range testKernels() {
		for _, tc := range []struct{ m, n, k int }{{13, 35, 40}, {6, 16, 8}, {5, 5, 0}} {
			for _, alpha := range []float32{0, 1} {
				c := make([]float32, tc.m*tc.n)
				for i := range c {
					c[i] = float32(math.NaN())
				}
				a := make([]float32, tc.m*tc.k)
				b := make([]float32, tc.k*tc.n)
				for i := range a {
					a[i] = 1
				}
				for i := range b {
					b[i] = 1
				}
				sgemm(sgemmHow{kern: kern, procs: 1}, sgemmArgs{false, false, tc.m, tc.n, tc.k, alpha, a, max(tc.k, 1), b, tc.n, 0, c, tc.n})
				for i, v := range c {
					want := alpha * float32(tc.k)
					if v != want {
						t.Fatalf("%s %dx%dx%d alpha %g: C[%d] = %g, want %g", kern.name, tc.m, tc.n, tc.k, alpha, i, v, want)
					}
				}
			}
		}
	}
}

// TestSgemmParallelBits checks that the result does not depend on the
// number of goroutines, to the bit, for every kernel and through Sgemm with
// GOMAXPROCS itself changed.
func TestSgemmParallelBits(t *testing.T) {
	t.Parallel()
	pool := ktPool(t)
	rng := rand.New(rand.NewPCG(5, 6))
	cases := []gemmCase{
		{false, false, 301, 157, 530, 1, 0, 1},
		{true, false, 97, 45, 2000, 1.5, 0, 0},
		{false, true, 640, 33, 64, 1, 1, 3},
		{true, true, 75, 300, 129, -1, 0.5, 0},
		{false, false, 13, 2100, 40, 1, 0, 0},
	}
	for _, kern := range testKernels() {
		for _, tc := range cases {
			o := newOperands(rng, tc)
			c0 := slices.Clone(o.cbuf)
			// Reading A in place or packing it must not change the bits either.
			var first []float32
			for _, mode := range directModes(kern) {
				for _, procs := range []int{1, 2, 3, 4, 7} {
					copy(o.cbuf, c0)
					sgemm(sgemmHow{kern: kern, procs: procs, direct: mode, pool: pool}, sgemmArgs{tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc})
					if first == nil {
						first = slices.Clone(o.cbuf)
						continue
					}
					for i := range first {
						if math.Float32bits(first[i]) != math.Float32bits(o.cbuf[i]) {
							t.Fatalf("%s %v: mode %d on %d goroutines differs from packed on 1 at %d: %g vs %g", kern.name, tc, mode, procs, i, o.cbuf[i], first[i])
						}
					}
				}
			}
		}
	}
	// As Sgemm runs it, picking the kernel and the path by itself, on
	// GOMAXPROCS goroutines; the last one is computed transposed.
	for _, tc := range []gemmCase{cases[0], cases[1], {false, false, 128, 10, 256, 1, 0, 0}, {true, false, 256, 10, 128, 1, 1, 2}} {
		o := newOperands(rng, tc)
		c0 := slices.Clone(o.cbuf)
		var first []float32
		for _, procs := range []int{1, 2, 4} {
			copy(o.cbuf, c0)
			sgemm(sgemmHow{procs: procs, pool: pool}, sgemmArgs{tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc})
			if first == nil {
				first = slices.Clone(o.cbuf)
			} else if !slices.Equal(first, o.cbuf) {
				t.Fatalf("%v: Sgemm on %d goroutines differs from 1", tc, procs)
			}
		}
	}
}

// TestSgemmTileAsm checks each micro-kernel, the portable one and the
// assembly ones, against sgemmTileGo, the loop they implement, with guard
// bands around the tile.
func TestSgemmTileAsm(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kern := range testKernels() {
		mr, nr := kern.mr, kern.nr
		for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 9, 31, 256, 1000} {
			for _, ab := range [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {2, 0}} {
				const ldc, guard = 40, 11
				a := make([]float32, mr*k)
				b := make([]float32, nr*k)
				for i := range a {
					a[i] = float32(rng.NormFloat64())
				}
				for i := range b {
					b[i] = float32(rng.NormFloat64())
				}
				got := make([]float32, (mr-1)*ldc+nr+2*guard)
				for i := range got {
					got[i] = sentinel
				}
				for i := 0; i < mr; i++ {
					for j := 0; j < nr; j++ {
						got[guard+i*ldc+j] = float32(rng.NormFloat64())
					}
				}
				want := slices.Clone(got)
				c0 := slices.Clone(got)
				kern.tile(k, a, b, got[guard:], ldc, ab[0], ab[1])
				// The in-place form, if the kernel has one, on A laid out
				// row-major with a pad and then transposed, must give the
				// same bits.
				for _, trans := range []bool{false, true} {
					if kern.tileA == nil {
						break
					}
					rsa, csa := k+3, 1
					if trans {
						rsa, csa = 1, mr+5
					}
					as := make([]float32, (mr-1)*rsa+(k-1)*csa+1)
					for p := 0; p < k; p++ {
						for i := 0; i < mr; i++ {
							as[i*rsa+p*csa] = a[p*mr+i]
						}
					}
					alt := slices.Clone(c0)
					kern.tileA(k, as, rsa, csa, b, nr, alt[guard:], ldc, ab[0], ab[1])
					if !slices.Equal(alt, got) {
						t.Fatalf("%s k=%d trans=%v: in-place A differs from packed", kern.name, k, trans)
					}
				}
				sgemmTileGo(mr, nr, k, a, b, want[guard:], ldc, ab[0], ab[1])
				for i := range got {
					r, col := (i-guard)/ldc, (i-guard)%ldc
					if i < guard || i >= len(got)-guard || col >= nr {
						if got[i] != sentinel {
							t.Fatalf("%s k=%d: wrote outside the tile at %d", kern.name, k, i)
						}
						continue
					}
					// Same order of summation; only FMA rounding differs.
					tol := 4 * float64(k+2) * 0x1p-24 * (math.Abs(float64(want[i])) + math.Sqrt(float64(k)) + 1)
					if math.Abs(float64(got[i]-want[i])) > tol {
						t.Fatalf("%s k=%d alpha=%g beta=%g: C[%d,%d] = %g, Go %g", kern.name, k, ab[0], ab[1], r, col, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestSgemmKernelsAgree checks that the assembly kernels give the same
// bits as one another, in place or packed, so that which one Sgemm picks
// for a shape never changes a result. They share kc and each element is one
// chain of fused multiply-adds in k order.
func TestSgemmKernelsAgree(t *testing.T) {
	t.Parallel()
	pool := ktPool(t)
	if len(sgemmAsmKernels) < 1 {
		t.Skip("no assembly kernel on this build or CPU")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []gemmCase{
		{false, false, 37, 75, 1000, 1, 0, 3},
		{true, false, 50, 33, 400, -2, 0.5, 0},
		{false, true, 25, 64, 385, 1, 1, 1},
		{true, true, 13, 40, 77, 0.5, 0, 2},
	} {
		o := newOperands(rng, tc)
		c0 := slices.Clone(o.cbuf)
		var first []float32
		for _, kern := range sgemmAsmKernels {
			if kern.kc != sgemmAsmKernels[0].kc {
				t.Fatalf("%s has kc %d, %s %d", kern.name, kern.kc, sgemmAsmKernels[0].name, sgemmAsmKernels[0].kc)
			}
			for _, mode := range directModes(kern) {
				copy(o.cbuf, c0)
				sgemm(sgemmHow{kern: kern, procs: 2, direct: mode, pool: pool}, sgemmArgs{tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc})
				if first == nil {
					first = slices.Clone(o.cbuf)
				} else if !slices.Equal(first, o.cbuf) {
					t.Fatalf("%v: %s (direct mode %d) differs from %s", tc, kern.name, mode, sgemmAsmKernels[0].name)
				}
			}
		}
	}
}

// TestSgemmAllocs checks that products allocate nothing in steady state,
// serial and on the pool, whose helpers must have run tasks. It counts the
// process's allocations, so it is not parallel, and runs on a pool of its
// own.
func TestSgemmAllocs(t *testing.T) {
	pool := ktPool(t)
	h0 := pool.helped.Load()
	// Plain products, a narrow one (computed transposed) and a fused bias.
	for _, s := range []benchShape{{100, 70, 150, false, false}, {512, 256, 256, false, false}, {128, 10, 256, false, false}, {256, 10, 128, true, false}} {
		a, b, c := benchOperands(s)
		lda := s.k
		if s.transA {
			lda = s.m
		}
		bias := make([]float32, s.n)
		for _, procs := range []int{1, 2} {
			how := sgemmHow{procs: procs, pool: pool}
			ktAllocFree(t, fmt.Sprintf("%v on %d goroutines", s, procs), func() {
				sgemm(how, sgemmArgs{s.transA, false, s.m, s.n, s.k, 1, a, lda, b, s.n, 0, c, s.n})
				sgemmBias(how, sgemmArgs{s.transA, false, s.m, s.n, s.k, 1, a, lda, b, s.n, 0, c, s.n}, bias, true)
			})
		}
	}
	if pool.helped.Load() == h0 && runtime.GOMAXPROCS(0) > 1 {
		t.Errorf("no helper of the pool ran a task: the parallel path was not measured")
	}
}

func TestSgemmBadArgs(t *testing.T) {
	t.Parallel()
	s := make([]float32, 100)
	tests := []struct {
		name    string
		m, n, k int
		lda     int
		a, b, c []float32
		wantErr string
	}{
		{"ok", 4, 5, 6, 6, s, s, s, ""},
		{"negative", -1, 5, 6, 6, s, s, s, "negative size"},
		{"small lda", 4, 5, 6, 5, s, s, s, "ldA 5 < 6"},
		{"short a", 4, 5, 6, 6, s[:23], s, s, "len(A) 23 < 24"},
		{"short b", 4, 5, 6, 6, s, s[:29], s, "len(B) 29 < 30"},
		{"short c", 4, 5, 6, 6, s, s, s[:19], "len(C) 19 < 20"},
		{"empty", 0, 0, 0, 1, nil, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			func() {
				defer func() {
					if r := recover(); r != nil {
						got = fmt.Sprint(r)
					}
				}()
				Sgemm(false, false, tt.m, tt.n, tt.k, 1, tt.a, tt.lda, tt.b, max(tt.n, 1), 0, tt.c, max(tt.n, 1))
			}()
			if tt.wantErr == "" && got != "" {
				t.Fatalf("panic %q, want none", got)
			}
			if tt.wantErr != "" && !strings.Contains(got, tt.wantErr) {
				t.Fatalf("panic %q, want one containing %q", got, tt.wantErr)
			}
			if got != "" && !strings.HasPrefix(got, "kernels: ") {
				t.Fatalf("panic %q lacks the package prefix", got)
			}
		})
	}
}

func TestSgemmGrid(t *testing.T) {
	t.Parallel()
	// Properties rather than exact grids, which follow a cost model: how
	// many tasks, and along which side C is cut.
	tests := []struct {
		name           string
		m, n, k, procs int
		minT, maxT     int // bounds on tm·tn
		rowsOnly       bool
		colsOnly       bool
	}{
		{"square", 1024, 1024, 1024, 2, 2, 8, false, false},
		{"few rows: split columns", 128, 512, 784, 2, 2, 8, false, true},
		{"huge k: k is never split", 288, 64, 100352, 2, 2, 8, true, false},
		{"tall: split rows", 100352, 64, 288, 2, 2, 8, true, false},
		{"too little work to share", 64, 10, 128, 2, 1, 1, false, false},
		{"one tile", 5, 5, 100000, 4, 1, 1, false, false},
		{"one goroutine", 1000, 1000, 1000, 1, 1, 1, false, false},
		{"tiles bound the tasks", 12, 32, 100000, 8, 2, 4, false, false},
	}
	for _, tt := range tests {
		tm, tn := sgemmGrid(avx2Like, tt.m, tt.n, tt.k, tt.procs, true)
		if tm*tn < tt.minT || tm*tn > tt.maxT || (tt.rowsOnly && tn != 1) || (tt.colsOnly && tm != 1) {
			t.Errorf("%s: %dx%dx%d on %d: grid %dx%d", tt.name, tt.m, tt.n, tt.k, tt.procs, tm, tn)
		}
		if tm > (tt.m+5)/6 || tn > (tt.n+15)/16 {
			t.Errorf("%s: grid %dx%d has more parts than tiles", tt.name, tm, tn)
		}
	}
	// The ranges of split tile [0, n) exactly.
	for _, n := range []int{0, 1, 5, 6, 7, 100, 1000} {
		for parts := 1; parts <= 9; parts++ {
			next := 0
			for p := 0; p < parts; p++ {
				lo, hi := split(n, 6, parts, p)
				if lo != next || hi < lo || (hi != n && hi%6 != 0) {
					t.Fatalf("split(%d, 6, %d, %d) = [%d,%d), previous ended at %d", n, parts, p, lo, hi, next)
				}
				next = hi
			}
			if next != n {
				t.Fatalf("split(%d, 6, %d) ends at %d", n, parts, next)
			}
		}
	}
}

// avx2Like has the AVX2 kernel's geometry on every build, for grid tests.
var avx2Like = &sgemmKernel{name: "6x16", mr: 6, nr: 16, kc: 256, mc: 144, nc: 2048}

// TestSgemmBias checks the fused bias and ReLU against SgemmBiasRef, with
// guard bands, and to the bit against Sgemm followed by AddBiasReLURef,
// which does the same arithmetic in two passes.
func TestSgemmBias(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(13, 14))
	var cases []gemmCase
	for _, tr := range [4][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
		for _, s := range [][3]int{{0, 5, 5}, {5, 0, 5}, {7, 9, 0}, {1, 1, 1}, {13, 35, 40}, {50, 10, 800}, {200, 70, 33}} {
			cases = append(cases, gemmCase{tr[0], tr[1], s[0], s[1], s[2], 1, 0, 0}, gemmCase{tr[0], tr[1], s[0], s[1], s[2], 1, 0, 3})
		}
	}
	for _, tc := range cases {
		for _, relu := range []bool{false, true} {
			o := newOperands(rng, tc)
			bias := make([]float32, tc.n+1)
			for i := range bias {
				bias[i] = float32(rng.NormFloat64())
			}
			a0, b0 := slices.Clone(o.abuf), slices.Clone(o.bbuf)
			c0 := slices.Clone(o.cbuf)
			SgemmBias(tc.transA, tc.transB, tc.m, tc.n, tc.k, o.a, o.lda, o.b, o.ldb, bias[:tc.n], relu, o.c, o.ldc)
			got := slices.Clone(o.cbuf)
			if !slices.Equal(o.abuf, a0) || !slices.Equal(o.bbuf, b0) {
				t.Fatalf("%v: inputs changed", tc)
			}
			copy(o.cbuf, c0)
			SgemmBiasRef(tc.transA, tc.transB, tc.m, tc.n, tc.k, o.a, o.lda, o.b, o.ldb, bias[:tc.n], relu, o.c, o.ldc)
			for i := range got {
				v, w := got[i], o.cbuf[i]
				if w == sentinel {
					if v != sentinel {
						t.Fatalf("%v relu=%v: wrote %g outside C at %d", tc, relu, v, i)
					}
					continue
				}
				r, col := (i-o.guard)/o.ldc, (i-o.guard)%o.ldc
				var mag float64
				for p := 0; p < tc.k; p++ {
					mag += math.Abs(float64(opAt(o.a, o.lda, tc.transA, r, p)) * float64(opAt(o.b, o.ldb, tc.transB, p, col)))
				}
				tol := 2 * float64(tc.k+2) * 0x1p-23 * (mag + math.Abs(float64(bias[col])))
				if math.IsNaN(float64(v)) || math.Abs(float64(v-w)) > tol || (relu && v < 0) {
					t.Fatalf("%v relu=%v: C[%d,%d] = %g, want %g", tc, relu, r, col, v, w)
				}
			}
			if tc.pad == 0 && tc.m > 0 && tc.n > 0 {
				copy(o.cbuf, c0)
				Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc)
				AddBiasReLURef(o.c, bias, tc.m, tc.n, relu)
				if !slices.Equal(got, o.cbuf) {
					t.Fatalf("%v relu=%v: fused differs from Sgemm then AddBiasReLURef", tc, relu)
				}
			}
		}
	}
}

// TestSgemmNarrow checks products with C narrower than a tile and much
// taller, which Sgemm computes transposed when A is transposed, with every
// transpose, alpha and beta, and leading dimensions past the width.
func TestSgemmNarrow(t *testing.T) {
	t.Parallel()
	pool := ktPool(t)
	rng := rand.New(rand.NewPCG(15, 16))
	// The narrowest tile of this build's kernels: 16 with AVX2, 2 in Go.
	minNR := sgemmKernels[0].nr
	for _, k := range sgemmKernels {
		minNR = min(minNR, k.nr)
	}
	narrowK := 400 // past kc
	if testing.Short() {
		narrowK = 100
	}
	for _, tr := range [4][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
		for _, mn := range [][2]int{{32, 1}, {40, 3}, {47, 7}, {64, 8}, {100, 9}, {128, 10}, {77, 15}} {
			for _, ab := range [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}} {
				for _, k := range []int{1, 9, narrowK} {
					tc := gemmCase{tr[0], tr[1], mn[0], mn[1], k, ab[0], ab[1], k % 4}
					if !sgemmNarrow(tc.m, tc.n) && tc.n < minNR && tc.m >= 2*minNR {
						t.Fatalf("%v: not narrow", tc)
					}
					for _, procs := range []int{1, 2} {
						runCase(t, rng, sgemmHow{procs: procs, pool: pool}, tc)
					}
				}
			}
		}
	}
}

// TestSgemmPack checks packA and packB, with and without the assembly
// helpers, against their definition, zero padding included.
func TestSgemmPack(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(17, 18))
	for _, kern := range testKernels() {
		for _, w := range []int{4, 6, 8, 12, 16, 32} {
			for _, rows := range []int{1, w - 1, w, 2*w + 3} {
				for _, kc := range []int{1, 7, 8, 9, 33} {
					for _, trans := range []bool{false, true} {
						// Pack rows × kc of op(X) from row 2, column 3 of a
						// stored matrix with a padded leading dimension.
						sr, sc := 2+rows, 3+kc
						if trans {
							sr, sc = sc, sr
						}
						ld := sc + 5
						x := make([]float32, sr*ld)
						for i := range x {
							x[i] = float32(rng.NormFloat64())
						}
						at := func(i, p int) float32 { // op(X)[i, p]
							if trans {
								return x[p*ld+i]
							}
							return x[i*ld+p]
						}
						panels := (rows + w - 1) / w
						got := make([]float32, panels*w*kc)
						for i := range got {
							got[i] = sentinel
						}
						kern.packA(got, x, ld, trans, 2, rows, 3, kc, w)
						// packB of the transposed view packs the same panels.
						gotB := make([]float32, panels*w*kc)
						kern.packB(gotB, x, ld, !trans, 3, kc, 2, rows, w)
						for q := 0; q < panels; q++ {
							for p := 0; p < kc; p++ {
								for r := 0; r < w; r++ {
									want := float32(0)
									if q*w+r < rows {
										want = at(2+q*w+r, 3+p)
									}
									idx := q*w*kc + p*w + r
									if got[idx] != want || gotB[idx] != want {
										t.Fatalf("%s w=%d rows=%d kc=%d trans=%v: panel %d [%d,%d] = %g (A), %g (B), want %g",
											kern.name, w, rows, kc, trans, q, p, r, got[idx], gotB[idx], want)
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestKernelSet checks that KernelSet names the set Sgemm uses.
func TestKernelSet(t *testing.T) {
	t.Parallel()
	want := map[string]string{"avx512-12x32": "AVX-512", "avx2-6x16": "AVX2", "neon-8x12": "NEON", "go3x2": "portable Go"}[sgemmKernels[0].name]
	if got := KernelSet(); got != want || want == "" {
		t.Fatalf("KernelSet() = %q with first kernel %s, want %q", got, sgemmKernels[0].name, want)
	}
	// The other kernels run the assembly whenever this build and CPU have it.
	if (active == goSet) != (asmSet == nil) {
		t.Fatalf("active set %s with asmSet %v", active.name, asmSet != nil)
	}
}
