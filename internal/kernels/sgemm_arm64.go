//go:build !noasm

package kernels

import "golang.org/x/sys/cpu"

// sgemmKernel8x12NEON is, with fma(x, y, z) the product x·y plus z
// rounded once to float32,
//
//	for i := 0; i < 8; i++ {
//		for j := 0; j < 12; j++ {
//			var acc float32
//			for p := 0; p < k; p++ {
//				acc = fma(a[p*8+i], b[p*12+j], acc)
//			}
//			if beta == 0 { // C is not read
//				c[i*ldc+j] = alpha * acc
//			} else {
//				c[i*ldc+j] = fma(alpha, acc, beta*c[i*ldc+j])
//			}
//		}
//	}
//
// with 24 Q-register accumulators, two loads of A and three of B per step,
// each value of A multiplying a row of B through the by-element FMLA.
//
//go:noescape
func sgemmKernel8x12NEON(k int, a, b, c *float32, ldc int, alpha, beta float32)

// kc keeps a 12-wide panel of B (12 KiB) and a panel of A (8 KiB) in even
// a 32 KiB L1; mc·kc floats of A (128 KiB) sit in L2.
var neonKernel = &sgemmKernel{
	name: "neon-8x12", set: "NEON", mr: 8, nr: 12, lanes: 4, kc: 256, mc: 128, nc: 2040,
	tile: func(k int, a, b, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[8*k-1], b[12*k-1], c[7*ldc+11]
		sgemmKernel8x12NEON(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
	},
	packRuns: packRunsGo,
	packT8:   packT8Go,
}

// sgemmAsmKernels are the assembly kernels this CPU can run. ASIMD is part
// of ARMv8-A, so every arm64 Go targets has it; the test is for form.
var sgemmAsmKernels = func() []*sgemmKernel {
	if !cpu.ARM64.HasASIMD {
		return nil
	}
	return []*sgemmKernel{neonKernel}
}()

// asmSet is nil: on arm64 only SGEMM has assembly, and the other kernels
// run their Go twins.
var asmSet *kset
