package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchShape is a product from the models, named M×N×K with a suffix for
// the transposes: _TN is op(A)=Aᵀ, _NT is op(B)=Bᵀ.
type benchShape struct {
	m, n, k        int
	transA, transB bool
}

func (s benchShape) String() string {
	name := fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k)
	switch {
	case s.transA && s.transB:
		name += "_TT"
	case s.transA:
		name += "_TN"
	case s.transB:
		name += "_NT"
	}
	return name
}

var benchShapes = []benchShape{
	{1024, 1024, 1024, false, false},
	// MLP 784-512-256-10 at batch 128: forward, dX = dY·Wᵀ, dW = Xᵀ·dY.
	{128, 512, 784, false, false},
	{128, 256, 512, false, false},
	{128, 10, 256, false, false},
	{128, 784, 512, false, true},
	{128, 512, 256, false, true},
	{128, 256, 10, false, true},
	{784, 512, 128, true, false},
	{512, 256, 128, true, false},
	{256, 10, 128, true, false},
	// CNN at batch 128, forward: im2col rows × (9·Cin) times (9·Cin) × Cout.
	{100352, 32, 9, false, false},
	{100352, 64, 288, false, false},
	{25088, 128, 576, false, false},
	{6272, 256, 1152, false, false},
	{1152, 256, 2304, false, false},
	// Backward data, dCol = dY·Wᵀ.
	{100352, 288, 64, false, true},
	{25088, 576, 128, false, true},
	{6272, 1152, 256, false, true},
	{1152, 2304, 256, false, true},
	// Backward weights, dW = Colᵀ·dY, with K the im2col rows.
	{9, 32, 100352, true, false},
	{288, 64, 100352, true, false},
	{576, 128, 25088, true, false},
	{1152, 256, 6272, true, false},
	{2304, 256, 1152, true, false},
	// A conv layer at batch 8.
	{6272, 64, 288, false, false},
}

func benchOperands(s benchShape) (a, b, c []float32) {
	rng := rand.New(rand.NewPCG(9, 10))
	a = make([]float32, s.m*s.k)
	b = make([]float32, s.k*s.n)
	c = make([]float32, s.m*s.n)
	for i := range a {
		a[i] = rng.Float32() - 0.5
	}
	for i := range b {
		b[i] = rng.Float32() - 0.5
	}
	return a, b, c
}

func benchGemm(b *testing.B, s benchShape, f func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)) {
	x, y, z := benchOperands(s)
	lda, ldb := s.k, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	f(s.transA, s.transB, s.m, s.n, s.k, 1, x, lda, y, ldb, 0, z, s.n)
	b.ResetTimer()
	for b.Loop() {
		f(s.transA, s.transB, s.m, s.n, s.k, 1, x, lda, y, ldb, 0, z, s.n)
	}
	b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm times Sgemm at the shapes the models use, and the naive
// SgemmRef next to it at one small size.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.String(), func(b *testing.B) { benchGemm(b, s, Sgemm) })
	}
	small := benchShape{128, 256, 512, false, false}
	b.Run("ref/"+small.String(), func(b *testing.B) { benchGemm(b, small, SgemmRef) })
	b.Run("fast/"+small.String(), func(b *testing.B) { benchGemm(b, small, Sgemm) })
}

// BenchmarkSgemmTile times each micro-kernel alone on panels in L1: the
// ceiling for one core.
func BenchmarkSgemmTile(b *testing.B) {
	for _, kern := range testKernels() {
		b.Run(kern.name, func(b *testing.B) {
			k := kern.kc
			x := make([]float32, kern.mr*k)
			y := make([]float32, kern.nr*k)
			c := make([]float32, kern.mr*kern.nr)
			for b.Loop() {
				kern.tile(k, x, y, c, kern.nr, 1, 1)
			}
			b.ReportMetric(2*float64(kern.mr*kern.nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkSgemmSerial times the blocked product on one goroutine, for
// tuning the block sizes apart from the split.
func BenchmarkSgemmSerial(b *testing.B) {
	for _, s := range []benchShape{{1024, 1024, 1024, false, false}, {100352, 64, 288, false, false}, {288, 64, 100352, true, false}} {
		b.Run(s.String(), func(b *testing.B) {
			benchGemm(b, s, func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, bb []float32, ldb int, beta float32, c []float32, ldc int) {
				sgemm(sgemmHow{procs: 1}, sgemmArgs{transA, transB, m, n, k, alpha, a, lda, bb, ldb, beta, c, ldc})
			})
		})
	}
}

// BenchmarkSgemmDirect compares packing A with reading it in place, for
// tuning sgemmDirect.a.
func BenchmarkSgemmDirect(b *testing.B) {
	for _, s := range benchShapes {
		for _, mode := range []sgemmDirect{sgemmPacked, sgemmInPlace} {
			name := map[sgemmDirect]string{sgemmPacked: "packed", sgemmInPlace: "direct"}[mode]
			b.Run(s.String()+"/"+name, func(b *testing.B) {
				benchGemm(b, s, func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, bb []float32, ldb int, beta float32, c []float32, ldc int) {
					sgemm(sgemmHow{procs: runtime.GOMAXPROCS(0), direct: mode}, sgemmArgs{transA, transB, m, n, k, alpha, a, lda, bb, ldb, beta, c, ldc})
				})
			})
		}
	}
}

// BenchmarkSgemmRow times products of one row, the layers of the reference
// MLP on a single image, on the row path (Sgemm) and on the tiles that ran
// them before (a forced kernel), with the weights' read rate in GB/s.
func BenchmarkSgemmRow(b *testing.B) {
	for _, s := range []benchShape{{1, 512, 784, false, false}, {1, 256, 512, false, false}, {1, 10, 256, false, false}, {1, 64, 288, false, false}} {
		for _, path := range []string{"row", "tiles"} {
			b.Run(s.String()+"/"+path, func(b *testing.B) {
				how := sgemmHow{procs: runtime.GOMAXPROCS(0)}
				if path == "tiles" {
					how.kern = sgemmPick(s.m, s.n, how.procs)
				}
				x, y, z := benchOperands(s)
				for b.Loop() {
					sgemm(how, sgemmArgs{false, false, s.m, s.n, s.k, 1, x, s.k, y, s.n, 0, z, s.n})
				}
				b.ReportMetric(4*float64(s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}
