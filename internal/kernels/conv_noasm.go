//go:build noasm || !amd64

package kernels

func im2colRowAVX2(dst *float32, src *[3]*float32, w, c int, nt bool) { panic("kernels: no assembly") }
func col2imRowAVX2(dst *float32, q *[3]*float32, nq, w, c int, pf *float32) {
	panic("kernels: no assembly")
}
