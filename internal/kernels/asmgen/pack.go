package main

// packFuncs appends the AVX2 packing routines to f: the 8×8 transpose that
// packs A (or a transposed B) and the masked copy that packs B.
func packFuncs(f *file) {
	packT8(f)
	packN8(f)
}

// packT8: eight rows in Y0-Y7, transposed in three rounds of shuffles,
// eight columns out.
func packT8(f *file) {
	g := f.text("sgemmPackT8AVX2", "dst, src *float32, ld, kc, w int", "",
		"For r < 8 and p < kc (a multiple of 8): dst[p·w + r] = src[r·ld + p].\nEight rows are transposed eight columns at a time in registers.")
	g.load("dst", "DI", "src", "SI", "ld*4", "R8", "kc", "CX")
	f.ins("SHRQ", "$3", "CX")
	f.ins("JZ", "done")
	g.load("w*4", "R9")
	f.insc("3·ld bytes", "LEAQ", "(R8)(R8*2)", "R10")
	f.insc("row 4", "LEAQ", "(SI)(R8*4)", "R11")
	f.label("loop")
	// Row r from SI (r < 4) or R11, plus 0, 1, 2 or 3 times ld.
	for r := range 8 {
		base := []string{"SI", "R11"}[r/4]
		addr := [4]string{mem(0, base), memx(0, base, "R8", 1), memx(0, base, "R8", 2), memx(0, base, "R10", 1)}[r%4]
		f.ins("VMOVUPS", addr, Y(r))
	}
	f.note("Pairs of rows interleaved: Y8 = r0p0 r1p0 r0p1 r1p1 | r0p4 r1p4 r0p5 r1p5.")
	for p := range 4 {
		f.ins("VUNPCKLPS", Y(2*p+1), Y(2*p), Y(8+2*p))
		f.ins("VUNPCKHPS", Y(2*p+1), Y(2*p), Y(9+2*p))
	}
	f.note("Quads: Y0 = r0p0 r1p0 r2p0 r3p0 | r0p4 r1p4 r2p4 r3p4.")
	for quad := range 2 {
		for h := range 2 {
			lo, hi := Y(8+4*quad+h), Y(10+4*quad+h)
			f.ins("VSHUFPS", "$0x44", hi, lo, Y(4*quad+2*h))
			f.ins("VSHUFPS", "$0xEE", hi, lo, Y(4*quad+2*h+1))
		}
	}
	f.note("Halves joined: one register per column p, rows 0 to 7.")
	for half, sel := range []string{"$0x20", "$0x31"} {
		for j := range 4 {
			f.ins("VPERM2F128", sel, Y(4+j), Y(j), Y(8+4*half+j))
		}
	}
	// Column p goes to dst + p·w, two columns per pointer.
	for k := range 4 {
		base, next := "R12", "R12"
		if k == 0 {
			base = "DI"
		}
		if k == 3 {
			next = "DI"
		}
		f.ins("VMOVUPS", Y(8+2*k), mem(0, base))
		f.ins("VMOVUPS", Y(9+2*k), memx(0, base, "R9", 1))
		f.ins("LEAQ", memx(0, base, "R9", 2), next)
	}
	f.ins("ADDQ", "$32", "SI")
	f.ins("ADDQ", "$32", "R11")
	f.ins("DECQ", "CX")
	f.ins("JNZ", "loop")
	f.label("done")
	f.ret()
}

// packN8 copies rows of B into the panel, whole vectors first, then one
// masked vector, then zeros up to w.
func packN8(f *file) {
	f.b.WriteString("\n// Masks for the last, partial vector of a row: 8 lanes on, then 8 off.")
	mask := make([]uint32, 16)
	for i := range 8 {
		mask[i] = 0xffffffff
	}
	f.words("sgemmMask", mask)

	g := f.text("sgemmPackN8AVX2", "dst, src *float32, ld, kc, w, n int", "",
		"For p < kc and j < w (a multiple of 8): dst[p·w + j] = src[p·ld + j] if\nj < n, else 0. Lanes past n are neither read nor stored from src.")
	g.load("dst", "DI", "src", "SI", "ld*4", "R8", "kc", "CX", "w", "R9")
	f.insc("vectors per row", "SHRQ", "$3", "R9")
	f.ins("MOVQ", g.arg("n"), "R12")
	f.ins("MOVQ", "R12", "R13")
	f.insc("whole vectors from src", "SHRQ", "$3", "R13")
	f.insc("lanes in the partial one", "ANDQ", "$7", "R12")
	f.ins("LEAQ", "sgemmMask<>(SB)", "AX")
	f.ins("MOVQ", "$8", "BX")
	f.ins("SUBQ", "R12", "BX")
	f.ins("VMOVDQU", "(AX)(BX*4)", "Y15")
	f.ins("VXORPS", "Y14", "Y14", "Y14")
	f.ins("TESTQ", "CX", "CX")
	f.ins("JZ", "done")
	f.label("row")
	f.ins("MOVQ", "SI", "R10")
	f.ins("MOVQ", "R13", "R11")
	f.ins("TESTQ", "R11", "R11")
	f.ins("JZ", "part")
	f.label("full")
	f.ins("VMOVUPS", "(R10)", "Y0")
	f.ins("VMOVUPS", "Y0", "(DI)")
	f.ins("ADDQ", "$32", "R10")
	f.ins("ADDQ", "$32", "DI")
	f.ins("DECQ", "R11")
	f.ins("JNZ", "full")
	f.label("part")
	f.ins("MOVQ", "R9", "R11")
	f.insc("vectors left in the row", "SUBQ", "R13", "R11")
	f.ins("JZ", "next")
	f.ins("TESTQ", "R12", "R12")
	f.ins("JZ", "zero")
	f.ins("VMASKMOVPS", "(R10)", "Y15", "Y0")
	f.ins("VMOVUPS", "Y0", "(DI)")
	f.ins("ADDQ", "$32", "DI")
	f.ins("DECQ", "R11")
	f.ins("JZ", "next")
	f.label("zero")
	f.ins("VMOVUPS", "Y14", "(DI)")
	f.ins("ADDQ", "$32", "DI")
	f.ins("DECQ", "R11")
	f.ins("JNZ", "zero")
	f.label("next")
	f.ins("ADDQ", "R8", "SI")
	f.ins("DECQ", "CX")
	f.ins("JNZ", "row")
	f.label("done")
	f.ret()
}
