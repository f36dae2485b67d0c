//go:build !noasm

package kernels

import "golang.org/x/sys/cpu"

// avx2Set is the AVX2 assembly of every kernel that has some; each entry
// hands the assembly the part it takes and its Go twin the rest.
var avx2Set = &kset{
	name:         "avx2",
	relu:         reluAVX2Span,
	reluBackward: reluBackwardAVX2Span,
	addBias:      addBiasAVX2Span,
	axpy:         axpyAVX2Span,
	scale:        scaleAVX2Span,
	mulMask:      mulMaskAVX2Span,
	colSum:       colSumAVX2Span,
	sgdMomentum:  sgdMomentumAVX2Span,

	bnSum:      bnSumAVX2Span,
	bnSqDev:    bnSqDevAVX2Span,
	bnForward:  bnForwardAVX2Span,
	bnBackSums: bnBackSumsAVX2Span,
	bnBackDx:   bnBackDxAVX2Span,

	im2colRow:  im2colRowAVX2Span,
	col2imRows: col2imRowsAVX2,

	maxPoolRow:     maxPoolRowAVX2Span,
	maxPoolBackRow: maxPoolBackRowAVX2Span,
	globalMaxPool1: globalMaxPoolAVX2Span,

	winoIn:      winoInAVX2Span,
	winoOut:     winoOutAVX2Span,
	winoGradOut: winoGradOutAVX2Span,
	winoGradIn:  winoGradInAVX2Span,
}

// asmSet is avx2Set where the CPU has AVX2 and FMA, else nil.
var asmSet = func() *kset {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		return avx2Set
	}
	return nil
}()
