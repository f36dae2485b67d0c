package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// rowKernels are the kernels under test that have a row function.
func rowKernels() []*sgemmKernel {
	var ks []*sgemmKernel
	for _, k := range testKernels() {
		if k.row != nil {
			ks = append(ks, k)
		}
	}
	return ks
}

// rowWidthsToTest are the widths around every row kernel's and around the
// Go twin's block, and a few sizes of the reference models.
func rowWidthsToTest() []int {
	ns := []int{1, 2, 3, 5, 7, 10}
	for _, w := range []int{8, 16, 24, 32, 48, 64, 128, 256, 512} {
		ns = append(ns, edgeSizes(w)...)
	}
	return append(ns, 16+8+3, 256+128+64+32+16+8+7)
}

// TestSgemmRowBits checks each kernel's row path against its tiles, to the
// bit, over widths that use every row kernel and the masked tail, depths
// of one to several passes over K, both transposes of A and alpha and
// beta that make the store read C; and against SgemmRef within rounding,
// with guard bands around C.
func TestSgemmRowBits(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(21, 22))
	for _, kern := range rowKernels() {
		ks := []int{1, 2, 3, 4, 5, 9, 31, kern.kc - 1, kern.kc, kern.kc + 1, 2*kern.kc + 3}
		ns := rowWidthsToTest()
		abs := [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}}
		if testing.Short() {
			ks = []int{1, 5, kern.kc + 1}
		}
		for _, transA := range []bool{false, true} {
			for _, k := range ks {
				for i, n := range ns {
					ab := abs[(i+k)%len(abs)]
					tc := gemmCase{transA, false, 1, n, k, ab[0], ab[1], (n + k) % 3}
					o := newOperands(rng, tc)
					c0 := slices.Clone(o.cbuf)
					a0, b0 := slices.Clone(o.abuf), slices.Clone(o.bbuf)
					g := sgemmArgs{tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc}
					sgemmRow(kern, g, nil, false)
					got := slices.Clone(o.cbuf)
					if !slices.Equal(o.abuf, a0) || !slices.Equal(o.bbuf, b0) {
						t.Fatalf("%s %v: inputs changed", kern.name, tc)
					}
					copy(o.cbuf, c0)
					sgemm(sgemmHow{kern: kern, procs: 1}, g)
					if !bitsEqual(got, o.cbuf) {
						t.Fatalf("%s %v: row path differs from the tiles at %d", kern.name, tc, firstDiff(got, o.cbuf))
					}
					copy(o.cbuf, c0)
					SgemmRef(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc)
					checkGemm(t, tc, o, c0, got, o.cbuf)
				}
			}
		}
	}
}

// TestSgemmRowIsBatchRow checks that a product of one row, as Sgemm and
// SgemmBias run it, gives each row of a batch the bits it has in the
// batch: the single image of inference is classified as in a batch.
func TestSgemmRowIsBatchRow(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(23, 24))
	for _, s := range []struct {
		m, n, k int
		transA  bool
	}{{128, 512, 784, false}, {128, 256, 512, false}, {128, 10, 256, false}, {13, 35, 1000, false}, {40, 77, 390, true}, {30, 7, 3, true}} {
		tc := gemmCase{s.transA, false, s.m, s.n, s.k, 1, 0, 1}
		o := newOperands(rng, tc)
		bias := make([]float32, s.n)
		for i := range bias {
			bias[i] = float32(rng.NormFloat64())
		}
		for _, relu := range []bool{false, true} {
			SgemmBias(s.transA, false, s.m, s.n, s.k, o.a, o.lda, o.b, o.ldb, bias, relu, o.c, o.ldc)
			batch := slices.Clone(o.c)
			row := make([]float32, s.n)
			for i := 0; i < s.m; i++ {
				// Row i of op(A) alone: a row of A, or a column of Aᵀ.
				a, lda := o.a[i:], o.lda
				if !s.transA {
					a = o.a[i*o.lda:]
				}
				SgemmBias(s.transA, false, 1, s.n, s.k, a, lda, o.b, o.ldb, bias, relu, row, s.n)
				if want := batch[i*o.ldc : i*o.ldc+s.n]; !bitsEqual(row, want) {
					t.Fatalf("%dx%dx%d transA=%v relu=%v: row %d alone differs from the batch at column %d", s.m, s.n, s.k, s.transA, relu, i, firstDiff(row, want))
				}
			}
		}
	}
}

// TestSgemmRowAllocs checks that the row path allocates nothing.
func TestSgemmRowAllocs(t *testing.T) {
	s := benchShape{1, 512, 784, false, false}
	a, b, c := benchOperands(s)
	bias := make([]float32, s.n)
	ktAllocFree(t, fmt.Sprint(s), func() {
		Sgemm(false, false, 1, s.n, s.k, 1, a, s.k, b, s.n, 0, c, s.n)
		SgemmBias(false, false, 1, s.n, s.k, a, s.k, b, s.n, bias, true, c, s.n)
	})
}

func bitsEqual(x, y []float32) bool { return firstDiff(x, y) < 0 }

// firstDiff is the first index where x and y differ in their bits, or -1.
func firstDiff(x, y []float32) int {
	if len(x) != len(y) {
		return min(len(x), len(y))
	}
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
			return i
		}
	}
	return -1
}

// TestBiasTileSpecials checks the fused bias and ReLU against
// AddBiasReLURef to the bit on signed zeros, NaNs and infinities, in
// tiles wider and narrower than a vector, with a stride.
func TestBiasTileSpecials(t *testing.T) {
	t.Parallel()
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	vals := []float32{negZero, 0, nan, -1, 1, -inf, inf, 1e-45, -1e-45, 3}
	for _, w := range []int{1, 7, 8, 9, 17, 32} {
		for _, relu := range []bool{false, true} {
			const h, ldc = 3, 40
			c := make([]float32, (h-1)*ldc+w)
			bias := make([]float32, w)
			for i := range c {
				c[i] = vals[i%len(vals)]
			}
			for i := range bias {
				bias[i] = vals[(3*i+1)%len(vals)]
			}
			want := slices.Clone(c)
			biasTile(c, ldc, h, w, bias, relu)
			for r := 0; r < h; r++ {
				AddBiasReLURef(want[r*ldc:r*ldc+w], bias, 1, w, relu)
			}
			if i := firstDiff(c, want); i >= 0 {
				t.Fatalf("w=%d relu=%v: at %d got %g, want %g", w, relu, i, c[i], want[i])
			}
		}
	}
}
