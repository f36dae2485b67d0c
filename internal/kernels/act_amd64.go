//go:build !noasm

package kernels

import "golang.org/x/sys/cpu"

// kernAVX2 selects the assembly of the element-wise, pooling and im2col
// kernels. Tests turn it off to run the Go paths on the same machine.
var kernAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// The assembly below works on whole 8-float vectors: n and w are multiples
// of 8, stride is the row length in elements. The Go callers handle tails.

//go:noescape
func reluAVX2(y, x *float32, n int)

//go:noescape
func reluBackwardAVX2(dx, dy, y *float32, n int)

//go:noescape
func addBiasAVX2(y, bias *float32, rows, w, stride int, relu bool)

//go:noescape
func axpyAVX2(y, x *float32, n int, a float32)

//go:noescape
func scaleAVX2(x *float32, n int, a float32)

//go:noescape
func mulMaskAVX2(y, x, mask *float32, n int)

// colSumAVX2 adds the sums of the first w columns of x into dst.
//
//go:noescape
func colSumAVX2(dst, x *float32, rows, w, stride int)

// sgdMomentumAVX2 is SGDMomentumRef on n floats, n a multiple of 8.
//
//go:noescape
func sgdMomentumAVX2(w, grad, buf *float32, n int, lr, wd, mom float32)
