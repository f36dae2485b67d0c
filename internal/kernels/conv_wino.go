package kernels

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
	if p.chunks == 1 && e.procs >= 2 {
		// One chunk (a batch of one image, say) gives the goroutines its
		// 16 GEMMs instead; each is computed whole by one of them, so the
		// bits are those of the serial path.
		j.gemm = getSpace()
		tiles := j.transformIn(0, 0)
		g := winoGemmJob{pool: e.pool, v: s.work[0].v, u: u, m: s.work[0].m, tiles: tiles, cin: cin, cout: cout}
		if !parRun(e, &e.pool.slots.winoGemm, g, 16, n*h*w*cin*cout) {
			g.serial = j.gemm
			for xi := range 16 {
				g.task(xi, 0)
			}
		}
		j.transformOut(0, 0)
		putSpace(j.gemm)
		return
	}
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
	tiles := j.transformIn(c, w)
	p, wk := &j.p, &j.s.work[w]
	ldv, ldm, cc := tiles*p.cin, tiles*p.cout, p.cin*p.cout
	ws := gemmSpace(j.pool, j.gemm, w)
	for xi := 0; xi < 16; xi++ {
		gemm1(ws, false, false, tiles, p.cout, p.cin, wk.v[xi*ldv:], p.cin, j.u[xi*cc:], p.cout, 0, wk.m[xi*ldm:], p.cout)
	}
	j.transformOut(c, w)
}

// transformIn sets V, in goroutine w's scratch, to the input transform of
// chunk c's patches, and returns the number of tiles.
func (j *winoFwdJob) transformIn(c, w int) int {
	p := &j.p
	wk := &j.s.work[w]
	b0, b1 := p.images(c)
	tiles := (b1 - b0) * p.tpi
	ldv := tiles * p.cin
	v := wk.v[:16*ldv]
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
	return tiles
}

// transformOut writes chunk c's output from M in goroutine w's scratch.
func (j *winoFwdJob) transformOut(c, w int) {
	p := &j.p
	wk := &j.s.work[w]
	b0, b1 := p.images(c)
	ldm := (b1 - b0) * p.tpi * p.cout
	m := wk.m[:16*ldm]
	var dst [4]*float32
	t := 0
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

// winoGemmJob is the 16 GEMMs M_ξ = V_ξ·U_ξ of one chunk, a task per ξ.
type winoGemmJob struct {
	pool             *parPool
	serial           *sgemmWorkspace // when the tasks run in a loop on the caller
	v, u, m          []float32
	tiles, cin, cout int
}

func (j *winoGemmJob) task(xi, w int) {
	ldv, ldm, cc := j.tiles*j.cin, j.tiles*j.cout, j.cin*j.cout
	gemm1(gemmSpace(j.pool, j.serial, w), false, false, j.tiles, j.cout, j.cin, j.v[xi*ldv:], j.cin, j.u[xi*cc:], j.cout, 0, j.m[xi*ldm:], j.cout)
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
