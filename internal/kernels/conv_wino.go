package kernels

import "unsafe"

// Winograd F(2×2, 3×3) for the 3×3, stride 1, pad 1 convolution on NHWC
// (Lavin and Gray, 2015). The output is cut into 2×2 tiles; each reads a
// 4×4 input patch, and for each of the 16 patch positions ξ
//
//	V_ξ = (Bᵀ·d·B)_ξ      (tiles × cin, the input transform)
//	M_ξ = V_ξ · U_ξ       (tiles × cout, a GEMM; U = G·g·Gᵀ, cin × cout)
//	y   = Aᵀ·M·A          (the 2×2 output of each tile, the output transform)
//
// which is 16 multiplies per tile, channel pair and image where im2col
// makes 36: 2.25 times fewer flops at even sizes. The backward pass is the
// adjoint of each step: dM = A·dy·Aᵀ, dU_ξ = V_ξᵀ·dM_ξ (then dW = Gᵀ·dU·G)
// and dV_ξ = dM_ξ·U_ξᵀ (then dx += B·dV·Bᵀ, patches overlapping).
//
// The batch is cut into chunks of whole images, about winoChunkTiles tiles
// each, so that V and M of one chunk stay in cache between the transforms
// and the 16 GEMMs; a chunk is one task, and a goroutine runs its GEMMs
// serially. The forward pass has a task per chunk. The backward pass sums
// dU and db over the batch: it has a task per group of chunks, each group
// sums its chunks in order into its own partial, and the partials are added
// in group order, so the bits depend only on the shapes.
//
// The transforms add in a fixed order (written out in the Go code), which
// the assembly follows, so both give the same bits.

// winoChunkTiles is the number of tiles a chunk aims at. U_ξ (cin × cout)
// is packed once per GEMM, so chunks much smaller than ~300 tiles spend a
// growing share packing; larger ones leave the caches.
const winoChunkTiles = 192

// winoMaxGroups caps the backward groups; winoPartialFloats caps the floats
// of their partial dU.
const (
	winoMaxGroups     = 16
	winoPartialFloats = 4 << 20
)

// winoPlan is how a shape is cut; it depends only on the shape.
type winoPlan struct {
	n, h, w, cin, cout int
	th, tw, tpi        int // tiles down, across, per image
	nb                 int // images per chunk
	chunks             int
	groups             int // backward tasks
}

// newWinoPlan cuts the shape into chunks of about tiles tiles.
func newWinoPlan(n, h, w, cin, cout, tiles int) winoPlan {
	p := winoPlan{n: n, h: h, w: w, cin: cin, cout: cout, th: (h + 1) / 2, tw: (w + 1) / 2}
	p.tpi = p.th * p.tw
	p.nb = max(1, (tiles+p.tpi/2)/max(p.tpi, 1))
	p.nb = min(p.nb, max(n, 1))
	p.chunks = (n + p.nb - 1) / p.nb
	p.groups = max(1, min(p.chunks, winoMaxGroups, winoPartialFloats/(16*cin*cout)))
	return p
}

// images returns the images [b0, b1) of chunk c.
func (p *winoPlan) images(c int) (b0, b1 int) {
	b0 = c * p.nb
	return b0, min(b0+p.nb, p.n)
}

// groupChunks returns the chunks [c0, c1) of backward group g.
func (p *winoPlan) groupChunks(g int) (c0, c1 int) {
	return g * p.chunks / p.groups, (g + 1) * p.chunks / p.groups
}

// WinogradScratch holds the buffers of WinogradConv and
// WinogradConvBackward: per goroutine, the V and M of one chunk; per
// backward group, the partial dU and db. The zero value is ready to use; it
// grows to the largest shape seen and is kept, so a layer that owns one
// allocates only on its first calls.
type WinogradScratch struct {
	work []winoWork
	zero []float32 // read as the input outside the image
	du   []float32 // groups × 16·cin·cout
	db   []float32 // groups × cout
}

type winoWork struct {
	v, m []float32 // V or dV, M or dM, of one chunk
	dump []float32 // written for output pixels outside the image
}

// prepare sizes the scratch for plan p on up to procs goroutines.
func (s *WinogradScratch) prepare(p *winoPlan, procs int) {
	tiles := p.nb * p.tpi
	c := max(p.cin, p.cout)
	for len(s.work) < procs {
		s.work = append(s.work, winoWork{})
	}
	for i := range s.work[:procs] {
		wk := &s.work[i]
		wk.v = grow(wk.v, 16*tiles*p.cin)
		wk.m = grow(wk.m, 16*tiles*p.cout)
		wk.dump = grow(wk.dump, c)
	}
	if len(s.zero) < c {
		s.zero = make([]float32, c)
	}
}

// WinogradWeights sets u (16·cin·cout, ξ-major, each ξ a cin × cout
// matrix) to G·g·Gᵀ for every channel pair, where w is a convolution
// weight ((9·cin) × cout, rows in (ky, kx, cin) order) and G is
//
//	[ 1    0    0  ]
//	[ 1/2  1/2  1/2]
//	[ 1/2 -1/2  1/2]
//	[ 0    0    1  ]
//
// applied along kx first, then ky. u must not overlap w.
func WinogradWeights(u, w []float32, cin, cout int) {
	dimCheck("WinogradWeights", cin, cout)
	lenCheck("WinogradWeights", "u", len(u), 16*cin*cout)
	lenCheck("WinogradWeights", "w", len(w), 9*cin*cout)
	cc := cin * cout
	// Planes (a tap of w, a ξ of u) are cc floats; the loops run along
	// them, one channel pair per element.
	plane := func(s []float32, k int) []float32 { return s[k*cc : (k+1)*cc] }
	// Along kx: row ky of g·Gᵀ into planes 4·ky+c of u.
	for ky := 0; ky < 3; ky++ {
		g0, g1, g2 := plane(w, 3*ky), plane(w, 3*ky+1), plane(w, 3*ky+2)
		a0, a1, a2, a3 := plane(u, 4*ky), plane(u, 4*ky+1), plane(u, 4*ky+2), plane(u, 4*ky+3)
		a0, a1, a2, a3 = a0[:len(g0)], a1[:len(g0)], a2[:len(g0)], a3[:len(g0)]
		g1, g2 = g1[:len(g0)], g2[:len(g0)]
		for i, x0 := range g0 {
			x1, x2 := g1[i], g2[i]
			a0[i] = x0
			a1[i] = float32(float32(x0+x1)+x2) * 0.5
			a2[i] = float32(float32(x0-x1)+x2) * 0.5
			a3[i] = x2
		}
	}
	// Along ky, in place: rows 1 to 3 of u from rows 0 to 2 of g·Gᵀ; row 0
	// is row 0 already.
	for c := 0; c < 4; c++ {
		a0, a1, a2, a3 := plane(u, c), plane(u, 4+c), plane(u, 8+c), plane(u, 12+c)
		a1, a2, a3 = a1[:len(a0)], a2[:len(a0)], a3[:len(a0)]
		for i, x0 := range a0 {
			x1, x2 := a1[i], a2[i]
			a1[i] = float32(float32(x0+x1)+x2) * 0.5
			a2[i] = float32(float32(x0-x1)+x2) * 0.5
			a3[i] = x2
		}
	}
}

// WinogradWeightsGrad is the adjoint of WinogradWeights: it sets the
// weight gradient dw = Gᵀ·du·G ((9·cin) × cout) from the gradient du with
// respect to u, along ξ's column first, then its row. dw must not overlap
// du.
func WinogradWeightsGrad(dw, du []float32, cin, cout int) {
	dimCheck("WinogradWeightsGrad", cin, cout)
	lenCheck("WinogradWeightsGrad", "dw", len(dw), 9*cin*cout)
	lenCheck("WinogradWeightsGrad", "du", len(du), 16*cin*cout)
	cc := cin * cout
	plane := func(s []float32, k int) []float32 { return s[k*cc : (k+1)*cc] }
	// Along the columns: a[r][kx] for rows r < 3 into planes 3·r+kx of dw.
	for r := 0; r < 3; r++ {
		d0, d1, d2, d3 := plane(du, 4*r), plane(du, 4*r+1), plane(du, 4*r+2), plane(du, 4*r+3)
		d1, d2, d3 = d1[:len(d0)], d2[:len(d0)], d3[:len(d0)]
		o0, o1, o2 := plane(dw, 3*r), plane(dw, 3*r+1), plane(dw, 3*r+2)
		o0, o1, o2 = o0[:len(d0)], o1[:len(d0)], o2[:len(d0)]
		for i, u0 := range d0 {
			u1, u2, u3 := d1[i], d2[i], d3[i]
			o0[i] = u0 + float32(u1+u2)*0.5
			o1[i] = float32(u1-u2) * 0.5
			o2[i] = float32(float32(u1+u2)*0.5) + u3
		}
	}
	// Along the rows, in place, with a[3][kx] computed on the way.
	d0, d1, d2, d3 := plane(du, 12), plane(du, 13), plane(du, 14), plane(du, 15)
	d1, d2, d3 = d1[:len(d0)], d2[:len(d0)], d3[:len(d0)]
	for kx := 0; kx < 3; kx++ {
		o0, o1, o2 := plane(dw, kx), plane(dw, 3+kx), plane(dw, 6+kx)
		o1, o2 = o1[:len(o0)], o2[:len(o0)]
		d0 := d0[:len(o0)]
		for i, a0 := range o0 {
			a1, a2 := o1[i], o2[i]
			u0, u1, u2, u3 := d0[i], d1[i], d2[i], d3[i]
			var a3 float32 // Gᵀ's row kx on row 3 of du
			switch kx {
			case 0:
				a3 = u0 + float32(u1+u2)*0.5
			case 1:
				a3 = float32(u1-u2) * 0.5
			default:
				a3 = float32(float32(u1+u2)*0.5) + u3
			}
			o0[i] = a0 + float32(a1+a2)*0.5
			o1[i] = float32(a1-a2) * 0.5
			o2[i] = float32(float32(a1+a2)*0.5) + a3
		}
	}
}

// WinogradConv sets y (n, h, w, cout) to the convolution of x (n, h, w,
// cin) with the weight whose transform is u (see WinogradWeights), plus
// bias (nil for none), clamped at zero if relu is set. It matches a direct
// convolution to rounding, not to the bit. s is the caller's scratch.
func WinogradConv(y, x, u, bias []float32, n, h, w, cin, cout int, relu bool, s *WinogradScratch) {
	std().WinogradConv(y, x, u, bias, n, h, w, cin, cout, relu, s)
}

func (e exec) WinogradConv(y, x, u, bias []float32, n, h, w, cin, cout int, relu bool, s *WinogradScratch) {
	const fn = "WinogradConv"
	dimCheck(fn, n, h, w, cin, cout)
	lenCheck(fn, "y", len(y), n*h*w*cout)
	lenCheck(fn, "x", len(x), n*h*w*cin)
	lenCheck(fn, "u", len(u), 16*cin*cout)
	if bias != nil {
		lenCheck(fn, "bias", len(bias), cout)
	}
	if n*h*w*cout == 0 {
		return
	}
	if cin == 0 { // the bias alone
		for r := 0; r < n*h*w; r++ {
			for c := range cout {
				var v float32
				if bias != nil {
					v = bias[c]
				}
				if relu && v < 0 {
					v = 0
				}
				y[r*cout+c] = v
			}
		}
		return
	}
	p := newWinoPlan(n, h, w, cin, cout, e.winoTiles)
	procs := min(e.procs, p.chunks)
	s.prepare(&p, max(procs, 1))
	j := winoFwdJob{k: e.k, pool: e.pool, p: p, y: y, x: x, u: u, bias: bias, relu: relu, s: s}
	if !parRunN(e, &e.pool.slots.winoFwd, j, p.chunks, n*h*w*cin*cout, procs) {
		j.gemm = getSpace()
		for c := 0; c < p.chunks; c++ {
			j.task(c, 0)
		}
		putSpace(j.gemm)
	}
}

// WinogradConvBackward is the gradient of WinogradConv. From dy (and y
// when relu is set, to mask dy where y is not positive) it sets du, the
// gradient with respect to u (16·cin·cout; WinogradWeightsGrad turns it
// into the weight gradient), db (cout, unless nil) and dx (n, h, w, cin,
// unless nil). x and u are the forward pass's. s is the caller's scratch.
func WinogradConvBackward(dx, du, db, dy, y, x, u []float32, n, h, w, cin, cout int, relu bool, s *WinogradScratch) {
	std().WinogradConvBackward(dx, du, db, dy, y, x, u, n, h, w, cin, cout, relu, s)
}

func (e exec) WinogradConvBackward(dx, du, db, dy, y, x, u []float32, n, h, w, cin, cout int, relu bool, s *WinogradScratch) {
	const fn = "WinogradConvBackward"
	dimCheck(fn, n, h, w, cin, cout)
	lenCheck(fn, "du", len(du), 16*cin*cout)
	lenCheck(fn, "dy", len(dy), n*h*w*cout)
	lenCheck(fn, "x", len(x), n*h*w*cin)
	lenCheck(fn, "u", len(u), 16*cin*cout)
	if relu {
		lenCheck(fn, "y", len(y), n*h*w*cout)
	}
	if db != nil {
		lenCheck(fn, "db", len(db), cout)
	}
	if dx != nil {
		lenCheck(fn, "dx", len(dx), n*h*w*cin)
	}
	if n*h*w == 0 || cin*cout == 0 {
		clear(du[:16*cin*cout])
		if db != nil {
			clear(db[:cout])
		}
		if dx != nil {
			clear(dx[:n*h*w*cin])
		}
		if db != nil && cin == 0 && n*h*w > 0 {
			// Only the bias has a gradient.
			colSumGrad(db, dy, y, n*h*w, cout, relu)
		}
		return
	}
	p := newWinoPlan(n, h, w, cin, cout, e.winoTiles)
	procs := min(e.procs, p.groups)
	s.prepare(&p, max(procs, 1))
	s.du = grow(s.du, p.groups*16*cin*cout)
	s.db = grow(s.db, p.groups*cout)
	j := winoBackJob{k: e.k, pool: e.pool, p: p, dx: dx, dy: dy, y: y, x: x, u: u, relu: relu, bias: db != nil, s: s}
	if !parRunN(e, &e.pool.slots.winoBack, j, p.groups, n*h*w*cin*cout, procs) {
		j.gemm = getSpace()
		for g := 0; g < p.groups; g++ {
			j.task(g, 0)
		}
		putSpace(j.gemm)
	}
	// Add the partials in group order, in parallel over elements.
	cc := 16 * cin * cout
	sj := winoSumJob{k: e.k, dst: du[:cc], parts: s.du, groups: p.groups}
	if !parRun(e, &e.pool.slots.winoSum, sj, parCount(parGrain, cc), p.groups*cc) {
		sj.span(0, cc)
	}
	if db != nil {
		copy(db[:cout], s.db[:cout])
		for g := 1; g < p.groups; g++ {
			e.k.axpy(db[:cout], s.db[g*cout:(g+1)*cout], 1)
		}
	}
}

// winoSumJob sets dst to the sum of the groups partials of its length
// stored one after another in parts, added in order.
type winoSumJob struct {
	k          *kset
	dst, parts []float32
	groups     int
}

func (j *winoSumJob) task(t, _ int) {
	lo, hi := parSpan(t, parGrain, len(j.dst))
	j.span(lo, hi)
}

func (j *winoSumJob) span(lo, hi int) {
	n := len(j.dst)
	copy(j.dst[lo:hi], j.parts[lo:hi])
	for g := 1; g < j.groups; g++ {
		j.k.axpy(j.dst[lo:hi], j.parts[g*n+lo:g*n+hi], 1)
	}
}

// colSumGrad sets db to the column sums of dy, masked by y > 0 if relu.
func colSumGrad(db, dy, y []float32, rows, cols int, relu bool) {
	clear(db[:cols])
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			if v := dy[r*cols+c]; !relu || y[r*cols+c] > 0 {
				db[c] += v
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

// winoPatch fills p with the 16 input pixels of tile (ty, tx) of image b
// (zero outside the image), row-major over the 4×4 patch.
func winoPatch(p *[16]*float32, x []float32, zero *float32, b, ty, tx, h, w, c int) {
	for i := 0; i < 4; i++ {
		iy := 2*ty - 1 + i
		for j := 0; j < 4; j++ {
			ix := 2*tx - 1 + j
			if iy >= 0 && iy < h && ix >= 0 && ix < w {
				p[4*i+j] = &x[((b*h+iy)*w+ix)*c]
			} else {
				p[4*i+j] = zero
			}
		}
	}
}

// winoQuad fills q with the 2×2 output pixels of tile (ty, tx) of image b,
// or other (a dump or a zero vector) outside the image.
func winoQuad(q *[4]*float32, y []float32, other *float32, b, ty, tx, h, w, c int) {
	for i := 0; i < 2; i++ {
		oy := 2*ty + i
		for j := 0; j < 2; j++ {
			ox := 2*tx + j
			if oy < h && ox < w {
				q[2*i+j] = &y[((b*h+oy)*w+ox)*c]
			} else {
				q[2*i+j] = other
			}
		}
	}
}

type winoFwdJob struct {
	k       *kset
	pool    *parPool
	gemm    *sgemmWorkspace // when the tasks run in a loop on the caller
	p       winoPlan
	y, x, u []float32
	bias    []float32
	relu    bool
	s       *WinogradScratch
}

// task computes the output of chunk c on goroutine w.
func (j *winoFwdJob) task(c, w int) {
	ws := gemmSpace(j.pool, j.gemm, w)
	p := &j.p
	wk := &j.s.work[w]
	b0, b1 := p.images(c)
	tiles := (b1 - b0) * p.tpi
	ldv, ldm := tiles*p.cin, tiles*p.cout
	v, m := wk.v[:16*ldv], wk.m[:16*ldm]
	zero := &j.s.zero[0]
	var src [16]*float32
	t := 0
	for b := b0; b < b1; b++ {
		for ty := 0; ty < p.th; ty++ {
			for tx := 0; tx < p.tw; tx++ {
				winoPatch(&src, j.x, zero, b, ty, tx, p.h, p.w, p.cin)
				j.k.winoIn(v[t*p.cin:], ldv, src, p.cin)
				t++
			}
		}
	}
	cc := p.cin * p.cout
	for xi := 0; xi < 16; xi++ {
		gemm1(ws, false, false, tiles, p.cout, p.cin, v[xi*ldv:], p.cin, j.u[xi*cc:], p.cout, 0, m[xi*ldm:], p.cout)
	}
	var dst [4]*float32
	t = 0
	for b := b0; b < b1; b++ {
		for ty := 0; ty < p.th; ty++ {
			for tx := 0; tx < p.tw; tx++ {
				winoQuad(&dst, j.y, &wk.dump[0], b, ty, tx, p.h, p.w, p.cout)
				j.k.winoOut(dst, m[t*p.cout:], ldm, j.bias, p.cout, j.relu)
				t++
			}
		}
	}
}

type winoBackJob struct {
	k            *kset
	pool         *parPool
	gemm         *sgemmWorkspace // when the tasks run in a loop on the caller
	p            winoPlan
	dx, dy, y, x []float32
	u            []float32
	relu, bias   bool
	s            *WinogradScratch
}

// task computes group g on goroutine w: its partial dU and db, and dx for
// its images.
func (j *winoBackJob) task(g, w int) {
	ws := gemmSpace(j.pool, j.gemm, w)
	p := &j.p
	wk := &j.s.work[w]
	cc := p.cin * p.cout
	du := j.s.du[g*16*cc : (g+1)*16*cc]
	var db []float32
	if j.bias {
		db = j.s.db[g*p.cout : (g+1)*p.cout]
		clear(db)
	}
	zero := &j.s.zero[0]
	c0, c1 := p.groupChunks(g)
	for c := c0; c < c1; c++ {
		b0, b1 := p.images(c)
		tiles := (b1 - b0) * p.tpi
		ldv, ldm := tiles*p.cin, tiles*p.cout
		v, m := wk.v[:16*ldv], wk.m[:16*ldm]
		// dM = A·dz·Aᵀ, with db += dz on the way.
		var gy, yy [4]*float32
		t := 0
		for b := b0; b < b1; b++ {
			for ty := 0; ty < p.th; ty++ {
				for tx := 0; tx < p.tw; tx++ {
					winoQuad(&gy, j.dy, zero, b, ty, tx, p.h, p.w, p.cout)
					if j.relu {
						winoQuad(&yy, j.y, zero, b, ty, tx, p.h, p.w, p.cout)
					}
					j.k.winoGradOut(m[t*p.cout:], ldm, gy, yy, db, p.cout, j.relu)
					t++
				}
			}
		}
		// V of the chunk, then dU += Vᵀ·dM.
		var src [16]*float32
		t = 0
		for b := b0; b < b1; b++ {
			for ty := 0; ty < p.th; ty++ {
				for tx := 0; tx < p.tw; tx++ {
					winoPatch(&src, j.x, zero, b, ty, tx, p.h, p.w, p.cin)
					j.k.winoIn(v[t*p.cin:], ldv, src, p.cin)
					t++
				}
			}
		}
		beta := float32(1)
		if c == c0 {
			beta = 0
		}
		for xi := 0; xi < 16; xi++ {
			gemm1(ws, true, false, p.cin, p.cout, tiles, v[xi*ldv:], p.cin, m[xi*ldm:], p.cout, beta, du[xi*cc:], p.cout)
		}
		if j.dx == nil {
			continue
		}
		// dV = dM·Uᵀ over V, then dx = Σ B·dV·Bᵀ.
		for xi := 0; xi < 16; xi++ {
			gemm1(ws, false, true, tiles, p.cin, p.cout, m[xi*ldm:], p.cout, j.u[xi*cc:], p.cout, 0, v[xi*ldv:], p.cin)
		}
		// Tiles go in row-major order, so a pixel is first reached at patch
		// row i ≥ 2 (or in the first tile row) and column j ≥ 2 (or in the
		// first tile column): there it is set, elsewhere added to, and dx
		// needs no clearing.
		dump := &wk.dump[0]
		var acc [16]*float32
		t = 0
		for b := b0; b < b1; b++ {
			for ty := 0; ty < p.th; ty++ {
				for tx := 0; tx < p.tw; tx++ {
					winoPatch(&src, j.dx, dump, b, ty, tx, p.h, p.w, p.cin)
					for k, q := range src {
						acc[k] = q
						if q == dump || (k/4 >= 2 || ty == 0) && (k%4 >= 2 || tx == 0) {
							acc[k] = zero
						}
					}
					j.k.winoGradIn(src, acc, v[t*p.cin:], ldv, p.cin)
					t++
				}
			}
		}
	}
}

// vec views c floats at p.
func vec(p *float32, c int) []float32 { return unsafe.Slice(p, c) }

// winoInGo writes V_ξ (v[ξ·ld : ξ·ld+c]) of one tile from its 16 input
// pixels, Bᵀ·d·B with Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], down
// the patch's columns first (patch row r of the result from its rows),
// then along its rows.
func winoInGo(v []float32, ld int, src [16]*float32, c int) {
	var d [16][]float32
	for k, s := range src {
		d[k] = vec(s, c)
	}
	_ = v[15*ld+c-1]
	for i := 0; i < c; i++ {
		for r := 0; r < 4; r++ {
			var t [4]float32
			for col := 0; col < 4; col++ {
				d0, d1, d2, d3 := d[col][i], d[4+col][i], d[8+col][i], d[12+col][i]
				switch r {
				case 0:
					t[col] = d0 - d2
				case 1:
					t[col] = d1 + d2
				case 2:
					t[col] = d2 - d1
				case 3:
					t[col] = d1 - d3
				}
			}
			v[(4*r)*ld+i] = t[0] - t[2]
			v[(4*r+1)*ld+i] = t[1] + t[2]
			v[(4*r+2)*ld+i] = t[2] - t[1]
			v[(4*r+3)*ld+i] = t[1] - t[3]
		}
	}
}

// winoOutGo writes the 2×2 outputs of one tile, Aᵀ·M·A with
// Aᵀ = [1 1 1 0; 0 1 -1 -1] (down the columns first), plus the bias (nil
// for none), clamped at zero if relu.
func winoOutGo(dst [4]*float32, m []float32, ld int, bias []float32, c int, relu bool) {
	var o [4][]float32
	for k, p := range dst {
		o[k] = vec(p, c)
	}
	bs := bias
	if bs != nil {
		bs = bs[:c]
	}
	_ = m[15*ld+c-1]
	for i := 0; i < c; i++ {
		for r := 0; r < 2; r++ {
			var s [4]float32
			for col := 0; col < 4; col++ {
				m0, m1, m2, m3 := m[col*ld+i], m[(4+col)*ld+i], m[(8+col)*ld+i], m[(12+col)*ld+i]
				if r == 0 {
					s[col] = float32(m0+m1) + m2
				} else {
					s[col] = float32(m1-m2) - m3
				}
			}
			y0 := float32(s[0]+s[1]) + s[2]
			y1 := float32(s[1]-s[2]) - s[3]
			if bs != nil {
				y0 += bs[i]
				y1 += bs[i]
			}
			if relu {
				if y0 < 0 {
					y0 = 0
				}
				if y1 < 0 {
					y1 = 0
				}
			}
			o[2*r][i] = y0
			o[2*r+1][i] = y1
		}
	}
}

// winoGradOutGo writes dM_ξ (m[ξ·ld : ξ·ld+c]) of one tile, A·dz·Aᵀ with
// A = [1 0; 1 1; 1 -1; 0 -1] (down the columns first), where dz is dy
// masked by y > 0 when relu is set. It adds the four dz to db (nil for
// none) in order.
func winoGradOutGo(m []float32, ld int, dy, y [4]*float32, db []float32, c int, relu bool) {
	var g, yv [4][]float32
	for k := range dy {
		g[k] = vec(dy[k], c)
		if relu {
			yv[k] = vec(y[k], c)
		}
	}
	_ = m[15*ld+c-1]
	for i := 0; i < c; i++ {
		var e [4]float32
		for k := range e {
			e[k] = g[k][i]
			if relu && !(yv[k][i] > 0) {
				e[k] = 0
			}
		}
		if db != nil {
			db[i] = float32(float32(float32(db[i]+e[0])+e[1])+e[2]) + e[3]
		}
		// Down the columns: q[r][j] from e[0][j], e[1][j].
		var q [4][2]float32
		for jj := 0; jj < 2; jj++ {
			e0, e1 := e[jj], e[2+jj]
			q[0][jj] = e0
			q[1][jj] = e0 + e1
			q[2][jj] = e0 - e1
			q[3][jj] = -e1
		}
		for r := 0; r < 4; r++ {
			q0, q1 := q[r][0], q[r][1]
			m[(4*r)*ld+i] = q0
			m[(4*r+1)*ld+i] = q0 + q1
			m[(4*r+2)*ld+i] = q0 - q1
			m[(4*r+3)*ld+i] = -q1
		}
	}
}

// winoGradInGo sets the 16 input pixels of one tile (dst, row-major over
// the patch) to acc + B·dV·Bᵀ, down the columns first; acc[k] is dst[k]
// to add to it, or a zero vector to set it.
func winoGradInGo(dst, acc [16]*float32, v []float32, ld int, c int) {
	var o, a [16][]float32
	for k, p := range dst {
		o[k], a[k] = vec(p, c), vec(acc[k], c)
	}
	_ = v[15*ld+c-1]
	for i := 0; i < c; i++ {
		for r := 0; r < 4; r++ {
			var w [4]float32
			for col := 0; col < 4; col++ {
				v0, v1, v2, v3 := v[col*ld+i], v[(4+col)*ld+i], v[(8+col)*ld+i], v[(12+col)*ld+i]
				switch r {
				case 0:
					w[col] = v0
				case 1:
					w[col] = float32(v1-v2) + v3
				case 2:
					w[col] = float32(v1+v2) - v0
				case 3:
					w[col] = -v3
				}
			}
			o[4*r][i] = a[4*r][i] + w[0]
			o[4*r+1][i] = a[4*r+1][i] + (float32(w[1]-w[2]) + w[3])
			o[4*r+2][i] = a[4*r+2][i] + (float32(w[1]+w[2]) - w[0])
			o[4*r+3][i] = a[4*r+3][i] + -w[3]
		}
	}
}
