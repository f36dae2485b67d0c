//go:build !noasm

package kernels

import "golang.org/x/sys/cpu"

// The assembly micro-kernels. Each computes the tile of sgemmTileGo with
// one chain of fused multiply-adds per element, in k order, and the same
// final C = alpha·acc + beta·C (as beta·C, then one FMA), so they all give
// the same bits. The Strided forms read A in place, element (i, p) of the
// tile's A at a[i·rsa + p·csa], and row p of B at b[p·ldb]; with rsa = 1,
// csa = mr and ldb = nr they read packed panels.

// sgemmKernel6x16AVX2: 12 YMM accumulators, two loads of B and six
// broadcasts of A per step.
//
//go:noescape
func sgemmKernel6x16AVX2(k int, a, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmKernel6x16StridedAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32, rsa, csa, ldb int)

// sgemmKernel12x32AVX512: 24 ZMM accumulators, two loads of B and twelve
// broadcasts of A per step. Zen 4 runs a 512-bit FMA as two 256-bit
// halves, so the peak is that of AVX2, but the larger tile needs half the
// loads per FMA and half the traffic from L2.
//
//go:noescape
func sgemmKernel12x32AVX512(k int, a, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmKernel12x32StridedAVX512(k int, a, b, c *float32, ldc int, alpha, beta float32, rsa, csa, ldb int)

// kc is the same for all assembly kernels, so that choosing one or the
// other never changes a result.
var avx2Kernel = &sgemmKernel{
	name: "avx2-6x16", mr: 6, nr: 16, kc: 384, mc: 144, nc: 2048,
	tile: func(k int, a, b, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[6*k-1], b[16*k-1], c[5*ldc+15]
		sgemmKernel6x16AVX2(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
	},
	tileA: func(k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[5*rsa+(k-1)*csa], b[(k-1)*ldb+15], c[5*ldc+15]
		sgemmKernel6x16StridedAVX2(k, &a[0], &b[0], &c[0], ldc, alpha, beta, rsa, csa, ldb)
	},
}

var avx512Kernel = &sgemmKernel{
	name: "avx512-12x32", mr: 12, nr: 32, kc: 384, mc: 144, nc: 2048,
	tile: func(k int, a, b, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[12*k-1], b[32*k-1], c[11*ldc+31]
		sgemmKernel12x32AVX512(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
	},
	tileA: func(k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[11*rsa+(k-1)*csa], b[(k-1)*ldb+31], c[11*ldc+31]
		sgemmKernel12x32StridedAVX512(k, &a[0], &b[0], &c[0], ldc, alpha, beta, rsa, csa, ldb)
	},
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

// sgemmKernels are the kernels Sgemm chooses from, best first.
var sgemmKernels = func() []*sgemmKernel {
	if len(sgemmAsmKernels) > 0 {
		return sgemmAsmKernels
	}
	return []*sgemmKernel{goKernel}
}()

// kernelSet is what KernelSet reports.
var kernelSet = func() string {
	switch sgemmKernels[0] {
	case avx512Kernel:
		return "AVX-512"
	case avx2Kernel:
		return "AVX2"
	}
	return "portable Go"
}()

// sgemmPackT8AVX2 transposes 8 rows of src (stride ld) into dst (stride
// w): dst[p·w + r] = src[r·ld + p] for r < 8, p < kc; kc is a multiple of 8.
//
//go:noescape
func sgemmPackT8AVX2(dst, src *float32, ld, kc, w int)

// sgemmPackN8AVX2 copies kc runs of n floats, run p from src[p·ld], to dst
// in groups of w (a multiple of 8, at least n), zero-filled past n.
//
//go:noescape
func sgemmPackN8AVX2(dst, src *float32, ld, kc, w, n int)

// sgemmPackT8 and sgemmPackN8 are the packing helpers above where the CPU
// has AVX2, else nil.
var sgemmPackT8, sgemmPackN8 = func() (t8 func(dst, src *float32, ld, kc, w int), n8 func(dst, src *float32, ld, kc, w, n int)) {
	if cpu.X86.HasAVX2 {
		return sgemmPackT8AVX2, sgemmPackN8AVX2
	}
	return nil, nil
}()
