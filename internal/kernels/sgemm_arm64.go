//go:build !noasm

package kernels

import "golang.org/x/sys/cpu"

// sgemmKernel8x12NEON: 24 Q-register accumulators, two loads of A and
// three of B per step, each value of A multiplying a row of B through the
// by-element form of FMLA. It is the tile of sgemmTileGo for 8×12, with
// one fused multiply-add per element and step, in k order.
//
//go:noescape
func sgemmKernel8x12NEON(k int, a, b, c *float32, ldc int, alpha, beta float32)

// kc keeps a 12-wide panel of B (12 KiB) and a panel of A (8 KiB) in even
// a 32 KiB L1; mc·kc floats of A (128 KiB) sit in L2.
var neonKernel = &sgemmKernel{
	name: "neon-8x12", mr: 8, nr: 12, kc: 256, mc: 128, nc: 2040,
	tile: func(k int, a, b, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[8*k-1], b[12*k-1], c[7*ldc+11]
		sgemmKernel8x12NEON(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
	},
}

// sgemmAsmKernels are the assembly kernels this CPU can run. ASIMD is part
// of ARMv8-A, so every arm64 Go targets has it; the test is for form.
var sgemmAsmKernels = func() []*sgemmKernel {
	if !cpu.ARM64.HasASIMD {
		return nil
	}
	return []*sgemmKernel{neonKernel}
}()

// sgemmKernels are the kernels Sgemm chooses from.
var sgemmKernels = func() []*sgemmKernel {
	if len(sgemmAsmKernels) > 0 {
		return sgemmAsmKernels
	}
	return []*sgemmKernel{goKernel}
}()

// kernelSet is what KernelSet reports.
var kernelSet = func() string {
	if sgemmKernels[0] == neonKernel {
		return "NEON"
	}
	return "portable Go"
}()

// sgemmPackT8 and sgemmPackN8 are nil: packing uses plain Go.
var (
	sgemmPackT8 func(dst, src *float32, ld, kc, w int)
	sgemmPackN8 func(dst, src *float32, ld, kc, w, n int)
)
