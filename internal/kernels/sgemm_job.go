package kernels

// sgemmJob is one product cut into tm×tn rectangles of C: the tasks of a
// region of the pool, or of a loop on the calling goroutine.
type sgemmJob struct {
	sgemmArgs
	kern    *sgemmKernel
	kc      int
	tm, tn  int
	direct  bool              // read A in place rather than packing it
	directB bool              // read B in place rather than packing it
	aEdge   []float32         // if not nil, op(A)'s last, partial panel packed over all of K (see packEdge)
	bias    []float32         // if not nil, added to each row of C at the end
	relu    bool              // with bias: then clamp C at zero
	spaces  []*sgemmWorkspace // in a region, the workspace of each goroutine
}

// task computes task t on goroutine w of a region.
func (j *sgemmJob) task(t, w int) { j.run(j.spaces[w], t) }

// run computes rectangle t of C with workspace ws.
func (j *sgemmJob) run(ws *sgemmWorkspace, t int) {
	i0, i1 := split(j.m, j.kern.mr, j.tm, t/j.tn)
	j0, j1 := split(j.n, j.kern.nr, j.tn, t%j.tn)
	if i0 < i1 && j0 < j1 {
		j.block(ws, i0, i1, j0, j1)
	}
}

// sgemmWorkspace holds one goroutine's packing buffers; they grow to the
// largest block seen and are kept.
type sgemmWorkspace struct {
	a, b []float32
	t    []float32 // Cᵀ for sgemmTransposed
	edge []float32 // op(A)'s last, partial panel for a region's tasks (packEdge)
	tmp  [maxTile]float32
}

// sgemmSpaces holds the workspaces of serial products between calls. A
// channel rather than a sync.Pool, which would miss whenever the caller has
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

// packEdge packs op(A)'s last panel, when A is read in place but that
// panel has fewer than mr rows and would be read past the end of a, into
// ws.edge over all of K, once for the tasks of a region, each of which
// would otherwise pack it for every pass over K: with C cut into columns,
// 128 rows on the 12-row kernel made that 4% of the MLP's inference.
func (j *sgemmJob) packEdge(ws *sgemmWorkspace) {
	mr := j.kern.mr
	r := j.m % mr
	if !j.direct || r == 0 || j.inside(j.m-r, 0, j.k) {
		return
	}
	ws.edge = grow(ws.edge, mr*j.k)
	j.kern.packA(ws.edge, j.a, j.lda, j.transA, j.m-r, r, 0, j.k, mr)
	j.aEdge = ws.edge
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
				kern.packB(ws.b, j.b, j.ldb, j.transB, pc, kc, jc, nc, nr)
			} else if full := nc / nr * nr; full < nc && !j.insideB(jc+full, pc, kc) {
				kern.packB(ws.b, j.b, j.ldb, j.transB, pc, kc, jc+full, nc-full, nr)
			}
			for ic := i0; ic < i1; ic += mc0 {
				mc := min(mc0, i1-ic)
				if j.direct {
					// Panels are read in place. A last, partial one is too
					// if its rows past the edge are still inside the slice
					// (they only feed tile rows that are dropped); else it
					// is packed.
					if full := mc / mr * mr; full < mc && j.aEdge == nil && !j.inside(ic+full, pc, kc) {
						kern.packA(ws.a, j.a, j.lda, j.transA, ic+full, mc-full, pc, kc, mr)
					}
				} else {
					kern.packA(ws.a, j.a, j.lda, j.transA, ic, mc, pc, kc, mr)
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
	case j.direct && j.aEdge != nil: // a last, partial panel, packed by packEdge
		as = j.aEdge[pc*mr : (pc+kc)*mr]
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
// relu is set, clamps at zero as AddBiasReLURef does. It runs the active
// set's addBias: a clamp written as a branch in Go mispredicts on about
// half the values, which cost as much as a third of a forward pass.
func biasTile(c []float32, ldc, h, w int, bias []float32, relu bool) {
	active.addBias(c, bias[:w], h, ldc, relu)
}
