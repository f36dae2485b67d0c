package main

import "fmt"

// im2colUnroll is the vectors per iteration of im2col's copy loop, and
// col2imBlocks the vectors per channel block of col2im, widest first.
const im2colUnroll = 4

var col2imBlocks = []int{4, 1}

func convFile() *file {
	f := newFile("conv_amd64.s", "")
	im2colRow(f)
	col2imRow(f)
	return f
}

// ntSplit branches on R9 (the nt flag) to two copies of body: one with
// plain stores from label plain, one with non-temporal stores from plain+"nt".
func ntSplit(f *file, plain string, body func(store, label string)) {
	f.ins("TESTQ", "R9", "R9")
	f.ins("JNZ", plain+"nt")
	f.label(plain)
	body("VMOVUPS", plain)
	f.label(plain + "nt")
	body("VMOVNTPS", plain+"nt")
}

// im2colRow registers: DI the patch row being written, R8 the src array,
// CX w, DX c bytes, R10 3c bytes, R9 nt, R11 the output pixel xx, R12 the
// patch row ky, BX the byte offset in the patch row, Y15 zero.
func im2colRow(f *file) {
	g := f.text("im2colRowAVX2", "dst *float32, src *[3]*float32, w, c int, nt bool", "",
		`For output pixel xx and patch row ky, the 3c floats at dst are: zeros for
the input pixels left of the image, then input pixels lo..hi-1 of row
src[ky] (lo = max(xx-1, 0), hi = min(xx+2, w)), one contiguous run, then
zeros for those right of it; all zeros when src[ky] is padding.`)
	g.load("dst", "DI", "src", "R8", "w", "CX", "c", "DX")
	f.insc("DX = c in bytes", "SHLQ", "$2", "DX")
	f.insc("R10 = 3c bytes: one patch row", "LEAQ", "(DX)(DX*2)", "R10")
	f.ins("MOVBLZX", g.arg("nt"), "R9")
	f.ins("VXORPS", "Y15", "Y15", "Y15")
	f.insc("xx", "XORQ", "R11", "R11")
	f.label("pixel")
	f.insc("ky", "XORQ", "R12", "R12")
	f.label("row")
	f.insc("offset in the patch row", "XORQ", "BX", "BX")
	f.ins("MOVQ", "(R8)(R12*8)", "SI")
	f.insc("padding row: all zeros", "MOVQ", "R10", "R14")
	f.ins("TESTQ", "SI", "SI")
	f.ins("JZ", "zero1")
	f.ins("MOVQ", "R11", "R13")
	f.ins("DECQ", "R13")
	f.insc("R13 = lo", "CMOVQLT", "BX", "R13")
	f.ins("LEAQ", "2(R11)", "AX")
	f.ins("CMPQ", "AX", "CX")
	f.insc("AX = hi", "CMOVQGT", "CX", "AX")
	f.ins("SUBQ", "R13", "AX")
	f.insc("AX = run length in bytes", "IMULQ", "DX", "AX")
	f.ins("MOVQ", "R13", "R14")
	f.ins("SUBQ", "R11", "R14")
	f.ins("INCQ", "R14")
	f.insc("R14 = leading zeros in bytes", "IMULQ", "DX", "R14")
	f.ins("IMULQ", "DX", "R13")
	f.insc("R13 = &input pixel lo", "ADDQ", "SI", "R13")
	f.insc("SI = end of the run in the patch row", "LEAQ", "(R14)(AX*1)", "SI")

	zeros := func(bound, exit string) func(store, label string) {
		return func(store, label string) {
			f.ins("CMPQ", "BX", bound)
			f.ins("JGE", exit)
			f.ins(store, "Y15", "(DI)(BX*1)")
			f.ins("ADDQ", "$32", "BX")
			f.ins("JMP", label)
		}
	}
	f.label("zero1")
	ntSplit(f, "zeros1", zeros("R14", "run"))

	f.label("run")
	f.ins("CMPQ", "R14", "R10")
	f.insc("a padding row is done", "JGE", "next")
	f.insc("R14 = where the run goes", "LEAQ", "(DI)(BX*1)", "R14")
	f.insc("SI = run length in bytes", "SUBQ", "BX", "SI")
	f.ins("XORQ", "AX", "AX")
	ntSplit(f, "copy", func(store, label string) {
		f.ins("LEAQ", mem(32*im2colUnroll, "AX"), "BX")
		f.ins("CMPQ", "BX", "SI")
		f.ins("JGT", label+"tail")
		for v := range im2colUnroll {
			f.ins("VMOVUPS", memx(32*v, "R13", "AX", 1), Y(v))
		}
		for v := range im2colUnroll {
			f.ins(store, Y(v), memx(32*v, "R14", "AX", 1))
		}
		f.ins("MOVQ", "BX", "AX")
		f.ins("JMP", label)
		f.label(label + "tail")
		f.ins("CMPQ", "AX", "SI")
		f.ins("JGE", "zero2")
		f.ins("VMOVUPS", "(R13)(AX*1)", "Y0")
		f.ins(store, "Y0", "(R14)(AX*1)")
		f.ins("ADDQ", "$32", "AX")
		f.ins("JMP", label+"tail")
	})

	f.label("zero2")
	f.ins("SUBQ", "DI", "R14")
	f.insc("BX = end of the run in the patch row", "LEAQ", "(R14)(SI*1)", "BX")
	ntSplit(f, "zeros2", zeros("R10", "next"))

	f.label("next")
	f.ins("ADDQ", "R10", "DI")
	f.ins("INCQ", "R12")
	f.ins("CMPQ", "R12", "$3")
	f.ins("JLT", "row")
	f.ins("INCQ", "R11")
	f.ins("CMPQ", "R11", "CX")
	f.ins("JLT", "pixel")
	f.ins("TESTQ", "R9", "R9")
	f.ins("JZ", "done")
	f.ins("SFENCE")
	f.label("done")
	f.ret()
}

// col2imRow registers: DI the output pixel, R8 the q array, R9 nq, CX w,
// DX c bytes, R10 9c bytes, R12 7c bytes, R11 ix, R13 ix·9c bytes, BX the
// channel offset, R14 which q, SI that q's col row; Y0 on the sums.
func col2imRow(f *file) {
	g := f.text("col2imRowAVX2", "dst *float32, q *[3]*float32, nq, w, c int, pf *float32", "",
		`Pixel ix sums, for each q in order, q[ix·9c - 7c] (when ix > 0),
q[ix·9c + c] and q[ix·9c + 9c] (when ix < w-1), starting from +0 as
Col2im3x3Ref does; 32 channels at a time, then 8. Before each pixel it
prefetches the 9c floats at pf + ix·9c (unless pf is nil): the col row
this gather will need two image rows later, which the hardware
prefetcher does not foresee in this access pattern.`)
	g.load("dst", "DI", "q", "R8", "nq", "R9", "w", "CX", "c", "DX")
	f.insc("DX = c in bytes", "SHLQ", "$2", "DX")
	f.insc("R10 = 9c bytes: one col row", "LEAQ", "(DX)(DX*8)", "R10")
	f.ins("MOVQ", "DX", "R12")
	f.ins("SHLQ", "$3", "R12")
	f.insc("R12 = 7c bytes", "SUBQ", "DX", "R12")
	f.insc("ix", "XORQ", "R11", "R11")
	f.insc("ix·9c bytes", "XORQ", "R13", "R13")
	f.label("pixel")
	f.ins("MOVQ", g.arg("pf"), "SI")
	f.ins("TESTQ", "SI", "SI")
	f.ins("JZ", "chans")
	f.ins("ADDQ", "R13", "SI")
	f.ins("XORQ", "BX", "BX")
	f.label("prefetch")
	f.ins("PREFETCHT0", "(SI)(BX*1)")
	f.next("BX", 64, "R10", "prefetch")
	f.label("chans")
	f.insc("channel offset in bytes", "XORQ", "BX", "BX")
	for b, n := range col2imBlocks {
		next := "next"
		if b+1 < len(col2imBlocks) {
			next = fmt.Sprint("chan", 8*col2imBlocks[b+1])
		}
		col2imBlock(f, n, next)
	}
	f.label("next")
	f.ins("ADDQ", "DX", "DI")
	f.ins("ADDQ", "R10", "R13")
	f.ins("INCQ", "R11")
	f.ins("CMPQ", "R11", "CX")
	f.ins("JLT", "pixel")
	f.ret()
}

// col2imBlock sums n vectors of channels per pass over the q until fewer
// than n are left, then goes on to next.
func col2imBlock(f *file, n int, next string) {
	sfx := fmt.Sprint(8 * n)
	f.label("chan" + sfx)
	if n == 1 {
		f.ins("CMPQ", "BX", "DX")
		f.ins("JGE", next)
	} else {
		f.ins("LEAQ", mem(32*n, "BX"), "AX")
		f.ins("CMPQ", "AX", "DX")
		f.ins("JGT", next)
	}
	for v := range n {
		f.ins("VXORPS", Y(v), Y(v), Y(v))
	}
	f.insc("which q", "XORQ", "R14", "R14")
	// add sums the n vectors at base+idx; one vector is added straight
	// from memory, more share one LEAQ.
	add := func(base, idx string) {
		if n == 1 {
			f.ins("VADDPS", memx(0, base, idx, 1), "Y0", "Y0")
			return
		}
		f.ins("LEAQ", memx(0, base, idx, 1), "AX")
		for v := range n {
			f.ins("VADDPS", mem(32*v, "AX"), Y(v), Y(v))
		}
	}
	f.label("q" + sfx)
	f.ins("MOVQ", "(R8)(R14*8)", "SI")
	f.ins("ADDQ", "R13", "SI")
	f.ins("ADDQ", "BX", "SI")
	f.ins("TESTQ", "R11", "R11")
	f.ins("JZ", "noleft"+sfx)
	f.ins("MOVQ", "SI", "AX")
	f.ins("SUBQ", "R12", "AX")
	for v := range n {
		f.ins("VADDPS", mem(32*v, "AX"), Y(v), Y(v))
	}
	f.label("noleft" + sfx)
	add("SI", "DX")
	f.ins("LEAQ", "1(R11)", "AX")
	f.ins("CMPQ", "AX", "CX")
	f.ins("JGE", "noright"+sfx)
	add("SI", "R10")
	f.label("noright" + sfx)
	f.ins("INCQ", "R14")
	f.ins("CMPQ", "R14", "R9")
	f.ins("JLT", "q"+sfx)
	for v := range n {
		f.ins("VMOVUPS", Y(v), memx(32*v, "DI", "BX", 1))
	}
	f.ins("ADDQ", imm(32*n), "BX")
	f.ins("JMP", "chan"+sfx)
}
