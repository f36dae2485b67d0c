//go:build noasm || !(amd64 || arm64)

package kernels

// sgemmAsmKernels is empty: this build has no assembly.
var sgemmAsmKernels []*sgemmKernel

// sgemmKernels are the kernels Sgemm chooses from.
var sgemmKernels = []*sgemmKernel{goKernel}

// kernelSet is what KernelSet reports.
const kernelSet = "portable Go"

// sgemmPackT8 and sgemmPackN8 are nil: packing uses plain Go.
var (
	sgemmPackT8 func(dst, src *float32, ld, kc, w int)
	sgemmPackN8 func(dst, src *float32, ld, kc, w, n int)
)
