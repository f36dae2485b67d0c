package main

import "fmt"

// term is one signed operand of a Winograd transform row.
type term struct {
	i   int
	neg bool
}

// The transforms of conv_wino.go as sums of terms, in the order the Go
// code adds them, so that both round alike: row k of the matrix is the
// combination that gives output k from inputs 0-3.
var (
	// Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1] (the input transform).
	winoBT = [][]term{{{0, false}, {2, true}}, {{1, false}, {2, false}}, {{2, false}, {1, true}}, {{1, false}, {3, true}}}
	// Aᵀ = [1 1 1 0; 0 1 -1 -1] (the output transform).
	winoAT = [][]term{{{0, false}, {1, false}, {2, false}}, {{1, false}, {2, true}, {3, true}}}
	// A = [1 0; 1 1; 1 -1; 0 -1] (its adjoint).
	winoA = [][]term{{{0, false}}, {{0, false}, {1, false}}, {{0, false}, {1, true}}, {{1, true}}}
	// B = [1 0 0 0; 0 1 -1 1; -1 1 1 0; 0 0 0 -1], with (w1+w2) - w0 in row 2.
	winoB = [][]term{{{0, false}}, {{1, false}, {2, true}, {3, false}}, {{1, false}, {2, false}, {0, true}}, {{3, true}}}
)

// The Winograd registers: AX is the channel offset in bytes (up to CX),
// BX is ld in bytes, the column pointers P_j = base + AX + j·ld are in
// winoCols, and Y14 holds the sign bit where a term is negated.
var winoCols = [4]string{"DI", "DX", "R10", "R11"}

const winoSign = "Y14"

// winoDesc writes ts as a sum of the operands named by name.
func winoDesc(ts []term, name string) string {
	s := ""
	for k, t := range ts {
		switch {
		case k == 0 && t.neg:
			s = "-"
		case k > 0 && t.neg:
			s += " - "
		case k > 0:
			s += " + "
		}
		s += fmt.Sprintf(name, t.i)
	}
	return s
}

// combine emits dst = the sum of ts over src(i), in order, and returns
// the register that holds it: src(i) itself for a single positive
// register term. src may emit what it needs first (a pointer load) and
// returns a register or a memory operand; mem tells which.
func combine(f *file, ts []term, src func(i int) string, mem bool, dst string) string {
	op := func(t term) string {
		if t.neg {
			return "VSUBPS"
		}
		return "VADDPS"
	}
	first := ts[0]
	rest := ts[1:]
	switch {
	case mem:
		f.ins("VMOVUPS", src(first.i), dst)
		if first.neg {
			f.ins("VXORPS", winoSign, dst, dst)
		}
	case len(ts) == 1 && !first.neg:
		return src(first.i)
	case first.neg:
		f.ins("VXORPS", winoSign, src(first.i), dst)
	default:
		a := src(first.i)
		f.ins(op(rest[0]), src(rest[0].i), a, dst)
		rest = rest[1:]
	}
	for _, t := range rest {
		f.ins(op(t), src(t.i), dst, dst)
	}
	return dst
}

// winoColsFrom sets the column pointers for base + AX.
func winoColsFrom(f *file, base string) {
	f.ins("LEAQ", memx(0, base, "AX", 1), winoCols[0])
	for j := 1; j < 4; j++ {
		f.ins("LEAQ", memx(0, winoCols[j-1], "BX", 1), winoCols[j])
	}
}

// plane is row r of plane column col: col + r·row, with three = 3·row.
func plane(col string, r int, row, three string) string {
	if r == 3 {
		return memx(0, col, three, 1)
	}
	if r == 0 {
		return mem(0, col)
	}
	return memx(0, col, row, r)
}

// ptr loads pointer k of the array at base into R9 and returns the
// channel vector it points to.
func ptr(f *file, base string, k int) string {
	f.ins("MOVQ", mem(8*k, base), "R9")
	return "(R9)(AX*1)"
}

// winoLoop opens the loop over channels, 8 at a time.
func winoLoop(f *file, loop, done string) {
	f.ins("XORQ", "AX", "AX")
	f.label(loop)
	f.ins("CMPQ", "AX", "CX")
	f.ins("JGE", done)
}

// winoNext closes it.
func winoNext(f *file, loop, done string) {
	f.ins("ADDQ", "$32", "AX")
	f.ins("JMP", loop)
	f.label(done)
	f.ret()
}

func winoFile() *file {
	f := newFile("conv_wino_amd64.s", `The Winograd transforms of conv_wino.go on 8 channels at a time (c is a
multiple of 8), with the additions of the Go code in its order, so that
both give the same bits. Patch and tile pointers arrive in an array and
are loaded as needed; V and M are 16 planes ld floats apart, addressed as
P_j + r·(4·ld) from four column pointers P_j = base + j·ld.`)
	winoIn(f)
	winoOut(f)
	winoGradOut(f)
	winoGradIn(f)
	return f
}

// winoIn: for each patch row r, t_j = Bᵀ_r applied down column j of the
// patch (Y0-Y3), then V[4r+k] = Bᵀ_k applied along t (Y4-Y7).
func winoIn(f *file) {
	g := f.text("winoInAVX2", "v *float32, ld int, src *[16]*float32, c int", "", "")
	g.load("v", "R8", "ld*4", "BX", "src", "SI", "c*4", "CX")
	f.insc("4·ld bytes: one row of ξ", "LEAQ", "(BX*4)", "R12")
	f.insc("12·ld bytes", "LEAQ", "(R12)(R12*2)", "R13")
	winoLoop(f, "loop", "done")
	winoColsFrom(f, "R8")
	for r, row := range winoBT {
		f.note(fmt.Sprintf("Row %d: t_j = %s.", r, winoDesc(row, "d[%d][j]")))
		for j := range 4 {
			combine(f, row, func(i int) string { return ptr(f, "SI", 4*i+j) }, true, Y(j))
		}
		for k, col := range winoBT {
			combine(f, col, Y, false, Y(4+k))
		}
		for k := range 4 {
			f.ins("VMOVUPS", Y(4+k), plane(winoCols[k], r, "R12", "R13"))
		}
	}
	winoNext(f, "loop", "done")
}

// winoOut: s_rj = Aᵀ_r down column j (Y0-Y3 for r = 0, Y4-Y7 for 1), then
// y_rk = Aᵀ_k along s_r (Y8 + 2r + k), plus bias, clamped if relu.
func winoOut(f *file) {
	g := f.text("winoOutAVX2", "dst *[4]*float32, m *float32, ld int, bias *float32, c int, relu bool", "", "")
	g.load("m", "R8", "ld*4", "BX", "bias", "R13", "c*4", "CX")
	f.ins("MOVBQZX", g.arg("relu"), "R12")
	f.insc("4·ld bytes", "LEAQ", "(BX*4)", "R9")
	f.ins("VXORPS", "Y15", "Y15", "Y15")
	winoLoop(f, "loop", "done")
	winoColsFrom(f, "R8")
	f.ins("LEAQ", "(R9)(R9*2)", "SI")
	y := func(r, k int) string { return Y(8 + 2*r + k) }
	for r, row := range winoAT {
		f.note(fmt.Sprintf("s%d_j = %s.", r, winoDesc(row, "m[%d][j]")))
		for j := range 4 {
			combine(f, row, func(i int) string { return plane(winoCols[j], i, "R9", "SI") }, true, Y(4*r+j))
		}
	}
	for r := range winoAT {
		for k, col := range winoAT {
			combine(f, col, func(i int) string { return Y(4*r + i) }, false, y(r, k))
		}
	}
	f.ins("TESTQ", "R13", "R13")
	f.ins("JZ", "nobias")
	f.ins("VMOVUPS", "(R13)(AX*1)", "Y12")
	for o := range 4 {
		f.ins("VADDPS", "Y12", Y(8+o), Y(8+o))
	}
	f.label("nobias")
	f.ins("TESTQ", "R12", "R12")
	f.ins("JZ", "store")
	for o := range 4 {
		f.ins("VMAXPS", Y(8+o), "Y15", Y(8+o))
	}
	f.label("store")
	f.ins("MOVQ", g.arg("dst"), "SI")
	for o := range 4 {
		f.ins("MOVQ", mem(8*o, "SI"), "DI")
		f.ins("VMOVUPS", Y(8+o), "(DI)(AX*1)")
	}
	winoNext(f, "loop", "done")
}

// winoGradOut: e_k = dy_k (Y0-Y3), masked by y_k > 0 if relu, added to db;
// then q_rj = A_r down column j (Y(j) for r = 0, else Y4 + r + 4j), and
// dM[4r+k] = A_k along q_r.
func winoGradOut(f *file) {
	g := f.text("winoGradOutAVX2", "m *float32, ld int, dy *[4]*float32, y *[4]*float32, db *float32, c int, relu bool", "", "")
	g.load("m", "R8", "ld*4", "BX", "dy", "SI", "y", "R13", "c*4", "CX")
	f.ins("MOVBQZX", g.arg("relu"), "R12")
	f.ins("VXORPS", "Y15", "Y15", "Y15")
	signBit(f)
	winoLoop(f, "loop", "done")
	for k := range 4 {
		f.ins("VMOVUPS", ptr(f, "SI", k), Y(k))
	}
	f.ins("TESTQ", "R12", "R12")
	f.ins("JZ", "nomask")
	for k := range 4 {
		f.ins("VMOVUPS", ptr(f, "R13", k), "Y4")
		f.ins("VCMPPS", "$0x1e", "Y15", "Y4", "Y4")
		f.ins("VANDPS", "Y4", Y(k), Y(k))
	}
	f.label("nomask")
	f.ins("MOVQ", g.arg("db"), "R9")
	f.ins("TESTQ", "R9", "R9")
	f.ins("JZ", "nobias")
	f.ins("VMOVUPS", "(R9)(AX*1)", "Y4")
	for k := range 4 {
		f.ins("VADDPS", Y(k), "Y4", "Y4")
	}
	f.ins("VMOVUPS", "Y4", "(R9)(AX*1)")
	f.label("nobias")
	q := func(r, j int) string {
		if r == 0 {
			return Y(j)
		}
		return Y(4 + r + 4*j)
	}
	f.note("Down the columns: q_rj from e_j (Y(j)) and e_2+j.")
	for j := range 2 {
		for r := 1; r < 4; r++ {
			combine(f, winoA[r], func(i int) string { return Y(2*i + j) }, false, q(r, j))
		}
	}
	f.note("Along the rows: dM[4r+k] from q_r0, q_r1.")
	winoColsFrom(f, "R8")
	f.ins("LEAQ", "(BX*4)", "R9")
	f.ins("LEAQ", "(R9)(R9*2)", "R13")
	for r := range 4 {
		for k, row := range winoA {
			res := combine(f, row, func(i int) string { return q(r, i) }, false, "Y12")
			f.ins("VMOVUPS", res, plane(winoCols[k], r, "R9", "R13"))
		}
	}
	f.ins("MOVQ", g.arg("y"), "R13")
	winoNext(f, "loop", "done")
}

// winoGradIn: for each patch row r, w_j = B_r down column j of dV (Y0-Y3),
// then dst[4r+k] = acc[4r+k] + B_k along w (Y4 + k).
func winoGradIn(f *file) {
	g := f.text("winoGradInAVX2", "dst, acc *[16]*float32, v *float32, ld int, c int", "",
		"dst[k] = acc[k] + (B·dV·Bᵀ)[k]; acc[k] is dst[k] or a zero vector.")
	g.load("dst", "SI", "v", "R8", "ld*4", "BX", "c*4", "CX")
	f.ins("LEAQ", "(BX*4)", "R12")
	f.ins("LEAQ", "(R12)(R12*2)", "R13")
	signBit(f)
	winoLoop(f, "loop", "done")
	winoColsFrom(f, "R8")
	for r, row := range winoB {
		f.note(fmt.Sprintf("Row %d: w_j = %s.", r, winoDesc(row, "v[%d][j]")))
		for j := range 4 {
			combine(f, row, func(i int) string { return plane(winoCols[j], i, "R12", "R13") }, true, Y(j))
		}
		for k, col := range winoB {
			res := combine(f, col, Y, false, Y(4+k))
			f.ins("MOVQ", g.arg("acc"), "R9")
			f.ins("VADDPS", ptr(f, "R9", 4*r+k), res, Y(4+k))
			f.ins("VMOVUPS", Y(4+k), ptr(f, "SI", 4*r+k))
		}
	}
	winoNext(f, "loop", "done")
}

// signBit sets Y14 to the float32 sign bit in every lane.
func signBit(f *file) {
	f.ins("VPCMPEQD", winoSign, winoSign, winoSign)
	f.ins("VPSLLD", "$31", winoSign, winoSign)
}
