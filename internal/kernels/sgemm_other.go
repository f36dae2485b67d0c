//go:build noasm || !(amd64 || arm64)

package kernels

// This build has no assembly: the Go twins run.
var (
	sgemmAsmKernels []*sgemmKernel
	asmSet          *kset
)
