package kernels

// sgemmMinWork is the number of multiply-adds (about 5 µs of one core)
// that each goroutine must have: waking a worker costs several
// microseconds, more on a busy machine.
const sgemmMinWork = 1 << 18

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
// product, as a fraction of a task: the price of coarse tasks.
const sgemmImbalance = 0.125

// sgemmDirect chooses whether A and B are read in place: by the cost model
// below (sgemmDirectAuto), never (sgemmPacked), or whenever the kernel can
// (sgemmInPlace). Tests and tuning set the last two.
type sgemmDirect uint8

const (
	sgemmDirectAuto sgemmDirect = iota
	sgemmPacked
	sgemmInPlace
)

// a reports whether to read op(A) in place rather than pack it.
// The kernels read A in place about as fast as packed, or faster when a
// panel of A serves few column tiles, and packing costs a copy. The
// exception is a row-major A whose rows would crowd into a few L1 sets (a
// power-of-two stride): the tile's rows then evict one another.
func (d sgemmDirect) a(kern *sgemmKernel, transA bool, lda int) bool {
	if kern.tileA == nil || d != sgemmDirectAuto {
		return kern.tileA != nil && d == sgemmInPlace
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

// b reports whether to read op(B) in place rather than pack it, given
// whether op(A) is (directA): when B is not transposed (its rows are the
// kernel's) and C has so few rows that each panel of B serves one or two
// tiles, or when A is read in place too and C has at most sgemmDirectBRows
// rows. The tiles then walk along a row of C, re-reading B's panels from
// L2 once per panel of A, which costs less than packing B when there are
// few panels of A.
func (d sgemmDirect) b(kern *sgemmKernel, transB bool, m int, directA bool) bool {
	if kern.tileA == nil || transB || d != sgemmDirectAuto {
		return kern.tileA != nil && !transB && d == sgemmInPlace
	}
	return m <= 2*kern.mr || (directA && m <= sgemmDirectBRows)
}

// sgemmDirectBRows bounds the rows of C for which B is read in place. Thread
// CPU time on one goroutine, Zen 5, in place against packed: 0.95 at
// 128×512×784 and 0.93 at 256×512×784 (A in place), 0.93 at 128×256×256
// with lda 2304 (a pixel-pair GEMM of the CNN), but 1.12 at 25088×128×576
// and 1.03 at 512×256×128 with A transposed.
const sgemmDirectBRows = 256

// sgemmPick chooses the kernel for an m×n product on procs goroutines:
// the one with the least work per goroutine, in vector instructions:
// the products of its tiles, edge padding included, over its vector width
// and over the goroutines its tiles can keep busy. Ties go to the earlier
// kernel. All assembly kernels give the same bits, so the choice is free.
func sgemmPick(m, n, procs int) *sgemmKernel {
	var best *sgemmKernel
	bestCost := 0.0
	for _, k := range sgemmKernels {
		mu, nu := (m+k.mr-1)/k.mr, (n+k.nr-1)/k.nr
		cost := float64(mu*k.mr*nu*k.nr) / float64(k.lanes*max(1, min(procs, mu*nu)))
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
