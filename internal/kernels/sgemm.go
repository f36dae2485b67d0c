package kernels

import (
	"fmt"
	"runtime"
	"sync/atomic"
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
// computed as Cᵀ = op(B)ᵀ·op(A)ᵀ and transposed back; that choice depends
// on the shape alone.
//
// Unlike SgemmRef, a zero alpha or k returns beta·C without reading A and B
// (the BLAS convention), and a leading dimension smaller than the stored
// row width panics.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(nil, runtime.GOMAXPROCS(0), sgemmArgs{transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc})
}

// SgemmBias computes C = op(A)·op(B) + bias, with bias (length n) added to
// every row, then clamps C at zero if relu is set; see SgemmBiasRef. The
// bias and ReLU are applied to each tile of C while it is still in L1,
// which saves the separate pass over C that AddBiasReLU would make.
func SgemmBias(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, relu bool, c []float32, ldc int) {
	if len(bias) < n {
		panic(fmt.Sprintf("kernels: SgemmBias: len(bias) %d < n %d", len(bias), n))
	}
	sgemmBias(nil, runtime.GOMAXPROCS(0), sgemmArgs{transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc}, bias[:n], relu)
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

// sgemmMinWork is the number of multiply-adds (about 5 µs of one core)
// that each goroutine must have: waking a worker costs several
// microseconds, more on a busy machine.
const sgemmMinWork = 1 << 18

// sgemm runs the product with kernel kern, or the one sgemmPick chooses if
// kern is nil, on up to procs goroutines.
func sgemm(kern *sgemmKernel, procs int, g sgemmArgs) {
	sgemmBias(kern, procs, g, nil, false)
}

// sgemmBias is sgemm followed, tile by tile, by C += bias (a row) and then
// ReLU if relu is set, when bias is not nil.
func sgemmBias(kern *sgemmKernel, procs int, g sgemmArgs, bias []float32, relu bool) {
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
		if g.transA && sgemmNarrow(g.m, g.n) {
			sgemmTransposed(procs, g, bias, relu)
			return
		}
		kern = sgemmPick(g.m, g.n, procs)
	}
	j := newJob()
	j.sgemmArgs = g
	j.bias, j.relu = bias, relu
	j.kern = kern
	j.kc = balance(g.k, kern.kc, 1)
	j.direct = sgemmDirectA(kern, g.transA, g.lda)
	j.directB = sgemmDirectB(kern, g.transB, g.m)
	j.tm, j.tn = sgemmGrid(kern, g.m, g.n, g.k, procs, j.direct)
	j.next.Store(0)
	j.done.Store(0)
	j.refs.Store(1)

	if helpers := min(j.tm*j.tn, procs) - 1; helpers > 0 {
		sgemmWorkers.ensure(helpers)
		for range helpers {
			// Jobs still queued mean the workers are behind (busy with
			// other calls, or short of CPU): this goroutine then does the
			// tasks itself rather than pile up more.
			if len(sgemmWorkers.jobs) >= helpers {
				break
			}
			j.refs.Add(1)
			select {
			case sgemmWorkers.jobs <- j:
			default:
				j.refs.Add(-1)
			}
		}
	}
	ws := getSpace()
	j.work(ws)
	putSpace(ws)
	// Wait for the tasks, not for the helpers: one that wakes up late finds
	// nothing left to do, and must not hold this call up.
	<-j.finished
	j.release()
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
func sgemmTransposed(procs int, g sgemmArgs, bias []float32, relu bool) {
	ws := getSpace()
	ws.t = grow(ws.t, g.m*g.n)
	t, m, n := ws.t, g.m, g.n
	sgemm(nil, procs, sgemmArgs{!g.transB, !g.transA, n, m, g.k, g.alpha, g.b, g.ldb, g.a, g.lda, 0, t, m})
	i0, j0 := 0, 0
	if g.beta == 0 && sgemmPackT8 != nil && m >= 8 {
		// Eight columns of C at a time, transposed in registers.
		i0 = m &^ 7
		for ; j0+8 <= n; j0 += 8 {
			_, _ = t[(j0+7)*m+i0-1], g.c[(i0-1)*g.ldc+j0+7]
			sgemmPackT8(&g.c[j0], &t[j0*m], m, i0, g.ldc)
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
	putSpace(ws)
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

// balance splits n into ceil(n/limit) near-equal blocks, each rounded up
// to a multiple of unit, and returns the block size.
func balance(n, limit, unit int) int {
	blocks := (n + limit - 1) / limit
	s := (n + blocks - 1) / blocks
	return (s + unit - 1) / unit * unit
}

// sgemmGrid chooses how many row and column ranges C is split into. Each
// rectangle is a task that packs its own op(B) columns (and op(A) rows
// unless A is read in place), so more tasks cost more packing, but let a
// goroutine that is ahead take over from one that is late: procs, twice or
// four times as many tasks are weighed by the estimated time of the whole,
// with sgemmImbalance of a task's time for the goroutines' uneven finish.
func sgemmGrid(kern *sgemmKernel, m, n, k, procs int, direct bool) (tm, tn int) {
	mu := (m + kern.mr - 1) / kern.mr // row tiles
	nu := (n + kern.nr - 1) / kern.nr // column tiles
	p := min(procs, m*n*k/sgemmMinWork, mu*nu)
	if p <= 1 {
		return 1, 1
	}
	// The cost of a value packed, in multiply-adds. A read in place costs
	// only when it comes from memory rather than from the caches.
	packB, packA := 16.0, 16.0
	if direct {
		packA = 1
		if m*k > sgemmCacheFloats {
			packA = 12
		}
	}
	tm, tn = 1, 1
	best := -1.0
	for t := p; t <= 4*p && t <= mu*nu && m*n*k/t >= sgemmMinWork/2; t *= 2 {
		for a := 1; a <= t; a++ {
			b := t / a
			if a*b != t || a > mu || b > nu {
				continue
			}
			rows := (mu + a - 1) / a * kern.mr
			cols := (nu + b - 1) / b * kern.nr
			colBlocks := (cols + kern.nc - 1) / kern.nc
			task := float64(rows*cols*k) + packB*float64(k*cols) + packA*float64(rows*k*colBlocks)
			est := float64(t)*task/float64(p) + task*sgemmImbalance
			if best < 0 || est < best {
				best, tm, tn = est, a, b
			}
		}
	}
	return tm, tn
}

// sgemmCacheFloats is about what the last-level cache holds, in floats.
const sgemmCacheFloats = 4 << 20

// sgemmImbalance is the expected idle time at the end of a parallel
// product, as a fraction of a task: the price of coarse tasks. A variable
// so that it can be tuned.
var sgemmImbalance = 0.125

// sgemmDirect overrides sgemmDirectA and sgemmDirectB when non-zero: 1
// never reads A or B in place, 2 always does (when the kernel can). For
// tests and tuning.
var sgemmDirect = 0

// sgemmDirectA reports whether to read op(A) in place rather than pack it.
// The kernels read A in place about as fast as packed, or faster when a
// panel of A serves few column tiles, and packing costs a copy. The
// exception is a row-major A whose rows would crowd into a few L1 sets (a
// power-of-two stride): the tile's rows then evict one another.
func sgemmDirectA(kern *sgemmKernel, transA bool, lda int) bool {
	if kern.tileA == nil {
		return false
	}
	switch sgemmDirect {
	case 1:
		return false
	case 2:
		return true
	}
	if transA {
		return true
	}
	// L1: 64 sets of 64-byte lines, 8 ways.
	var perSet [64]int
	for i := 0; i < kern.mr; i++ {
		set := (i * lda * 4 / 64) % 64
		if perSet[set]++; perSet[set] > 6 {
			return false
		}
	}
	return true
}

// sgemmDirectB reports whether to read op(B) in place rather than pack it:
// when B is not transposed (its rows are the kernel's) and C has so few
// rows that each panel of B serves one or two tiles.
func sgemmDirectB(kern *sgemmKernel, transB bool, m int) bool {
	if kern.tileA == nil || transB {
		return false
	}
	switch sgemmDirect {
	case 1:
		return false
	case 2:
		return true
	}
	return m <= 2*kern.mr
}

// sgemmForce, if not nil, is the kernel sgemmPick returns. For tuning.
var sgemmForce *sgemmKernel

// sgemmPick chooses the kernel for an m×n product on procs goroutines:
// the one with the least work per goroutine, counting the padding of edge
// tiles and how many tiles there are to share. Ties go to the earlier
// kernel. All assembly kernels give the same bits, so the choice is free.
func sgemmPick(m, n, procs int) *sgemmKernel {
	if sgemmForce != nil {
		return sgemmForce
	}
	var best *sgemmKernel
	bestCost := 0.0
	for _, k := range sgemmKernels {
		mu, nu := (m+k.mr-1)/k.mr, (n+k.nr-1)/k.nr
		cost := float64(mu*k.mr*nu*k.nr) / float64(max(1, min(procs, mu*nu)))
		if best == nil || cost < 0.875*bestCost {
			best, bestCost = k, cost
		}
	}
	return best
}

// split returns the t-th of parts near-equal ranges of [0, n), cut at
// multiples of unit.
func split(n, unit, parts, t int) (lo, hi int) {
	units := (n + unit - 1) / unit
	lo = min(n, t*units/parts*unit)
	hi = min(n, (t+1)*units/parts*unit)
	return lo, hi
}

// sgemmJob is one Sgemm call shared by the goroutines working on it. Its
// tasks are the tm×tn rectangles of C, claimed through next.
type sgemmJob struct {
	sgemmArgs
	kern     *sgemmKernel
	kc       int
	tm, tn   int
	direct   bool          // read A in place rather than packing it
	directB  bool          // read B in place rather than packing it
	bias     []float32     // if not nil, added to each row of C at the end
	relu     bool          // with bias: then clamp C at zero
	next     atomic.Int64  // the next task to claim
	done     atomic.Int64  // tasks finished
	refs     atomic.Int64  // goroutines holding the job; the last one recycles it
	finished chan struct{} // receives once all tasks are done
}

// sgemmJobs holds recycled jobs. It is a channel rather than a sync.Pool
// because the last holder of a job is often a worker, and a sync.Pool
// would keep it in that worker's P, out of the caller's reach.
var sgemmJobs = make(chan *sgemmJob, 64)

func newJob() *sgemmJob {
	select {
	case j := <-sgemmJobs:
		return j
	default:
		return &sgemmJob{finished: make(chan struct{}, 1)}
	}
}

// work runs tasks until none is left to claim. Whoever finishes the last
// task signals finished.
func (j *sgemmJob) work(ws *sgemmWorkspace) {
	tasks := int64(j.tm * j.tn)
	for {
		t := j.next.Add(1) - 1
		if t >= tasks {
			return
		}
		i0, i1 := split(j.m, j.kern.mr, j.tm, int(t)/j.tn)
		j0, j1 := split(j.n, j.kern.nr, j.tn, int(t)%j.tn)
		if i0 < i1 && j0 < j1 {
			j.block(ws, i0, i1, j0, j1)
		}
		if j.done.Add(1) == tasks {
			j.finished <- struct{}{}
		}
	}
}

// release drops one goroutine's hold on the job; the last one returns it
// to the pool, without the references to the caller's slices.
func (j *sgemmJob) release() {
	if j.refs.Add(-1) == 0 {
		j.sgemmArgs, j.bias = sgemmArgs{}, nil
		select {
		case sgemmJobs <- j:
		default: // enough are kept
		}
	}
}

// sgemmWorkspace holds one goroutine's packing buffers; they grow to the
// largest block seen and are kept.
type sgemmWorkspace struct {
	a, b []float32
	t    []float32 // Cᵀ for sgemmTransposed
	tmp  [maxTile]float32
}

// sgemmSpaces holds the workspaces of calling goroutines between calls. A
// channel, like sgemmJobs: a sync.Pool would miss whenever the caller has
// moved to another P since, and allocate.
var sgemmSpaces = make(chan *sgemmWorkspace, 64)

func getSpace() *sgemmWorkspace {
	select {
	case ws := <-sgemmSpaces:
		return ws
	default:
		return new(sgemmWorkspace)
	}
}

func putSpace(ws *sgemmWorkspace) {
	select {
	case sgemmSpaces <- ws:
	default: // enough are kept
	}
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// block computes the rectangle C[i0:i1, j0:j1] with the GotoBLAS loops.
func (j *sgemmJob) block(ws *sgemmWorkspace, i0, i1, j0, j1 int) {
	kern := j.kern
	mr, nr := kern.mr, kern.nr
	kc0 := j.kc
	mc0 := balance(i1-i0, kern.mc, mr)
	nc0 := balance(j1-j0, kern.nc, nr)
	ws.a = grow(ws.a, min(kc0, j.k)*mc0)
	ws.b = grow(ws.b, min(kc0, j.k)*nc0)
	for jc := j0; jc < j1; jc += nc0 {
		nc := min(nc0, j1-jc)
		for pc := 0; pc < j.k; pc += kc0 {
			kc := min(kc0, j.k-pc)
			beta := j.beta
			if pc > 0 {
				beta = 1
			}
			if !j.directB {
				packB(ws.b, j.b, j.ldb, j.transB, pc, kc, jc, nc, nr)
			} else if full := nc / nr * nr; full < nc && !j.insideB(jc+full, pc, kc) {
				packB(ws.b, j.b, j.ldb, j.transB, pc, kc, jc+full, nc-full, nr)
			}
			for ic := i0; ic < i1; ic += mc0 {
				mc := min(mc0, i1-ic)
				if j.direct {
					// Panels are read in place. A last, partial one is too
					// if its rows past the edge are still inside the slice
					// (they only feed tile rows that are dropped); else it
					// is packed.
					if full := mc / mr * mr; full < mc && !j.inside(ic+full, pc, kc) {
						packA(ws.a, j.a, j.lda, j.transA, ic+full, mc-full, pc, kc, mr)
					}
				} else {
					packA(ws.a, j.a, j.lda, j.transA, ic, mc, pc, kc, mr)
				}
				j.macro(ws, kc, pc, ic, mc, jc, nc, beta)
			}
		}
	}
}

// macro runs the micro-kernel over the mc×kc block of op(A) at (ic, pc)
// and the packed kc×nc block of op(B), updating C[ic:ic+mc, jc:jc+nc].
// Normally a column panel of B stays in L1 while the row panels of A, kept
// in L2, go by (BLIS order). When A is read in place and the block of B
// fits in L2, a row panel of A stays in L1 instead, so that its first, slow
// read from memory serves the whole row of tiles.
func (j *sgemmJob) macro(ws *sgemmWorkspace, kc, pc, ic, mc, jc, nc int, beta float32) {
	mr, nr := j.kern.mr, j.kern.nr
	if j.direct && kc*nc <= sgemmL2Floats {
		for ir := 0; ir < mc; ir += mr {
			for jr := 0; jr < nc; jr += nr {
				j.tile(ws, kc, pc, ic, ir, mc, jc, jr, nc, beta)
			}
		}
		return
	}
	for jr := 0; jr < nc; jr += nr {
		for ir := 0; ir < mc; ir += mr {
			j.tile(ws, kc, pc, ic, ir, mc, jc, jr, nc, beta)
		}
	}
}

// sgemmL2Floats is the packed block of B, in floats, that may stay in L2
// (half of a 1 MiB L2, leaving room for A and C).
const sgemmL2Floats = 128 << 10

// tile updates the tile at row ic+ir, column jc+jr of C.
func (j *sgemmJob) tile(ws *sgemmWorkspace, kc, pc, ic, ir, mc, jc, jr, nc int, beta float32) {
	kern := j.kern
	mr, nr := kern.mr, kern.nr
	c, ldc, alpha := j.c, j.ldc, j.alpha
	h, w := min(mr, mc-ir), min(nr, nc-jr)
	off := (ic+ir)*ldc + jc + jr

	// Where the kernel reads: op(A)'s element (i, p) at as[i·rsa + p·csa],
	// op(B)'s row p at bs[p·ldb].
	as, rsa, csa := ws.a[ir*kc:(ir+mr)*kc], 1, mr
	switch {
	case j.direct && (h == mr || j.inside(ic+ir, pc, kc)):
		rsa, csa = j.lda, 1
		if j.transA {
			rsa, csa = 1, j.lda
		}
		as = j.a[(ic+ir)*rsa+pc*csa:]
	case j.direct: // a last, partial panel, packed at the start of ws.a
		as = ws.a[:mr*kc]
	}
	bs, ldb := ws.b[jr*kc:(jr+nr)*kc], nr
	switch {
	case j.directB && (w == nr || j.insideB(jc+jr, pc, kc)):
		bs, ldb = j.b[pc*j.ldb+jc+jr:], j.ldb
	case j.directB: // a last, partial panel, packed at the start of ws.b
		bs = ws.b[:nr*kc]
	}
	packed := rsa == 1 && csa == mr && ldb == nr

	if h == mr && w == nr {
		if packed {
			kern.tile(kc, as, bs, c[off:], ldc, alpha, beta)
		} else {
			kern.tileA(kc, as, rsa, csa, bs, ldb, c[off:], ldc, alpha, beta)
		}
		if j.bias != nil && pc+kc == j.k {
			biasTile(c[off:], ldc, h, w, j.bias[jc+jr:], j.relu)
		}
		return
	}
	// An edge tile goes through a scratch tile, so that it gets exactly the
	// arithmetic of a whole one.
	t := ws.tmp[:mr*nr]
	if beta != 0 {
		for i := 0; i < h; i++ {
			copyShort(t[i*nr:i*nr+w], c[off+i*ldc:off+i*ldc+w])
		}
	}
	if packed {
		kern.tile(kc, as, bs, t, nr, alpha, beta)
	} else {
		kern.tileA(kc, as, rsa, csa, bs, ldb, t, nr, alpha, beta)
	}
	if j.bias != nil && pc+kc == j.k {
		biasTile(t, nr, h, w, j.bias[jc+jr:], j.relu)
	}
	for i := 0; i < h; i++ {
		copyShort(c[off+i*ldc:off+i*ldc+w], t[i*nr:i*nr+w])
	}
}

// copyShort is copy for the short rows of an edge tile, where a call to
// memmove costs more than the copy.
func copyShort(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = v
	}
}

// inside reports whether a whole panel of mr rows of op(A) from row i,
// columns pc to pc+kc, lies inside the slice a, even past row m.
func (j *sgemmJob) inside(i, pc, kc int) bool {
	last := (i+j.kern.mr-1)*j.lda + pc + kc - 1
	if j.transA {
		last = (pc+kc-1)*j.lda + i + j.kern.mr - 1
	}
	return last < len(j.a)
}

// insideB reports whether a whole panel of nr columns of op(B) from column
// jj, rows pc to pc+kc, lies inside the slice b, even past column n. B is
// read in place only when it is not transposed.
func (j *sgemmJob) insideB(jj, pc, kc int) bool {
	return (pc+kc-1)*j.ldb+jj+j.kern.nr-1 < len(j.b)
}

// biasTile adds bias[:w] to each of the h rows of the tile at c and, if
// relu is set, clamps at zero as AddBiasReLURef does.
func biasTile(c []float32, ldc, h, w int, bias []float32, relu bool) {
	bias = bias[:w]
	for i := 0; i < h; i++ {
		row := c[i*ldc : i*ldc+w]
		if relu {
			for j, b := range bias {
				if v := row[j] + b; v < 0 {
					row[j] = 0
				} else {
					row[j] = v
				}
			}
		} else {
			for j, b := range bias {
				row[j] += b
			}
		}
	}
}
