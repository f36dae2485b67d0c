// Package kernels holds the float32 hot paths of fmnist: SGEMM, the 3×3
// convolution primitives (im2col/col2im on NHWC), pooling, activations and
// the softmax cross-entropy.
//
// Every exported kernel has a plain Go reference twin with the same
// signature, named with a Ref suffix; its body is the definition of the
// kernel, and tests compare the fast path against it. On amd64 with AVX2 and
// FMA the fast paths use assembly; the noasm build tag forces the Go path.
//
// Layouts: matrices are row-major with a leading dimension (the stride
// between rows). Activations are NHWC, so that a 3×3 convolution is
// im2col (N·H·W × 9·C) times a weight matrix (9·C × Cout) whose rows are
// ordered (ky, kx, cin), giving the NHWC output directly.
//
// Kernels never allocate in steady state, leave their inputs unchanged, and
// give the same bits whatever GOMAXPROCS is.
package kernels
