//go:build noasm || !amd64

package kernels

// kernAVX2 is false: this build has no assembly, and the stubs below are
// never called.
var kernAVX2 = false

func reluAVX2(y, x *float32, n int)                                { panic("kernels: no assembly") }
func reluBackwardAVX2(dx, dy, y *float32, n int)                   { panic("kernels: no assembly") }
func addBiasAVX2(y, bias *float32, rows, w, stride int, relu bool) { panic("kernels: no assembly") }
func axpyAVX2(y, x *float32, n int, a float32)                     { panic("kernels: no assembly") }
func scaleAVX2(x *float32, n int, a float32)                       { panic("kernels: no assembly") }
func mulMaskAVX2(y, x, mask *float32, n int)                       { panic("kernels: no assembly") }
func colSumAVX2(dst, x *float32, rows, w, stride int)              { panic("kernels: no assembly") }
func sgdMomentumAVX2(w, grad, buf *float32, n int, lr, wd, mom float32) {
	panic("kernels: no assembly")
}
