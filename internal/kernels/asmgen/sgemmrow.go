package main

import "fmt"

// rowTile is a one-row SGEMM kernel: nv vectors of a row of C held in
// registers while A's value of each step is broadcast and B's row is read
// in place, straight into the FMAs. With one row, B's values are used
// once, so they are never loaded into registers of their own.
type rowTile struct {
	isa   string
	vec   func(int) string
	lanes int
	nv    int
	zero  string
}

func (t rowTile) width() int         { return t.nv * t.lanes }
func (t rowTile) name() string       { return fmt.Sprintf("sgemmRow%d%s", t.width(), t.isa) }
func (t rowTile) acc(q int) string   { return t.vec(q) }
func (t rowTile) bc(s int) string    { return t.vec(t.nv + s%2) } // broadcasts of A, two in turn
func (t rowTile) alpha() string      { return t.vec(t.nv + 2) }
func (t rowTile) beta() string       { return t.vec(t.nv + 3) }
func (t rowTile) tmp() string        { return t.vec(t.nv + 4) }
func (t rowTile) vbytes() int        { return 4 * t.lanes }
func (t rowTile) bAddr(q int) string { return mem(q*t.vbytes(), "DI") }

// rowWidths are the whole-vector row kernels, widest first: sgemm's row
// path covers a row with as many of the widest as fit, then at most one of
// each narrower one, then the masked AVX2 tail.
var rowWidths = []rowTile{
	{"AVX512", Z, 16, 16, "VPXORD"},
	{"AVX512", Z, 16, 8, "VPXORD"},
	{"AVX512", Z, 16, 4, "VPXORD"},
	{"AVX512", Z, 16, 2, "VPXORD"},
	{"AVX512", Z, 16, 1, "VPXORD"},
	{"AVX2", Y, 8, 8, "VXORPS"},
	{"AVX2", Y, 8, 4, "VXORPS"},
	{"AVX2", Y, 8, 2, "VXORPS"},
	{"AVX2", Y, 8, 1, "VXORPS"},
}

const rowParams = "k int, a, b, c *float32, alpha, beta float32, csa, ldb int"

// rowPrefetch is how many rows of B ahead each step asks for: B is read
// once, from L2 or beyond, and its rows are a stride apart. Thread CPU
// time of the reference MLP's first two layers at batch 1 on the loaded
// Zen 5: 17.1 and 4.6 µs without, 15 and 2.7 µs with 4 or 8 rows ahead.
const rowPrefetch = 8

// General-purpose registers: k in CX, A in SI advancing by R14 (csa bytes),
// B's row in DI advancing by R11 (ldb bytes), C in DX, BX counts the
// unrolled iterations, R9 holds rowPrefetch rows of B in bytes.

// sgemmRowFile writes the one-row kernels.
func sgemmRowFile() *file {
	f := newFile("sgemm_row_amd64.s", `One row of C: c[j] for j < width is one chain of FMAs in k order from
zero, acc = fma(a[p·csa], b[p·ldb+j], acc), then alpha·acc + beta·c[j]:
the arithmetic of the tiles, element by element, so the row path gives
their bits. B is read in place; nothing is packed.`)
	f.b.WriteString("\n// Masks for the tail's partial vector: 8 lanes on, then 8 off.")
	mask := make([]uint32, 16)
	for i := range 8 {
		mask[i] = 0xffffffff
	}
	f.words("rowMask", mask)
	for _, t := range rowWidths {
		t.write(f)
	}
	rowTail(f)
	return f
}

func (t rowTile) write(f *file) {
	g := f.text(t.name(), rowParams, "", "")
	g.load("k", "CX", "a", "SI", "b", "DI", "c", "DX", "csa*4", "R14", "ldb*4", "R11")
	for q := range t.nv {
		f.ins(t.zero, t.acc(q), t.acc(q), t.acc(q))
	}
	f.insc(fmt.Sprintf("%d rows of B ahead, in bytes", rowPrefetch), "IMUL3Q", imm(rowPrefetch), "R11", "R9")
	rowLoops(f, func(s int) {
		f.ins("VBROADCASTSS", "(SI)", t.bc(s))
		for q := range t.nv {
			if q*t.vbytes()%64 == 0 {
				f.ins("PREFETCHT0", memx(q*t.vbytes(), "DI", "R9", 1))
			}
			f.ins("VFMADD231PS", t.bAddr(q), t.bc(s), t.acc(q))
		}
		f.ins("ADDQ", "R14", "SI")
		f.ins("ADDQ", "R11", "DI")
	})
	rowStore(g, t.alpha(), t.beta(), func(q int) {
		f.ins("VMULPS", mem(q*t.vbytes(), "DX"), t.beta(), t.tmp())
		f.ins("VFMADD231PS", t.acc(q), t.alpha(), t.tmp())
		f.ins("VMOVUPS", t.tmp(), mem(q*t.vbytes(), "DX"))
	}, func(q int) {
		f.ins("VMULPS", t.acc(q), t.alpha(), t.acc(q))
		f.ins("VMOVUPS", t.acc(q), mem(q*t.vbytes(), "DX"))
	}, t.nv)
}

// rowLoops runs k steps, four to an iteration, then one at a time.
func rowLoops(f *file, step func(s int)) {
	f.ins("MOVQ", "CX", "BX")
	f.ins("SHRQ", "$2", "BX")
	f.ins("JZ", "tail")
	f.label("loop")
	for s := range 4 {
		step(s)
	}
	f.ins("DECQ", "BX")
	f.ins("JNZ", "loop")
	f.label("tail")
	f.ins("ANDQ", "$3", "CX")
	f.ins("JZ", "store")
	f.label("loop1")
	step(0)
	f.ins("DECQ", "CX")
	f.ins("JNZ", "loop1")
	f.label("store")
}

// rowStore writes c = alpha·acc + beta·c, or alpha·acc when beta is ±0 (C
// is not read then), as the tiles' store does; withBeta(q) and noBeta(q)
// emit vector q of each.
func rowStore(g *fn, alpha, beta string, withBeta, noBeta func(q int), nv int) {
	f := g.f
	f.ins("VBROADCASTSS", g.arg("alpha"), alpha)
	f.ins("MOVL", g.arg("beta"), "AX")
	f.ins("ANDL", "$0x7fffffff", "AX")
	f.ins("JZ", "storezero")
	f.ins("VBROADCASTSS", g.arg("beta"), beta)
	for q := range nv {
		withBeta(q)
	}
	f.ret()
	f.label("storezero")
	for q := range nv {
		noBeta(q)
	}
	f.ret()
}

// rowTail is the row kernel for the last n < 8 columns, on one masked YMM
// vector: lanes past n are neither read nor written.
func rowTail(f *file) {
	g := f.text("sgemmRowTailAVX2", rowParams+", n int", "", "The same for the first n ≤ 8 columns; lanes past n are not touched.")
	g.load("k", "CX", "a", "SI", "b", "DI", "c", "DX", "csa*4", "R14", "ldb*4", "R11")
	f.ins("LEAQ", "rowMask<>(SB)", "AX")
	f.ins("MOVQ", "$8", "BX")
	f.ins("SUBQ", g.arg("n"), "BX")
	f.insc("n lanes on", "VMOVDQU", "(AX)(BX*4)", "Y15")
	f.ins("VXORPS", "Y0", "Y0", "Y0")
	rowLoops(f, func(s int) {
		bc, bv := Y(1+s%2), Y(3+s%2)
		f.ins("VBROADCASTSS", "(SI)", bc)
		f.ins("VMASKMOVPS", "(DI)", "Y15", bv)
		f.ins("VFMADD231PS", bv, bc, "Y0")
		f.ins("ADDQ", "R14", "SI")
		f.ins("ADDQ", "R11", "DI")
	})
	rowStore(g, "Y5", "Y6", func(int) {
		f.ins("VMASKMOVPS", "(DX)", "Y15", "Y7")
		f.ins("VMULPS", "Y7", "Y6", "Y7")
		f.ins("VFMADD231PS", "Y0", "Y5", "Y7")
		f.ins("VMASKMOVPS", "Y7", "Y15", "(DX)")
	}, func(int) {
		f.ins("VMULPS", "Y0", "Y5", "Y0")
		f.ins("VMASKMOVPS", "Y0", "Y15", "(DX)")
	}, 1)
}
