package gonumcmp

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/fmnist/fmnist/internal/kernels"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// shapes are 1024³ and two products of the models: the MLP's first layer
// at batch 128, and a 3×3 convolution (64 channels in im2col form) at
// batch 8.
var shapes = [][3]int{{1024, 1024, 1024}, {128, 512, 784}, {6272, 64, 288}}

// cpuSeconds is the user and system time of the process so far. The
// machine this was tuned on was shared, so GFLOP per CPU-second is
// reported beside GFLOP per wall-second.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func BenchmarkSgemm(b *testing.B) {
	impls := []struct {
		name string
		f    func(m, n, k int, a, bb, c []float32)
	}{
		{"fmnist-" + kernels.KernelSet(), func(m, n, k int, a, bb, c []float32) {
			kernels.Sgemm(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
		}},
		{"gonum", func(m, n, k int, a, bb, c []float32) {
			gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, bb, n, 0, c, n)
		}},
	}
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 2))
		a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		for i := range a {
			a[i] = rng.Float32() - 0.5
		}
		for i := range bb {
			bb[i] = rng.Float32() - 0.5
		}
		for _, im := range impls {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, n, k, im.name), func(b *testing.B) {
				im.f(m, n, k, a, bb, c)
				t0 := cpuSeconds()
				b.ResetTimer()
				for b.Loop() {
					im.f(m, n, k, a, bb, c)
				}
				flops := 2 * float64(m) * float64(n) * float64(k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				b.ReportMetric(flops/(cpuSeconds()-t0)/1e9, "GFLOP/cpu-s")
			})
		}
	}
}

// TestSame checks that the two agree, so that the benchmark times the
// same product.
func TestSame(t *testing.T) {
	m, n, k := 37, 29, 300
	rng := rand.New(rand.NewPCG(3, 4))
	a, bb := make([]float32, m*k), make([]float32, k*n)
	for i := range a {
		a[i] = rng.Float32() - 0.5
	}
	for i := range bb {
		bb[i] = rng.Float32() - 0.5
	}
	c1, c2 := make([]float32, m*n), make([]float32, m*n)
	kernels.Sgemm(false, false, m, n, k, 1, a, k, bb, n, 0, c1, n)
	gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, bb, n, 0, c2, n)
	for i := range c1 {
		if d := c1[i] - c2[i]; d > 1e-4 || d < -1e-4 {
			t.Fatalf("C[%d] = %g, gonum %g", i, c1[i], c2[i])
		}
	}
}
