//go:build !noasm

package kernels

import "golang.org/x/sys/cpu"

// The assembly micro-kernels compute a tile of sgemmTileGo with one chain
// of fused multiply-adds per element, in k order, and the same final step,
// so they all give the same bits; fma(x, y, z) below is x·y + z rounded
// once to float32. The Strided forms read A in place (either transpose)
// and B in place; with rsa = 1, csa = mr and ldb = nr they read packed
// panels.

// sgemmKernel6x16AVX2 is
//
//	for i := 0; i < 6; i++ {
//		for j := 0; j < 16; j++ {
//			var acc float32
//			for p := 0; p < k; p++ {
//				acc = fma(a[p*6+i], b[p*16+j], acc)
//			}
//			if beta == 0 { // C is not read
//				c[i*ldc+j] = alpha * acc
//			} else {
//				c[i*ldc+j] = fma(alpha, acc, beta*c[i*ldc+j])
//			}
//		}
//	}
//
// with 12 YMM accumulators, two loads of B and six broadcasts of A per step.
//
//go:noescape
func sgemmKernel6x16AVX2(k int, a, b, c *float32, ldc int, alpha, beta float32)

// sgemmKernel6x16StridedAVX2 is
//
//	for i := 0; i < 6; i++ {
//		for j := 0; j < 16; j++ {
//			var acc float32
//			for p := 0; p < k; p++ {
//				acc = fma(a[i*rsa+p*csa], b[p*ldb+j], acc)
//			}
//			if beta == 0 { // C is not read
//				c[i*ldc+j] = alpha * acc
//			} else {
//				c[i*ldc+j] = fma(alpha, acc, beta*c[i*ldc+j])
//			}
//		}
//	}
//
//go:noescape
func sgemmKernel6x16StridedAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32, rsa, csa, ldb int)

// sgemmKernel12x32AVX512 is
//
//	for i := 0; i < 12; i++ {
//		for j := 0; j < 32; j++ {
//			var acc float32
//			for p := 0; p < k; p++ {
//				acc = fma(a[p*12+i], b[p*32+j], acc)
//			}
//			if beta == 0 { // C is not read
//				c[i*ldc+j] = alpha * acc
//			} else {
//				c[i*ldc+j] = fma(alpha, acc, beta*c[i*ldc+j])
//			}
//		}
//	}
//
// with 24 ZMM accumulators, two loads of B and twelve broadcasts of A per
// step. Zen 4 runs a 512-bit FMA as two 256-bit halves, so the peak is that
// of AVX2, but the larger tile needs half the loads per FMA and half the
// traffic from L2.
//
//go:noescape
func sgemmKernel12x32AVX512(k int, a, b, c *float32, ldc int, alpha, beta float32)

// sgemmKernel12x32StridedAVX512 is
//
//	for i := 0; i < 12; i++ {
//		for j := 0; j < 32; j++ {
//			var acc float32
//			for p := 0; p < k; p++ {
//				acc = fma(a[i*rsa+p*csa], b[p*ldb+j], acc)
//			}
//			if beta == 0 { // C is not read
//				c[i*ldc+j] = alpha * acc
//			} else {
//				c[i*ldc+j] = fma(alpha, acc, beta*c[i*ldc+j])
//			}
//		}
//	}
//
//go:noescape
func sgemmKernel12x32StridedAVX512(k int, a, b, c *float32, ldc int, alpha, beta float32, rsa, csa, ldb int)

// kc is the same for all assembly kernels, so that choosing one or the
// other never changes a result.
var avx2Kernel = &sgemmKernel{
	name: "avx2-6x16", set: "AVX2", packRuns: packRunsAVX2, packT8: packT8AVX2, mr: 6, nr: 16, lanes: 8, kc: 384, mc: 144, nc: 2048,
	tile: func(k int, a, b, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[6*k-1], b[16*k-1], c[5*ldc+15]
		sgemmKernel6x16AVX2(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
	},
	tileA: func(k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[5*rsa+(k-1)*csa], b[(k-1)*ldb+15], c[5*ldc+15]
		sgemmKernel6x16StridedAVX2(k, &a[0], &b[0], &c[0], ldc, alpha, beta, rsa, csa, ldb)
	},
	row: rowAsm(rowsAVX2),
}

var avx512Kernel = &sgemmKernel{
	name: "avx512-12x32", set: "AVX-512", packRuns: packRunsAVX2, packT8: packT8AVX2, mr: 12, nr: 32, lanes: 16, kc: 384, mc: 144, nc: 2048,
	tile: func(k int, a, b, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[12*k-1], b[32*k-1], c[11*ldc+31]
		sgemmKernel12x32AVX512(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
	},
	tileA: func(k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[11*rsa+(k-1)*csa], b[(k-1)*ldb+31], c[11*ldc+31]
		sgemmKernel12x32StridedAVX512(k, &a[0], &b[0], &c[0], ldc, alpha, beta, rsa, csa, ldb)
	},
	row: rowAsm(rowsAVX512),
}

// sgemmAsmKernels are the assembly kernels this CPU can run, best first.
var sgemmAsmKernels = func() []*sgemmKernel {
	var ks []*sgemmKernel
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		return nil
	}
	if cpu.X86.HasAVX512F {
		ks = append(ks, avx512Kernel)
	}
	return append(ks, avx2Kernel)
}()

// sgemmPackT8AVX2 is, for kc a multiple of 8,
//
//	for r := 0; r < 8; r++ {
//		for p := 0; p < kc; p++ {
//			dst[p*w+r] = src[r*ld+p]
//		}
//	}
//
//go:noescape
func sgemmPackT8AVX2(dst, src *float32, ld, kc, w int)

// sgemmPackN8AVX2 is, for w a multiple of 8 and n ≤ w,
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < w; i++ {
//			dst[p*w+i] = 0
//			if i < n {
//				dst[p*w+i] = src[p*ld+i]
//			}
//		}
//	}
//
//go:noescape
func sgemmPackN8AVX2(dst, src *float32, ld, kc, w, n int)

func packT8AVX2(dst, src []float32, ld, kc, w int) {
	_, _ = src[7*ld+kc-1], dst[(kc-1)*w+7]
	sgemmPackT8AVX2(&dst[0], &src[0], ld, kc, w)
}

func packRunsAVX2(d, src []float32, ld, off, kc, n, w int) {
	if w%8 != 0 || kc == 0 || n == 0 {
		packRunsGo(d, src, ld, off, kc, n, w)
		return
	}
	_, _ = src[off+(kc-1)*ld+n-1], d[kc*w-1]
	sgemmPackN8AVX2(&d[0], &src[off], ld, kc, w, n)
}
