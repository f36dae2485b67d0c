package main

import "fmt"

// bnWidths are the column counts the batch-norm reductions handle: 16 or
// 8 per row, the float64 sums in w/4 registers Y0-Y3.
var bnWidths = []int{16, 8}

func actBNFile() *file {
	f := newFile("act_bn_amd64.s", `Batch norm. Operand order follows the references (see act_amd64.s); the
float64 sums add each row to the running sum, starting from +0.`)
	bnReduce(f, false)
	bnReduce(f, true)
	bnForward(f)
	bnBackSums(f)
	bnBackDx(f)
	return f
}

// bnReduce writes bnSumAVX2 (sum[j] += x[r][j] over rows) or, with sq,
// bnSqDevAVX2 (sum[j] += (x[r][j] - mean[j])², the mean in Y8-Y11), both
// in float64: x widened four at a time into Y4-Y7.
func bnReduce(f *file, sq bool) {
	name, params, lbl := "bnSumAVX2", "sum *float64, x *float32, rows, w, stride int", "sum"
	if sq {
		name, params, lbl = "bnSqDevAVX2", "sum *float64, x *float32, mean *float64, rows, w, stride int", "sq"
	}
	g := f.text(name, params, "", "")
	g.load("sum", "DI", "x", "SI")
	if sq {
		f.ins("MOVQ", g.arg("mean"), "R8")
	}
	g.load("rows", "DX", "w", "CX", "stride*4", "R9")
	for k := range bnWidths[0] / 4 {
		f.ins("VXORPD", Y(k), Y(k), Y(k))
	}
	// The mean of the narrow case first, the rest once the width is known.
	loadMean := func(from, to int) {
		for k := from; k < to; k++ {
			f.ins("VMOVUPD", mem(32*k, "R8"), Y(8+k))
		}
	}
	narrow := bnWidths[len(bnWidths)-1] / 4
	if sq {
		loadMean(0, narrow)
	}
	f.ins("CMPQ", "CX", imm(bnWidths[0]))
	f.ins("JLT", fmt.Sprint(lbl, bnWidths[1]))
	if sq {
		loadMean(narrow, bnWidths[0]/4)
	}
	for wi, w := range bnWidths {
		n := w / 4
		f.label(fmt.Sprint(lbl, w))
		for k := range n {
			f.ins("VCVTPS2PD", mem(16*k, "SI"), Y(4+k))
		}
		if sq {
			for k := range n {
				f.ins("VSUBPD", Y(8+k), Y(4+k), Y(4+k))
			}
			for k := range n {
				f.ins("VMULPD", Y(4+k), Y(4+k), Y(4+k))
			}
		}
		for k := range n {
			f.ins("VADDPD", Y(4+k), Y(k), Y(k))
		}
		f.ins("ADDQ", "R9", "SI")
		f.ins("DECQ", "DX")
		f.ins("JNZ", fmt.Sprint(lbl, w))
		if wi < len(bnWidths)-1 {
			for k := narrow; k < n; k++ {
				f.ins("VMOVUPD", Y(k), mem(32*k, "DI"))
			}
			f.ins("JMP", lbl+"store")
		}
	}
	f.label(lbl + "store")
	for k := range narrow {
		f.ins("VMOVUPD", Y(k), mem(32*k, "DI"))
	}
	f.ret()
}

func bnForward(f *file) {
	g := f.text("bnForwardAVX2", "y, xhat, x, mean, invstd, gamma, beta *float32, rows, w, stride int, relu bool", "",
		"y = gamma·((x - mean)·invstd) + beta, clamped if relu; xhat, unless nil,\nthe normalised x.")
	g.load("y", "DI", "xhat", "R13", "x", "SI", "mean", "R8", "invstd", "R9", "gamma", "R10", "beta", "R11", "rows", "DX", "w", "CX", "stride", "R12")
	f.ins("SHLQ", "$2", "R12")
	f.ins("MOVBLZX", g.arg("relu"), "R14")
	f.ins("XORQ", "BX", "BX")
	f.ins("TESTQ", "R13", "R13")
	f.insc("BX = xhat != nil", "SETNE", "BX")
	f.ins("VXORPS", "Y15", "Y15", "Y15")
	f.label("row")
	f.ins("XORQ", "AX", "AX")
	f.label("col")
	f.ins("VMOVUPS", "(SI)(AX*4)", "Y0")
	f.ins("VSUBPS", "(R8)(AX*4)", "Y0", "Y0")
	f.ins("VMULPS", "(R9)(AX*4)", "Y0", "Y0")
	f.ins("VMOVUPS", "(R10)(AX*4)", "Y1")
	f.ins("VMULPS", "Y0", "Y1", "Y1")
	f.ins("VADDPS", "(R11)(AX*4)", "Y1", "Y1")
	f.ins("TESTQ", "R14", "R14")
	f.ins("JZ", "norelu")
	f.ins("VMAXPS", "Y1", "Y15", "Y1")
	f.label("norelu")
	f.ins("TESTQ", "BX", "BX")
	f.ins("JZ", "noxhat")
	f.ins("VMOVUPS", "Y0", "(R13)(AX*4)")
	f.label("noxhat")
	f.ins("VMOVUPS", "Y1", "(DI)(AX*4)")
	f.next("AX", 8, "CX", "col")
	f.ins("ADDQ", "R12", "SI")
	f.ins("ADDQ", "R12", "DI")
	f.ins("TESTQ", "BX", "BX")
	f.ins("JZ", "nextrow")
	f.ins("ADDQ", "R12", "R13")
	f.label("nextrow")
	f.ins("DECQ", "DX")
	f.ins("JNZ", "row")
	f.ret()
}

// bnBackSums: sdy[j] = Σ g and sdyx[j] = Σ g·xhat in float64, g = dy masked
// by gamma·xhat + beta > 0 when beta is not nil. Eight columns at a time
// are widened into Y2-Y5; vector h of a row adds into Y8+2h, Y9+2h (Σ g)
// and Y12+2h, Y13+2h (Σ g·xhat).
func bnBackSums(f *file) {
	g := f.text("bnBackSumsAVX2", "sdy, sdyx *float64, dy, xhat, gamma, beta *float32, rows, w, stride int", "", "")
	g.load("dy", "SI", "xhat", "DI", "gamma", "R10", "beta", "R11", "rows", "DX", "w", "CX", "stride", "R12")
	f.ins("SHLQ", "$2", "R12")
	f.ins("VXORPS", "Y7", "Y7", "Y7")
	for r := 8; r < 16; r++ {
		f.ins("VXORPD", Y(r), Y(r), Y(r))
	}
	f.ins("TESTQ", "R11", "R11")
	f.ins("JZ", "plain")
	for vi, relu := range []bool{true, false} {
		v := "plain"
		if relu {
			v = "relu"
		}
		if vi > 0 {
			f.label(v)
		}
		f.ins("CMPQ", "CX", imm(bnWidths[0]))
		f.ins("JLT", fmt.Sprint(v, bnWidths[1]))
		for wi, w := range bnWidths {
			f.label(fmt.Sprint(v, w))
			for h := range w / 8 {
				off := 32 * h
				f.ins("VMOVUPS", mem(off, "SI"), "Y0")
				f.ins("VMOVUPS", mem(off, "DI"), "Y1")
				if relu {
					f.ins("VMOVUPS", mem(off, "R10"), "Y6")
					f.ins("VMULPS", "Y1", "Y6", "Y6")
					f.ins("VADDPS", mem(off, "R11"), "Y6", "Y6")
					f.ins("VCMPPS", "$0x1e", "Y7", "Y6", "Y6")
					f.ins("VANDPS", "Y6", "Y0", "Y0")
				}
				// Low and high four of g (Y2, Y3) and of xhat (Y4, Y5).
				f.ins("VCVTPS2PD", "X0", "Y2")
				f.ins("VEXTRACTF128", "$1", "Y0", "X3")
				f.ins("VCVTPS2PD", "X3", "Y3")
				f.ins("VCVTPS2PD", "X1", "Y4")
				f.ins("VEXTRACTF128", "$1", "Y1", "X5")
				f.ins("VCVTPS2PD", "X5", "Y5")
				f.ins("VADDPD", "Y2", Y(8+2*h), Y(8+2*h))
				f.ins("VADDPD", "Y3", Y(9+2*h), Y(9+2*h))
				f.ins("VMULPD", "Y4", "Y2", "Y2")
				f.ins("VMULPD", "Y5", "Y3", "Y3")
				f.ins("VADDPD", "Y2", Y(12+2*h), Y(12+2*h))
				f.ins("VADDPD", "Y3", Y(13+2*h), Y(13+2*h))
			}
			f.ins("ADDQ", "R12", "SI")
			f.ins("ADDQ", "R12", "DI")
			f.ins("DECQ", "DX")
			f.ins("JNZ", fmt.Sprint(v, w))
			if vi == 0 || wi < len(bnWidths)-1 {
				f.ins("JMP", "store")
			}
		}
	}
	f.label("store")
	g.load("sdy", "R8", "sdyx", "R9")
	store := func(h int) {
		f.ins("VMOVUPD", Y(8+2*h), mem(64*h, "R8"))
		f.ins("VMOVUPD", Y(9+2*h), mem(64*h+32, "R8"))
		f.ins("VMOVUPD", Y(12+2*h), mem(64*h, "R9"))
		f.ins("VMOVUPD", Y(13+2*h), mem(64*h+32, "R9"))
	}
	narrow, wide := bnWidths[len(bnWidths)-1]/8, bnWidths[0]/8
	for h := range narrow {
		store(h)
	}
	f.ins("CMPQ", "CX", imm(bnWidths[0]))
	f.ins("JLT", "done")
	for h := narrow; h < wide; h++ {
		store(h)
	}
	f.label("done")
	f.ret()
}

func bnBackDx(f *file) {
	g := f.text("bnBackDxAVX2", "dx, dy, xhat, invstd, gamma, beta, dgamma, dbeta *float32, rows, w, stride int, rinv float32", "",
		"dx = (gamma·invstd)·((g - dbeta·rinv) - xhat·(dgamma·rinv)), g the\n(masked) dy.")
	g.load("dx", "DI", "dy", "SI", "xhat", "R8", "invstd", "R9", "gamma", "R10", "beta", "R11", "dgamma", "R12", "dbeta", "R13", "rows", "DX", "w", "CX", "stride", "R14")
	f.ins("SHLQ", "$2", "R14")
	f.ins("VBROADCASTSS", g.arg("rinv"), "Y14")
	f.ins("VXORPS", "Y15", "Y15", "Y15")
	f.label("row")
	f.ins("XORQ", "AX", "AX")
	f.label("col")
	f.ins("VMOVUPS", "(SI)(AX*4)", "Y0")
	f.ins("VMOVUPS", "(R8)(AX*4)", "Y1")
	f.ins("TESTQ", "R11", "R11")
	f.ins("JZ", "nomask")
	f.ins("VMOVUPS", "(R10)(AX*4)", "Y2")
	f.ins("VMULPS", "Y1", "Y2", "Y2")
	f.ins("VADDPS", "(R11)(AX*4)", "Y2", "Y2")
	f.ins("VCMPPS", "$0x1e", "Y15", "Y2", "Y2")
	f.ins("VANDPS", "Y2", "Y0", "Y0")
	f.label("nomask")
	f.ins("VMOVUPS", "(R10)(AX*4)", "Y3")
	f.ins("VMULPS", "(R9)(AX*4)", "Y3", "Y3")
	f.ins("VMOVUPS", "(R13)(AX*4)", "Y4")
	f.ins("VMULPS", "Y14", "Y4", "Y4")
	f.ins("VMOVUPS", "(R12)(AX*4)", "Y5")
	f.ins("VMULPS", "Y14", "Y5", "Y5")
	f.ins("VSUBPS", "Y4", "Y0", "Y0")
	f.ins("VMULPS", "Y5", "Y1", "Y1")
	f.ins("VSUBPS", "Y1", "Y0", "Y0")
	f.ins("VMULPS", "Y0", "Y3", "Y0")
	f.ins("VMOVUPS", "Y0", "(DI)(AX*4)")
	f.next("AX", 8, "CX", "col")
	f.ins("ADDQ", "R14", "DI")
	f.ins("ADDQ", "R14", "SI")
	f.ins("ADDQ", "R14", "R8")
	f.ins("DECQ", "DX")
	f.ins("JNZ", "row")
	f.ret()
}
