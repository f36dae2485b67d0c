package main

import (
	"fmt"
	"log"
	"math/bits"
)

// gemmTile describes one SGEMM micro-kernel: an mr×nr tile of C held in
// registers over k-deep panels of A (mr wide) and B (nr wide).
type gemmTile struct {
	mr, nr int
	isa    string           // name suffix: AVX2 or AVX512
	vec    func(int) string // the vector register file, Y or Z
	lanes  int              // float32 lanes of one vector
	nregs  int              // vector registers of the ISA
	bcasts int              // registers that take turns for broadcasts of A, so consecutive ones do not wait on each other
	zero   string           // op that zeroes an accumulator (VPXORD needs no AVX512DQ)
	unroll int              // steps per iteration of the main loop, a power of 2
}

var (
	tileAVX2   = gemmTile{mr: 6, nr: 16, isa: "AVX2", vec: Y, lanes: 8, nregs: 16, bcasts: 2, zero: "VXORPS", unroll: 4}
	tileAVX512 = gemmTile{mr: 12, nr: 32, isa: "AVX512", vec: Z, lanes: 16, nregs: 32, bcasts: 6, zero: "VPXORD", unroll: 4}
)

// Registers: B's row of the step in the first nr/lanes vectors, then the
// broadcasts of A, then the accumulators, row by row.
func (t gemmTile) nv() int             { return t.nr / t.lanes }
func (t gemmTile) b(q int) string      { return t.vec(q) }
func (t gemmTile) bc(i int) string     { return t.vec(t.nv() + i%t.bcasts) }
func (t gemmTile) acc(i, q int) string { return t.vec(t.nv() + t.bcasts + i*t.nv() + q) }
func (t gemmTile) vbytes() int         { return 4 * t.lanes }
func (t gemmTile) dims() string        { return fmt.Sprintf("%dx%d", t.mr, t.nr) }
func (t gemmTile) name() string        { return t.dims() + t.isa }

// check reports a tile that the register plan cannot hold.
func (t gemmTile) check() error {
	switch {
	case t.nr%t.lanes != 0:
		return fmt.Errorf("sgemm tile %s: nr is not a multiple of %d lanes", t.name(), t.lanes)
	case t.nv()+t.bcasts+t.mr*t.nv() > t.nregs:
		return fmt.Errorf("sgemm tile %s: %d accumulators, %d for B and %d broadcasts need more than %d registers",
			t.name(), t.mr*t.nv(), t.nv(), t.bcasts, t.nregs)
	case t.bcasts < t.nv():
		return fmt.Errorf("sgemm tile %s: the store needs %d temporaries, it has %d", t.name(), t.nv(), t.bcasts)
	case t.mr > 3*len(stridedRows):
		return fmt.Errorf("sgemm tile %s: the strided form has pointers for %d rows", t.name(), 3*len(stridedRows))
	case t.unroll < 1 || t.unroll&(t.unroll-1) != 0:
		return fmt.Errorf("sgemm tile %s: unroll %d is not a power of 2", t.name(), t.unroll)
	}
	return nil
}

// General-purpose registers of both forms: k in CX, the A panel in SI, B
// in DI, C in DX with ldc bytes in R8, BX counts the unrolled iterations.
// The strided form keeps A's rows 3j to 3j+2 at stridedRows[j] plus 0, 1
// and 2 times R12 (rsa bytes), all advancing by R14 (csa bytes) per step,
// and B's row at DI advancing by R11 (ldb bytes).
var stridedRows = []string{"SI", "R13", "R9", "R10"}

const sgemmParams = "k int, a, b, c *float32, ldc int, alpha, beta float32"

// sgemmFile writes the packed and the strided kernel of tile t.
func sgemmFile(name string, t gemmTile) *file {
	if err := t.check(); err != nil {
		log.Fatal(err)
	}
	f := newFile(name, fmt.Sprintf(`The %d×%d tile: %d accumulators (%s to %s, %d a row), B's row in %s
to %s, and %s to %s in turn for the broadcasts of A. Each element of C is
one chain of FMAs in k order from zero, then alpha·acc + beta·C.`,
		t.mr, t.nr, t.mr*t.nv(), t.acc(0, 0), t.acc(t.mr-1, t.nv()-1), t.nv(),
		t.b(0), t.b(t.nv()-1), t.bc(0), t.bc(t.bcasts-1)))

	g := f.text("sgemmKernel"+t.name(), sgemmParams, "", "")
	g.load("k", "CX", "a", "SI", "b", "DI", "c", "DX", "ldc*4", "R8")
	t.warmUp(f)
	t.loops(f, func(s int) { t.step(f, s*4*t.mr, s*4*t.nr) }, func(steps int) {
		f.ins("ADDQ", imm(steps*4*t.mr), "SI")
		f.ins("ADDQ", imm(steps*4*t.nr), "DI")
	})
	t.store(g)

	g = f.text("sgemmKernel"+t.dims()+"Strided"+t.isa, sgemmParams+", rsa, csa, ldb int", "",
		"The same with A and B read in place: A's element (i, p) at\na[i·rsa + p·csa], B's row p at b[p·ldb].")
	g.load("k", "CX", "a", "SI", "b", "DI", "c", "DX", "ldc*4", "R8", "rsa*4", "R12", "csa*4", "R14", "ldb*4", "R11")
	if t.mr > 3 {
		f.ins("LEAQ", "(R12)(R12*2)", "AX")
		for j := 1; j < (t.mr+2)/3; j++ {
			f.ins("LEAQ", memx(0, stridedRows[j-1], "AX", 1), stridedRows[j])
		}
	}
	t.warmUp(f)
	t.loops(f, func(int) { t.stepStrided(f) }, func(int) {})
	t.store(g)
	return f
}

// warmUp prefetches the tile of C and zeroes the accumulators.
func (t gemmTile) warmUp(f *file) {
	// Bring the tile's rows of C towards L1 while the loop runs: every
	// cache line a row touches, wherever it starts.
	f.ins("MOVQ", "DX", "AX")
	rowBytes := 4 * t.nr
	for i := range t.mr {
		if i > 0 {
			f.ins("ADDQ", "R8", "AX")
		}
		for off := 0; off < rowBytes-1; off += 64 {
			f.ins("PREFETCHT0", mem(off, "AX"))
		}
		f.ins("PREFETCHT0", mem(rowBytes-1, "AX"))
	}
	for i := range t.mr {
		for q := range t.nv() {
			f.ins(t.zero, t.acc(i, q), t.acc(i, q), t.acc(i, q))
		}
	}
}

// loops runs k steps: k/unroll times the unrolled body, then one at a
// time. step(s) emits step s of an iteration; advance(n) moves the panel
// pointers past n steps where the steps do not.
func (t gemmTile) loops(f *file, step func(s int), advance func(n int)) {
	shift := bits.TrailingZeros(uint(t.unroll))
	f.ins("MOVQ", "CX", "BX")
	f.ins("SHRQ", imm(shift), "BX")
	f.ins("JZ", "tail")
	f.label("loop")
	for s := range t.unroll {
		step(s)
	}
	advance(t.unroll)
	f.ins("DECQ", "BX")
	f.ins("JNZ", "loop")
	f.label("tail")
	f.ins("ANDQ", imm(t.unroll-1), "CX")
	f.ins("JZ", "store")
	f.label("loop1")
	step(0)
	advance(1)
	f.ins("DECQ", "CX")
	f.ins("JNZ", "loop1")
	f.label("store")
}

// step emits one step on packed panels, A's at byte ao from SI, B's at bo
// from DI.
func (t gemmTile) step(f *file, ao, bo int) {
	t.fmaRows(f, func(q int) string { return mem(bo+q*t.vbytes(), "DI") },
		func(i int) string { return mem(ao+4*i, "SI") })
}

// stepStrided emits one step of the strided form and advances its pointers.
func (t gemmTile) stepStrided(f *file) {
	t.fmaRows(f, func(q int) string { return mem(q*t.vbytes(), "DI") }, func(i int) string {
		base := stridedRows[i/3]
		if i%3 == 0 {
			return mem(0, base)
		}
		return memx(0, base, "R12", i%3)
	})
	for j := range (t.mr + 2) / 3 {
		f.ins("ADDQ", "R14", stridedRows[j])
	}
	f.ins("ADDQ", "R11", "DI")
}

// fmaRows loads B's row, then for each row of A broadcasts its value and
// adds it times B's row to the row's accumulators.
func (t gemmTile) fmaRows(f *file, bAddr, aAddr func(int) string) {
	for q := range t.nv() {
		f.ins("VMOVUPS", bAddr(q), t.b(q))
	}
	for i := range t.mr {
		f.ins("VBROADCASTSS", aAddr(i), t.bc(i))
		for q := range t.nv() {
			f.ins("VFMADD231PS", t.b(q), t.bc(i), t.acc(i, q))
		}
	}
}

// store writes C = alpha·acc + beta·C, or alpha·acc when beta is ±0, so
// that C is not read then (it may hold NaNs).
func (t gemmTile) store(g *fn) {
	f := g.f
	alpha, beta := t.vec(0), t.vec(1)
	f.ins("VBROADCASTSS", g.arg("alpha"), alpha)
	f.ins("MOVL", g.arg("beta"), "AX")
	f.ins("ANDL", "$0x7fffffff", "AX")
	f.ins("JZ", "storezero")
	f.ins("VBROADCASTSS", g.arg("beta"), beta)
	for i := range t.mr {
		for q := range t.nv() {
			tmp := t.bc(q)
			f.ins("VMULPS", mem(q*t.vbytes(), "DX"), beta, tmp)
			f.ins("VFMADD231PS", t.acc(i, q), alpha, tmp)
			f.ins("VMOVUPS", tmp, mem(q*t.vbytes(), "DX"))
		}
		f.ins("ADDQ", "R8", "DX")
	}
	f.ret()
	f.label("storezero")
	for i := range t.mr {
		for q := range t.nv() {
			f.ins("VMULPS", t.acc(i, q), alpha, t.acc(i, q))
			f.ins("VMOVUPS", t.acc(i, q), mem(q*t.vbytes(), "DX"))
		}
		f.ins("ADDQ", "R8", "DX")
	}
	f.ret()
}
