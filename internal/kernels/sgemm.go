package kernels

import (
	"fmt"
	"runtime"
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C; see SgemmRef.
//
// It follows GotoBLAS/BLIS. C is cut into kc-deep passes over K, and each
// pass into tiles that a register-blocked micro-kernel computes whole: 6×16
// with AVX2 and FMA, 12×32 with AVX-512, 8×12 with NEON on arm64, 3×2 in plain Go elsewhere. op(B) is
// packed block by block into the order the kernel reads it (or read in
// place when C has only a tile or two of rows); op(A) is read in place (the
// kernels take a row and a column stride, which covers both transposes)
// unless its rows would collide in L1, and is packed then. C is
// split into rectangles that goroutines take in turn. K is never split, and
// kc depends only on k, so every element is the same chain of fused
// multiply-adds whatever the split, the kernel or GOMAXPROCS: the result is
// the same to the bit. A C narrower than a tile (and much taller) is
// computed as Cᵀ = op(B)ᵀ·op(A)ᵀ and transposed back, and a C of one row
// with B not transposed by a row kernel that reads B in place (see
// sgemm_row.go), with each element's arithmetic unchanged; those choices
// depend on the shape alone.
//
// Unlike SgemmRef, a zero alpha or k returns beta·C without reading A and B
// (the BLAS convention), and a leading dimension smaller than the stored
// row width panics.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(sgemmHow{procs: runtime.GOMAXPROCS(0)}, sgemmArgs{transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc})
}

// SgemmBias computes C = op(A)·op(B) + bias, with bias (length n) added to
// every row, then clamps C at zero if relu is set; see SgemmBiasRef. The
// bias and ReLU are applied to each tile of C while it is still in L1,
// which saves the separate pass over C that AddBiasReLU would make.
func SgemmBias(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, relu bool, c []float32, ldc int) {
	if len(bias) < n {
		panic(fmt.Sprintf("kernels: SgemmBias: len(bias) %d < n %d", len(bias), n))
	}
	sgemmBias(sgemmHow{procs: runtime.GOMAXPROCS(0)}, sgemmArgs{transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc}, bias[:n], relu)
}

// sgemmArgs are Sgemm's arguments.
type sgemmArgs struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
}

// sgemmHow is how a product runs. Tests and tuning set what Sgemm chooses
// by itself.
type sgemmHow struct {
	kern   *sgemmKernel    // the micro-kernel; nil: sgemmPick chooses by shape
	procs  int             // goroutines to use at most
	pool   *parPool        // the pool to use when procs > 1; nil: parShared
	ws     *sgemmWorkspace // the workspace when on one goroutine; nil: one from getSpace
	direct sgemmDirect     // whether A and B are read in place
}

// sgemm runs the product as how says.
func sgemm(how sgemmHow, g sgemmArgs) {
	sgemmBias(how, g, nil, false)
}

// sgemmBias is sgemm followed, tile by tile, by C += bias (a row) and then
// ReLU if relu is set, when bias is not nil.
func sgemmBias(how sgemmHow, g sgemmArgs, bias []float32, relu bool) {
	kern, procs := how.kern, how.procs
	g.check()
	if g.m == 0 || g.n == 0 {
		return
	}
	if g.k == 0 || g.alpha == 0 {
		scaleC(g.m, g.n, g.beta, g.c, g.ldc)
		if bias != nil {
			biasTile(g.c, g.ldc, g.m, g.n, bias, relu)
		}
		return
	}
	if kern == nil {
		if g.m == 1 && !g.transB && sgemmKernels[0].row != nil {
			sgemmRow(sgemmKernels[0], g, bias, relu)
			return
		}
		if g.transA && sgemmNarrow(g.m, g.n) {
			sgemmTransposed(how, g, bias, relu)
			return
		}
		kern = sgemmPick(g.m, g.n, procs)
	}
	j := sgemmJob{sgemmArgs: g, bias: bias, relu: relu, kern: kern}
	j.kc = balance(g.k, kern.kc, 1)
	j.direct = how.direct.a(kern, g.transA, g.lda)
	j.directB = how.direct.b(kern, g.transB, g.m, j.direct)
	j.tm, j.tn = sgemmGrid(kern, g.m, g.n, g.k, procs, j.direct)
	tasks := j.tm * j.tn
	p := how.pool
	if p == nil {
		p = &parShared
	}
	if tasks > 1 && procs > 1 && p.mu.TryLock() {
		p.slots.sgemm = j
		p.slots.sgemm.spaces = p.gemmSpaces(min(procs, tasks))
		p.slots.sgemm.packEdge(p.slots.sgemm.spaces[0])
		p.region(&p.slots.sgemm, tasks, procs)
		p.slots.sgemm = sgemmJob{}
		p.mu.Unlock()
		return
	}
	ws := how.ws
	if ws == nil {
		ws = getSpace()
		defer putSpace(ws)
	}
	for t := range tasks {
		j.run(ws, t)
	}
}

// sgemmNarrow reports whether C is too narrow for the kernels' tiles and
// tall enough to be better computed as Cᵀ = op(B)ᵀ·op(A)ᵀ, whose rows are
// C's columns: the tiles then run along C's long side. Sgemm does so when A
// is transposed, so that op(A)ᵀ can be read in place; otherwise it would
// have to be transposed while packed, which costs more than the narrow
// tiles waste. The choice depends on the shape only, so the path, and
// hence the bits, do not change with the number of goroutines.
func sgemmNarrow(m, n int) bool {
	nr := sgemmKernels[0].nr
	for _, k := range sgemmKernels {
		nr = min(nr, k.nr)
	}
	return n < nr && m >= 2*nr
}

// sgemmTransposed computes Cᵀ = alpha·op(B)ᵀ·op(A)ᵀ into scratch space,
// then sets C to its transpose plus beta·C, and adds the bias and applies
// the ReLU if bias is not nil.
func sgemmTransposed(how sgemmHow, g sgemmArgs, bias []float32, relu bool) {
	// The product below uses ws.a and ws.b of how.ws, if any; ws.t is free.
	ws := how.ws
	if ws == nil {
		ws = getSpace()
		defer putSpace(ws)
	}
	ws.t = grow(ws.t, g.m*g.n)
	t, m, n := ws.t, g.m, g.n
	sgemm(how, sgemmArgs{!g.transB, !g.transA, n, m, g.k, g.alpha, g.b, g.ldb, g.a, g.lda, 0, t, m})
	i0, j0 := 0, 0
	if g.beta == 0 && m >= 8 {
		// Eight columns of C at a time, transposed in registers where the
		// kernels have assembly.
		i0 = m &^ 7
		for ; j0+8 <= n; j0 += 8 {
			sgemmKernels[0].packT8(g.c[j0:], t[j0*m:], m, i0, g.ldc)
		}
	}
	for i := 0; i < m; i++ {
		row := g.c[i*g.ldc : i*g.ldc+n]
		first := j0
		if i >= i0 {
			first = 0
		}
		for j := first; j < n; j++ {
			if g.beta == 0 {
				row[j] = t[j*m+i]
			} else {
				row[j] = t[j*m+i] + g.beta*row[j]
			}
		}
	}
	if bias != nil {
		biasTile(g.c, g.ldc, m, n, bias, relu)
	}
}

func (g *sgemmArgs) check() {
	if g.m < 0 || g.n < 0 || g.k < 0 {
		panic(fmt.Sprintf("kernels: Sgemm: negative size m=%d n=%d k=%d", g.m, g.n, g.k))
	}
	ar, ac := g.m, g.k
	if g.transA {
		ar, ac = g.k, g.m
	}
	br, bc := g.k, g.n
	if g.transB {
		br, bc = g.n, g.k
	}
	checkMatrix("A", ar, ac, g.a, g.lda)
	checkMatrix("B", br, bc, g.b, g.ldb)
	checkMatrix("C", g.m, g.n, g.c, g.ldc)
}

// checkMatrix panics unless s holds a rows×cols matrix with leading
// dimension ld. The assembly does not check bounds, so this must.
func checkMatrix(name string, rows, cols int, s []float32, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("kernels: Sgemm: ld%s %d < %d columns", name, ld, cols))
	}
	if rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("kernels: Sgemm: len(%s) %d < %d for %d×%d with ld %d", name, len(s), (rows-1)*ld+cols, rows, cols, ld))
	}
}

// scaleC sets C = beta·C, or C = 0 when beta is 0 (C is then not read).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// gemm1 is Sgemm with alpha 1 on the calling goroutine alone, with
// workspace ws, for the tasks of a region.
func gemm1(ws *sgemmWorkspace, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(sgemmHow{procs: 1, ws: ws}, sgemmArgs{transA, transB, m, n, k, 1, a, lda, b, ldb, beta, c, ldc})
}

// gemmSpace returns the SGEMM workspace of goroutine w of a region, or
// serial, the one of a loop on the calling goroutine, if it is not nil.
func gemmSpace(pool *parPool, serial *sgemmWorkspace, w int) *sgemmWorkspace {
	if serial != nil {
		return serial
	}
	return pool.gemm[w]
}
