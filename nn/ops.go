package nn

import (
	"math"
	"math/rand/v2"

	"github.com/fmnist/fmnist/internal/kernels"
)

// The layers reach the kernels only through these small functions, so that a
// faster or fused kernel can replace one of them without touching a layer.
// Those whose math is still written here in plain Go (batch norm, dropout)
// are the ones the kernels package does not have yet.

// gemm sets C = op(A)·op(B) when beta is 0, or adds to C when beta is 1.
func gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kernels.Sgemm(transA, transB, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

// biasAct adds bias (nil for none) to each row of y and applies the ReLU
// when relu is set, in one pass.
func biasAct(y, bias []float32, rows, cols int, relu bool) {
	switch {
	case bias != nil:
		kernels.AddBiasReLU(y, bias, rows, cols, relu)
	case relu:
		kernels.ReLU(y[:rows*cols], y[:rows*cols])
	}
}

func relu(y, x []float32) { kernels.ReLU(y, x) }

// reluBackward masks dy by y > 0 into dx.
func reluBackward(dx, dy, y []float32) { kernels.ReLUBackward(dx, dy, y) }

// biasGrad sets db to the column sums of dz (rows×len(db)).
func biasGrad(db, dz []float32, rows int) {
	clear(db)
	kernels.ColSum(db, dz, rows, len(db))
}

// winoScratch is the per-layer scratch of the Winograd convolution.
type winoScratch = kernels.WinogradScratch

func winoWeights(u, w []float32, cin, cout int)       { kernels.WinogradWeights(u, w, cin, cout) }
func winoWeightsGrad(dw, du []float32, cin, cout int) { kernels.WinogradWeightsGrad(dw, du, cin, cout) }

func winoConv(y, x, u, bias []float32, n, h, w, cin, cout int, relu bool, s *winoScratch) {
	kernels.WinogradConv(y, x, u, bias, n, h, w, cin, cout, relu, s)
}

func winoBackward(dx, du, db, dy, y, x, u []float32, n, h, w, cin, cout int, relu bool, s *winoScratch) {
	kernels.WinogradConvBackward(dx, du, db, dy, y, x, u, n, h, w, cin, cout, relu, s)
}

func convTaps(y, x, wt, bias []float32, n, h, w, cin, cout int, relu bool) {
	kernels.Conv3x3Taps(y, x, wt, bias, n, h, w, cin, cout, relu)
}

func convTapsBackward(dx, dw, dz, x, wt []float32, n, h, w, cin, cout int) {
	kernels.Conv3x3TapsBackward(dx, dw, dz, x, wt, n, h, w, cin, cout)
}

func im2col(col, x []float32, n, h, w, c int)  { kernels.Im2col3x3(col, x, n, h, w, c) }
func col2im(dx, col []float32, n, h, w, c int) { kernels.Col2im3x3(dx, col, n, h, w, c) }

func maxPool2x2(y []float32, idx []int32, x []float32, n, h, w, c int) {
	kernels.MaxPool2x2(y, idx, x, n, h, w, c)
}

func globalMaxPool(y []float32, idx []int32, x []float32, n, hw, c int) {
	kernels.GlobalMaxPool(y, idx, x, n, hw, c)
}

// poolBackward zeroes dx and scatters dy into it through idx.
func poolBackward(dx, dy []float32, idx []int32) {
	kernels.MaxPoolBackward(dx, dy, idx, len(dx))
}

// maxPool2x2Backward is poolBackward for maxPool2x2's indices: it writes
// each window of dx once instead of zeroing dx and scattering into it.
func maxPool2x2Backward(dx, dy []float32, idx []int32, n, h, w, c int) {
	kernels.MaxPool2x2Backward(dx, dy, idx, n, h, w, c)
}

// bnStats sets the per-channel mean and biased variance of x (rows×C).
func bnStats(mean, variance, x []float32, rows int) {
	kernels.BatchNormStats(mean, variance, x, rows, len(mean))
}

// bnForward sets xhat = (x − mean)·invstd (unless xhat is nil) and
// y = γ·xhat + β, clamped at zero when relu is set.
func bnForward(y, xhat, x, mean, invstd, gamma, beta []float32, rows int, relu bool) {
	kernels.BatchNormForward(y, xhat, x, mean, invstd, gamma, beta, rows, len(mean), relu)
}

// bnBackward is the training-mode gradient: it sets dγ, dβ and dx from dy
// and the xhat of the forward pass. With relu set, the ReLU mask is
// recomputed from xhat, γ and β.
func bnBackward(dx, dgamma, dbeta, dy, xhat, invstd, gamma, beta []float32, rows int, relu bool) {
	if relu {
		kernels.BatchNormReLUBackward(dx, dgamma, dbeta, dy, xhat, invstd, gamma, beta, rows, len(gamma))
	} else {
		kernels.BatchNormBackward(dx, dgamma, dbeta, dy, xhat, invstd, gamma, rows, len(gamma))
	}
}

// bnEvalBackward is the gradient after an eval-mode forward, where the
// statistics are constants: dz = dy (masked by y > 0 when relu is set),
// dβ = Σ dz, dγ = Σ dz·xhat with xhat recomputed from x, dx = γ·invstd·dz.
// Training never needs it, so it stays in plain Go; s1 and s2 are
// per-channel scratch.
func bnEvalBackward(dx, dgamma, dbeta, dy, x, y, mean, invstd, gamma []float32, s1, s2 []float64, relu bool) {
	c := len(mean)
	clear(s1)
	clear(s2)
	for r := 0; r+c <= len(x); r += c {
		dr, xr, yr, out := dy[r:r+c], x[r:r+c], y[r:r+c], dx[r:r+c]
		for j, d := range dr {
			if relu && !(yr[j] > 0) {
				d = 0
			}
			s1[j] += float64(d)
			s2[j] += float64(d) * float64((xr[j]-mean[j])*invstd[j])
			out[j] = gamma[j] * invstd[j] * d
		}
	}
	for j := range c {
		dbeta[j], dgamma[j] = float32(s1[j]), float32(s2[j])
	}
}

// dropoutMask fills mask with 0 (probability p) or 1/(1−p), drawing 32
// random bits per element, two per draw from src.
func dropoutMask(mask []float32, p float64, src *rand.PCG) {
	thr := uint64(math.Round(p * (1 << 32)))
	scale := float32(1 / (1 - p))
	var bits uint64
	for i := range mask {
		if i%2 == 0 {
			bits = src.Uint64()
		} else {
			bits >>= 32
		}
		if bits&0xffffffff < thr {
			mask[i] = 0
		} else {
			mask[i] = scale
		}
	}
}

// mulMask sets y = x·mask elementwise.
func mulMask(y, x, mask []float32) { kernels.MulMask(y, x, mask) }
