// Package kernels holds the float32 hot paths of fmnist: SGEMM, the 3×3
// convolution primitives (im2col/col2im on NHWC, Winograd F(2×2, 3×3) and
// one GEMM per pixel pair for tiny images), pooling, activations and the
// softmax cross-entropy.
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
// give the same bits whatever GOMAXPROCS is. The convolution kernels that
// run whole layers (WinogradConv, Conv3x3Taps) cut the batch into tasks that
// each make their GEMMs on one goroutine, so that a layer is one parallel
// region whose tasks the pool's goroutines take as they come free, rather
// than a GEMM, im2col and bias pass per chunk each split in two: on a
// machine shared with other work, a region waits for its slowest
// goroutine, and fewer, finer-grained regions wait less.
package kernels
