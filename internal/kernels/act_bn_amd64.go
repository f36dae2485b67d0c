//go:build !noasm

package kernels

// Batch-norm assembly. The column sums (bnSumAVX2, bnSqDevAVX2,
// bnBackSumsAVX2) take w = 8 or 16 columns and sum every row in order, in
// float64; the row kernels take any multiple of 8.

//go:noescape
func bnSumAVX2(sum *float64, x *float32, rows, w, stride int)

//go:noescape
func bnSqDevAVX2(sum *float64, x *float32, mean *float64, rows, w, stride int)

// bnForwardAVX2 writes xhat only when it is not nil.
//
//go:noescape
func bnForwardAVX2(y, xhat, x, mean, invstd, gamma, beta *float32, rows, w, stride int, relu bool)

// bnBackSumsAVX2 masks dy by the recomputed ReLU output when beta is not nil.
//
//go:noescape
func bnBackSumsAVX2(sdy, sdyx *float64, dy, xhat, gamma, beta *float32, rows, w, stride int)

//go:noescape
func bnBackDxAVX2(dx, dy, xhat, invstd, gamma, beta, dgamma, dbeta *float32, rows, w, stride int, rinv float32)
