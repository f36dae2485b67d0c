package kernels

import "runtime"

// How a kernel's implementation is chosen, after gonum's internal/asm: every
// inner loop that has assembly is a field of a kset, with a plain Go twin
// (goSet) that has the same signature and gives the same bits. The set that
// runs is chosen once, at init, from the CPU's features (the arch files
// define asmSet, nil when the CPU lacks them or the noasm tag is set; on
// other architectures they do not exist and goSet runs). No call site tests
// a flag: it calls the function value of the set it was handed.
//
// SGEMM's micro-kernels are chosen the same way (sgemmKernels, set at init
// by the arch files); Sgemm then picks among them by shape.
//
// The exported kernels run on std(): the chosen set on GOMAXPROCS
// goroutines. Tests hand each internal driver an exec of their own, so they
// run the Go twins and the assembly side by side, at any parallelism,
// without touching a global.

// The doc comment of each assembly function's Go declaration is its
// reference loop, in which a pointer argument p is indexed as p[i], the
// i-th element from p.

// kset is one implementation of each kernel that has assembly. The doc
// comments of the Go twins (the ...Go functions) say what each computes.
// Arguments that would point into the caller's stack (small arrays) are
// passed and returned by value: a pointer handed to a function value
// escapes, and would cost an allocation per call.
type kset struct {
	name string

	relu         func(y, x []float32)
	reluBackward func(dx, dy, y []float32)
	addBias      func(y, bias []float32, rows, stride int, relu bool)
	axpy         func(y, x []float32, a float32)
	scale        func(x []float32, a float32)
	mulMask      func(y, x, mask []float32)
	colSum       func(dst, x []float32, rows, stride int)
	sgdMomentum  func(w, g, buf []float32, lr, wd, mom float32)

	bnSum      func(x []float32, w, rows, stride int) bnSums
	bnSqDev    func(x []float32, mean bnSums, w, rows, stride int) bnSums
	bnForward  func(y, xhat, x, mean, invstd, gamma, beta []float32, rows, stride int, relu bool)
	bnBackSums func(dy, xhat, gamma, beta []float32, w, rows, stride int) (sdy, sdyx bnSums)
	bnBackDx   func(dx, dy, xhat, invstd, gamma, beta, dgamma, dbeta []float32, rows, stride int, rinv float32)

	im2colRow  func(dst []float32, src [3][]float32, w, c int, nt bool)
	col2imRows func(j col2imJob, lo, hi int)

	maxPoolRow     func(y []float32, idx []int32, in []float32, c, base int)
	maxPoolBackRow func(pair, dy []float32, idx []int32, c, base int) bool
	globalMaxPool1 func(y []float32, idx []int32, x []float32, c, base int)

	winoIn      func(v []float32, ld int, src [16]*float32, c int)
	winoOut     func(dst [4]*float32, m []float32, ld int, bias []float32, c int, relu bool)
	winoGradOut func(m []float32, ld int, dy, y [4]*float32, db []float32, c int, relu bool)
	winoGradIn  func(dst, acc [16]*float32, v []float32, ld, c int)
}

// goSet is the portable implementation: the Go twins.
var goSet = &kset{
	name:         "go",
	relu:         reluGo,
	reluBackward: reluBackwardGo,
	addBias:      addBiasGo,
	axpy:         axpyGo,
	scale:        scaleGo,
	mulMask:      mulMaskGo,
	colSum:       colSumGo,
	sgdMomentum:  SGDMomentumRef,

	bnSum:      bnSumGo,
	bnSqDev:    bnSqDevGo,
	bnForward:  bnForwardGo,
	bnBackSums: bnBackSumsGo,
	bnBackDx:   bnBackDxGo,

	im2colRow:  im2colRowGo,
	col2imRows: col2imRowsGo,

	maxPoolRow:     maxPoolRowGo,
	maxPoolBackRow: maxPoolBackRowGo,
	globalMaxPool1: globalMaxPoolGo,

	winoIn:      winoInGo,
	winoOut:     winoOutGo,
	winoGradOut: winoGradOutGo,
	winoGradIn:  winoGradInGo,
}

// active is the set the exported kernels run: the assembly if this build
// has it and the CPU runs it, else the Go twins. It is set once.
var active = func() *kset {
	if asmSet != nil {
		return asmSet
	}
	return goSet
}()

// KernelSet names the kernels this build runs on this CPU: "AVX-512"
// (AVX-512 SGEMM, AVX2 elsewhere), "AVX2", "NEON" (SGEMM; the rest in
// Go) or "portable Go" (the noasm tag, or an architecture or CPU without
// assembly).
func KernelSet() string { return sgemmKernels[0].set }

// exec is how one call runs: the implementation of each kernel, and how
// its parallel regions are spread.
type exec struct {
	k         *kset
	pool      *parPool
	procs     int // goroutines a region may use
	minWork   int // elements below which a region stays on the caller
	winoTiles int // tiles a Winograd chunk aims at
}

// std is how the exported kernels run.
func std() exec {
	return exec{k: active, pool: &parShared, procs: runtime.GOMAXPROCS(0), minWork: parMinWork, winoTiles: winoChunkTiles}
}
