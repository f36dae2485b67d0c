package main

import "fmt"

// actUnroll is the vectors per iteration of the element-wise main loops;
// colSumBlocks the vectors per column block of colSum, widest first.
const actUnroll = 4

var colSumBlocks = []int{4, 1}

func actFile() *file {
	f := newFile("act_amd64.s", `Element-wise kernels on 8-float vectors. Operands are ordered so that each
instruction computes what the Go reference does, with the same first
operand: VMAXPS x, zero, d is Intel's MAXPS(zero, x), which returns x
unless 0 > x, so NaN and -0 pass through as in `+"`if v < 0 { v = 0 }`.")
	relu(f)
	reluBackward(f)
	addBias(f)
	axpy(f)
	scale(f)
	mulMask(f)
	colSum(f)
	sgdMomentum(f)
	return f
}

// elementwise runs body over n floats at AX (an index in floats): actUnroll
// vectors at a time up to n rounded down to 8·actUnroll, then one at a
// time (n is a multiple of 8). Y15 is zero.
func elementwise(f *file, body func(k int)) {
	f.ins("VXORPS", "Y15", "Y15", "Y15")
	f.ins("XORQ", "AX", "AX")
	f.ins("MOVQ", "CX", "DX")
	f.ins("ANDQ", fmt.Sprintf("$~%d", 8*actUnroll-1), "DX")
	f.ins("JZ", "tail")
	f.label("loop")
	body(actUnroll)
	f.ins("ADDQ", imm(8*actUnroll), "AX")
	f.ins("CMPQ", "AX", "DX")
	f.ins("JLT", "loop")
	f.label("tail")
	f.ins("CMPQ", "AX", "CX")
	f.ins("JGE", "done")
	body(1)
	f.ins("ADDQ", "$8", "AX")
	f.ins("JMP", "tail")
	f.label("done")
	f.ret()
}

// at is vector v of the floats at base + AX.
func at(base string, v int) string { return memx(32*v, base, "AX", 4) }

func relu(f *file) {
	g := f.text("reluAVX2", "y, x *float32, n int", "", "")
	g.load("y", "DI", "x", "SI", "n", "CX")
	elementwise(f, func(k int) {
		for v := range k {
			f.ins("VMOVUPS", at("SI", v), Y(v))
		}
		for v := range k {
			f.ins("VMAXPS", Y(v), "Y15", Y(v))
		}
		for v := range k {
			f.ins("VMOVUPS", Y(v), at("DI", v))
		}
	})
}

func reluBackward(f *file) {
	g := f.text("reluBackwardAVX2", "dx, dy, y *float32, n int", "",
		"dx = dy AND (y > 0), the comparison ordered and quiet: a NaN y gives 0.")
	g.load("dx", "DI", "dy", "SI", "y", "R8", "n", "CX")
	elementwise(f, func(k int) {
		for v := range k {
			f.ins("VMOVUPS", at("R8", v), Y(v))
		}
		for v := range k {
			f.ins("VCMPPS", "$0x1e", "Y15", Y(v), Y(v))
		}
		for v := range k {
			f.ins("VANDPS", at("SI", v), Y(v), Y(v))
		}
		for v := range k {
			f.ins("VMOVUPS", Y(v), at("DI", v))
		}
	})
}

func addBias(f *file) {
	g := f.text("addBiasAVX2", "y, bias *float32, rows, w, stride int, relu bool", "", "")
	g.load("y", "DI", "bias", "SI", "rows", "R8", "w", "CX", "stride", "R9")
	f.ins("SHLQ", "$2", "R9")
	f.ins("MOVBLZX", g.arg("relu"), "R10")
	f.ins("VXORPS", "Y15", "Y15", "Y15")
	f.label("row")
	f.ins("XORQ", "AX", "AX")
	f.ins("TESTQ", "R10", "R10")
	f.ins("JNZ", "relu")
	for _, clamp := range []bool{false, true} {
		l := "plain"
		if clamp {
			l = "relu"
		}
		f.label(l)
		f.ins("VMOVUPS", at("DI", 0), "Y0")
		f.ins("VADDPS", at("SI", 0), "Y0", "Y0")
		if clamp {
			f.ins("VMAXPS", "Y0", "Y15", "Y0")
		}
		f.ins("VMOVUPS", "Y0", at("DI", 0))
		f.next("AX", 8, "CX", l)
		if !clamp {
			f.ins("JMP", "next")
		}
	}
	f.label("next")
	f.ins("ADDQ", "R9", "DI")
	f.ins("DECQ", "R8")
	f.ins("JNZ", "row")
	f.ret()
}

// loop8 runs body over n floats at AX, 8 at a time (n a multiple of 8,
// not 0).
func loop8(f *file, body func()) {
	f.ins("XORQ", "AX", "AX")
	f.label("loop")
	body()
	f.next("AX", 8, "CX", "loop")
	f.ret()
}

func axpy(f *file) {
	g := f.text("axpyAVX2", "y, x *float32, n int, a float32", "", "y = y + (a*x), the product rounded first as in AxpyRef.")
	g.load("y", "DI", "x", "SI", "n", "CX")
	f.ins("VBROADCASTSS", g.arg("a"), "Y15")
	loop8(f, func() {
		f.ins("VMULPS", at("SI", 0), "Y15", "Y0")
		f.ins("VMOVUPS", at("DI", 0), "Y1")
		f.ins("VADDPS", "Y0", "Y1", "Y1")
		f.ins("VMOVUPS", "Y1", at("DI", 0))
	})
}

func scale(f *file) {
	g := f.text("scaleAVX2", "x *float32, n int, a float32", "", "")
	g.load("x", "DI", "n", "CX")
	f.ins("VBROADCASTSS", g.arg("a"), "Y15")
	loop8(f, func() {
		f.ins("VMOVUPS", at("DI", 0), "Y0")
		f.ins("VMULPS", "Y15", "Y0", "Y0")
		f.ins("VMOVUPS", "Y0", at("DI", 0))
	})
}

func mulMask(f *file) {
	g := f.text("mulMaskAVX2", "y, x, mask *float32, n int", "", "")
	g.load("y", "DI", "x", "SI", "mask", "R8", "n", "CX")
	loop8(f, func() {
		f.ins("VMOVUPS", at("SI", 0), "Y0")
		f.ins("VMULPS", at("R8", 0), "Y0", "Y0")
		f.ins("VMOVUPS", "Y0", at("DI", 0))
	})
}

func colSum(f *file) {
	g := f.text("colSumAVX2", "dst, x *float32, rows, w, stride int", "",
		`Columns go 32 at a time (four accumulators, one pass over the rows), then
8 at a time; each column is summed over the rows in order, from dst.`)
	g.load("dst", "DI", "x", "SI", "rows", "R8", "w", "CX", "stride", "R9")
	f.ins("SHLQ", "$2", "R9")
	for b, n := range colSumBlocks {
		l := fmt.Sprint("cols", 8*n)
		next := "done"
		if b+1 < len(colSumBlocks) {
			next = fmt.Sprint("cols", 8*colSumBlocks[b+1])
		}
		f.label(l)
		if n == 1 {
			f.ins("TESTQ", "CX", "CX")
			f.ins("JZ", next)
		} else {
			f.ins("CMPQ", "CX", imm(8*n))
			f.ins("JLT", next)
		}
		for v := range n {
			f.ins("VMOVUPS", mem(32*v, "DI"), Y(v))
		}
		f.ins("MOVQ", "SI", "AX")
		f.ins("MOVQ", "R8", "DX")
		f.label(l + "row")
		for v := range n {
			f.ins("VADDPS", mem(32*v, "AX"), Y(v), Y(v))
		}
		f.ins("ADDQ", "R9", "AX")
		f.ins("DECQ", "DX")
		f.ins("JNZ", l+"row")
		for v := range n {
			f.ins("VMOVUPS", Y(v), mem(32*v, "DI"))
		}
		f.ins("ADDQ", imm(32*n), "DI")
		f.ins("ADDQ", imm(32*n), "SI")
		f.ins("SUBQ", imm(8*n), "CX")
		f.ins("JMP", l)
	}
	f.label("done")
	f.ret()
}

// fma64 sets dst to float32(float64(a)·float64(b) + float64(c)) for the 8
// floats of b and c (register numbers) and the double a broadcast in
// register a: the products are exact in float64, so this is
// SGDMomentumRef's fma32. It uses Y10 to Y12 and X14.
func fma64(f *file, a string, b, c, dst int) {
	for half := range 2 {
		xb, xc := X(b), X(c)
		if half == 1 {
			f.ins("VEXTRACTF128", "$1", Y(b), "X14")
			f.ins("VCVTPS2PD", "X14", "Y10")
			f.ins("VEXTRACTF128", "$1", Y(c), "X14")
			f.ins("VCVTPS2PD", "X14", "Y11")
		} else {
			f.ins("VCVTPS2PD", xb, "Y10")
			f.ins("VCVTPS2PD", xc, "Y11")
		}
		f.ins("VMULPD", a, "Y10", "Y10")
		f.ins("VADDPD", "Y11", "Y10", "Y10")
		f.ins("VCVTPD2PSY", "Y10", []string{"X12", "X14"}[half])
	}
	f.ins("VINSERTF128", "$1", "X14", "Y12", Y(dst))
}

func sgdMomentum(f *file) {
	g := f.text("sgdMomentumAVX2", "w, grad, buf *float32, n int, lr, wd, mom float32", "",
		"One step of SGDMomentumRef on n floats (a multiple of 8).")
	g.load("w", "DI", "grad", "SI", "buf", "R8", "n", "CX")
	f.ins("VBROADCASTSS", g.arg("mom"), "Y9")
	f.ins("MOVSS", g.arg("wd"), "X7")
	f.ins("VCVTSS2SD", "X7", "X7", "X7")
	f.insc("wd as a double", "VBROADCASTSD", "X7", "Y7")
	f.ins("MOVL", g.arg("wd"), "R10")
	f.insc("wd != 0, as Go compares: -0 is 0", "ANDL", "$0x7fffffff", "R10")
	f.ins("MOVL", g.arg("lr"), "R11")
	f.insc("-lr", "XORL", "$0x80000000", "R11")
	f.ins("MOVL", "R11", "X8")
	f.ins("VCVTSS2SD", "X8", "X8", "X8")
	f.insc("-lr as a double", "VBROADCASTSD", "X8", "Y8")
	f.ins("XORQ", "AX", "AX")
	f.label("loop")
	f.insc("x", "VMOVUPS", at("DI", 0), "Y0")
	f.insc("d = g", "VMOVUPS", at("SI", 0), "Y1")
	f.ins("TESTL", "R10", "R10")
	f.ins("JZ", "nowd")
	f.note("d = fma32(wd, x, g)")
	fma64(f, "Y7", 0, 1, 1)
	f.label("nowd")
	f.insc("mom·buf", "VMULPS", at("R8", 0), "Y9", "Y2")
	f.insc("b = mom·buf + d", "VADDPS", "Y1", "Y2", "Y2")
	f.ins("VMOVUPS", "Y2", at("R8", 0))
	f.note("w = fma32(-lr, b, x)")
	fma64(f, "Y8", 2, 0, 3)
	f.ins("VMOVUPS", "Y3", at("DI", 0))
	f.next("AX", 8, "CX", "loop")
	f.ret()
}
