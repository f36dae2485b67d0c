// Package kernels holds the float32 hot paths of fmnist: SGEMM, the 3×3
// convolution primitives (im2col/col2im on NHWC, Winograd F(2×2, 3×3) and
// one GEMM per pixel pair for tiny images), pooling, activations and the
// softmax cross-entropy.
//
// Every exported kernel has a plain Go reference with the same signature,
// named with a Ref suffix; its body is the definition of the kernel, and
// tests compare the fast path against it.
//
// Dispatch follows gonum's internal/asm. Each inner loop that has assembly
// is a function value of a kset, with a Go twin (goSet, the ...Go
// functions) that has the same signature and gives the same bits; the Go
// declaration of each assembly function has its reference loop as its doc
// comment. The set is chosen once, at init, from the CPU's features
// (golang.org/x/sys/cpu): avx2Set on amd64 with AVX2 and FMA, else goSet.
// SGEMM's micro-kernels (with their packing loops) are chosen the same way:
// AVX-512 and AVX2 on amd64, NEON on arm64, else plain Go; KernelSet names
// the choice. A product of one row (an image alone) runs on the kernel's
// row function where it has one (amd64 and Go), which reads B in place and
// gives each value the tiles' arithmetic. Under the noasm build tag, or on another architecture, the
// assembly and its declarations do not exist and the Go twins run. Nothing
// tests a flag at a call site: an exported kernel runs on std(), the chosen
// set on GOMAXPROCS goroutines, and the tests hand each driver an exec of
// their own, so they run the Go twins and the assembly side by side, in
// parallel, without touching a global.
//
// All kernels share one pool of persistent goroutines (parallel.go). A
// kernel cuts its work into tasks that depend only on the shapes; a region
// runs them on the pool, or on the caller when the pool is busy.
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
