//go:build noasm || !amd64

package kernels

func bnSumAVX2(sum *float64, x *float32, rows, w, stride int) { panic("kernels: no assembly") }
func bnSqDevAVX2(sum *float64, x *float32, mean *float64, rows, w, stride int) {
	panic("kernels: no assembly")
}
func bnForwardAVX2(y, xhat, x, mean, invstd, gamma, beta *float32, rows, w, stride int, relu bool) {
	panic("kernels: no assembly")
}
func bnBackSumsAVX2(sdy, sdyx *float64, dy, xhat, gamma, beta *float32, rows, w, stride int) {
	panic("kernels: no assembly")
}
func bnBackDxAVX2(dx, dy, xhat, invstd, gamma, beta, dgamma, dbeta *float32, rows, w, stride int, rinv float32) {
	panic("kernels: no assembly")
}
