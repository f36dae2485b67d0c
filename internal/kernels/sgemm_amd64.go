//go:build !noasm

package kernels

import "golang.org/x/sys/cpu"

// sgemmKernel6x16AVX2 is the 6×16 tile of sgemmTileGo with AVX2 and FMA:
// 12 YMM accumulators, two loads of B and six broadcasts of A per step.
//
//go:noescape
func sgemmKernel6x16AVX2(k int, a, b, c *float32, ldc int, alpha, beta float32)

var avx2Kernel = &sgemmKernel{
	name: "avx2-6x16", mr: 6, nr: 16, kc: 384, mc: 144, nc: 2048,
	tile: func(k int, a, b, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[6*k-1], b[16*k-1], c[5*ldc+15]
		sgemmKernel6x16AVX2(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
	},
	tileA: func(k int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[5*rsa+(k-1)*csa], b[16*k-1], c[5*ldc+15]
		sgemmKernel6x16StridedAVX2(k, &a[0], &b[0], &c[0], ldc, alpha, beta, rsa, csa)
	},
}

// sgemmAsmKernels are the assembly kernels this CPU can run, best first.
var sgemmAsmKernels = func() []*sgemmKernel {
	var ks []*sgemmKernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, avx512Kernel)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernel)
	}
	return ks
}()

// sgemmPackT8AVX2 transposes 8 rows of src (stride ld) into dst (stride
// w): dst[p·w + r] = src[r·ld + p] for r < 8, p < kc; kc is a multiple of 8.
//
//go:noescape
func sgemmPackT8AVX2(dst, src *float32, ld, kc, w int)

// sgemmPackT8 is sgemmPackT8AVX2 where the CPU has AVX2, else nil.
var sgemmPackT8 = func() func(dst, src *float32, ld, kc, w int) {
	if cpu.X86.HasAVX2 {
		return sgemmPackT8AVX2
	}
	return nil
}()

// sgemmKernels are the kernels Sgemm chooses from, best first.
var sgemmKernels = func() []*sgemmKernel {
	if len(sgemmAsmKernels) > 0 {
		return sgemmAsmKernels
	}
	return []*sgemmKernel{goKernel}
}()

// sgemmKernel6x16StridedAVX2 is sgemmKernel6x16AVX2 reading A in place:
// element (i, p) of the tile's A at a[i·rsa + p·csa].
//
//go:noescape
func sgemmKernel6x16StridedAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32, rsa, csa int)

// sgemmKernel12x32AVX512 is the 12×32 tile of sgemmTileGo with AVX-512:
// 24 ZMM accumulators, two loads of B and twelve broadcasts of A per step.
//
//go:noescape
func sgemmKernel12x32AVX512(k int, a, b, c *float32, ldc int, alpha, beta float32)

// sgemmKernel12x32StridedAVX512 is sgemmKernel12x32AVX512 reading A in
// place: element (i, p) of the tile's A at a[i·rsa + p·csa].
//
//go:noescape
func sgemmKernel12x32StridedAVX512(k int, a, b, c *float32, ldc int, alpha, beta float32, rsa, csa int)

var avx512Kernel = &sgemmKernel{
	name: "avx512-12x32", mr: 12, nr: 32, kc: 384, mc: 144, nc: 2048,
	tile: func(k int, a, b, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[12*k-1], b[32*k-1], c[11*ldc+31]
		sgemmKernel12x32AVX512(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
	},
	tileA: func(k int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[11*rsa+(k-1)*csa], b[32*k-1], c[11*ldc+31]
		sgemmKernel12x32StridedAVX512(k, &a[0], &b[0], &c[0], ldc, alpha, beta, rsa, csa)
	},
}
