package kernels

import "sync/atomic"

// Max-pooling on NHWC. A MaxPool2x2 task is a group of output rows (b, py),
// a GlobalMaxPool task a group of images. Both compare the candidates of a
// window in the reference's order with its rule (greater, or a NaN over a
// number), so values, indices, ties and NaNs come out as the reference's.

type maxPoolJob struct {
	k          *kset
	y, x       []float32
	idx        []int32
	n, h, w, c int
	per        int
}

func (j *maxPoolJob) task(t, _ int) {
	lo, hi := parSpan(t, j.per, j.n*(j.h/2))
	j.rows(lo, hi)
}

func (e exec) maxPool2x2(y []float32, idx []int32, x []float32, n, h, w, c int) {
	rows, ow := n*(h/2), w/2
	if rows*ow*c == 0 {
		return
	}
	j := maxPoolJob{k: e.k, y: y, idx: idx, x: x, n: n, h: h, w: w, c: c, per: max(1, parGrain/(ow*c))}
	if !parRun(e, &e.pool.slots.maxPool, j, parCount(j.per, rows), 4*rows*ow*c) {
		j.rows(0, rows)
	}
}

// rows pools output rows [lo, hi).
func (j *maxPoolJob) rows(lo, hi int) {
	h, w, c := j.h, j.w, j.c
	oh, ow := h/2, w/2
	wc := w * c
	for r := lo; r < hi; r++ {
		b, py := r/oh, r%oh
		base := (b*h + 2*py) * wc
		in := j.x[base : base+2*wc]
		j.k.maxPoolRow(j.y[r*ow*c:(r+1)*ow*c], j.idx[r*ow*c:(r+1)*ow*c], in, c, base)
	}
}

// maxPoolRowGo pools one output row (len(y)/c pixels) from the two input
// rows in in, which starts at flat index base of x.
func maxPoolRowGo(y []float32, idx []int32, in []float32, c, base int) {
	wc := len(in) / 2
	r0, r1 := in[:wc], in[wc:]
	for o := 0; o+c <= len(y); o += c {
		i0 := 2 * o
		a, b := r0[i0:i0+c], r0[i0+c:i0+2*c]
		p, q := r1[i0:i0+c], r1[i0+c:i0+2*c]
		yo, io := y[o:o+c], idx[o:o+c]
		b, p, q, io = b[:len(a)], p[:len(a)], q[:len(a)], io[:len(a)]
		for ch := range yo {
			best, k := a[ch], 0
			if v := b[ch]; v > best || (v != v && best == best) {
				best, k = v, c
			}
			if v := p[ch]; v > best || (v != v && best == best) {
				best, k = v, wc
			}
			if v := q[ch]; v > best || (v != v && best == best) {
				best, k = v, wc+c
			}
			yo[ch] = best
			io[ch] = int32(base + i0 + k + ch)
		}
	}
}

type globalMaxPoolJob struct {
	k        *kset
	y, x     []float32
	idx      []int32
	n, hw, c int
	per      int
}

func (j *globalMaxPoolJob) task(t, _ int) {
	lo, hi := parSpan(t, j.per, j.n)
	j.images(lo, hi)
}

func (e exec) globalMaxPool(y []float32, idx []int32, x []float32, n, hw, c int) {
	if n*c == 0 {
		return
	}
	j := globalMaxPoolJob{k: e.k, y: y, idx: idx, x: x, n: n, hw: hw, c: c, per: max(1, parGrain/(hw*c))}
	if !parRun(e, &e.pool.slots.global, j, parCount(j.per, n), n*hw*c) {
		j.images(0, n)
	}
}

// images pools images [lo, hi) row by row: the running maximum of a channel
// is compared with the positions in order, as in the reference.
func (j *globalMaxPoolJob) images(lo, hi int) {
	hw, c := j.hw, j.c
	for b := lo; b < hi; b++ {
		base := b * hw * c
		j.k.globalMaxPool1(j.y[b*c:b*c+c], j.idx[b*c:b*c+c], j.x[base:base+hw*c], c, base)
	}
}

// globalMaxPoolGo pools one image (len(x)/c positions of c channels, at
// least one) that starts at flat index base.
func globalMaxPoolGo(y []float32, idx []int32, xs []float32, c, base int) {
	hw := len(xs) / c
	copy(y, xs[:c])
	for ch := range idx {
		idx[ch] = int32(base + ch)
	}
	for p := 1; p < hw; p++ {
		row := xs[p*c : p*c+c]
		row = row[:len(y)]
		for ch, v := range row {
			if best := y[ch]; v > best || (v != v && best == best) {
				y[ch] = v
				idx[ch] = int32(base + p*c + ch)
			}
		}
	}
}

// maxPool2x2BackJob writes dx two input rows per output row: each output
// pixel sets its whole window, dy (plus zero, as the reference adds it to
// zero) where idx points and zero elsewhere, so dx is written once, in
// parallel, and needs no zeroing pass. That holds when every index lies in
// its own window, which MaxPool2x2 guarantees; if one does not, the rows
// report it and MaxPoolBackward redoes the whole gradient.
type maxPool2x2BackJob struct {
	k          *kset
	dx, dy     []float32
	idx        []int32
	n, h, w, c int
	per        int
	bad        atomic.Bool
}

func (j *maxPool2x2BackJob) task(t, _ int) {
	lo, hi := parSpan(t, j.per, j.n*(j.h/2))
	j.rows(lo, hi)
}

func (e exec) maxPool2x2Backward(dx, dy []float32, idx []int32, n, h, w, c int) {
	rows, ow := n*(h/2), w/2
	out := rows * ow * c
	if out == 0 {
		clear(dx[:n*h*w*c])
		return
	}
	per := max(1, parGrain/(ow*c))
	tasks := parCount(per, rows)
	var bad bool
	if e.procs > 1 && tasks > 1 && 4*out >= e.minWork && e.pool.mu.TryLock() {
		j := &e.pool.slots.maxBack2
		*j = maxPool2x2BackJob{k: e.k, dx: dx, dy: dy, idx: idx, n: n, h: h, w: w, c: c, per: per}
		e.pool.region(j, tasks, e.procs)
		bad = j.bad.Load()
		*j = maxPool2x2BackJob{}
		e.pool.mu.Unlock()
	} else {
		j := maxPool2x2BackJob{k: e.k, dx: dx, dy: dy, idx: idx, n: n, h: h, w: w, c: c, per: per}
		j.rows(0, rows)
		bad = j.bad.Load()
	}
	if bad {
		e.maxPoolBackward(dx, dy[:out], idx[:out], n*h*w*c)
	}
}

// rows writes the input rows of output rows [lo, hi), and the dropped last
// row of an image with odd h.
func (j *maxPool2x2BackJob) rows(lo, hi int) {
	h, w, c := j.h, j.w, j.c
	oh, ow := h/2, w/2
	wc := w * c
	for r := lo; r < hi; r++ {
		b, py := r/oh, r%oh
		base := (b*h + 2*py) * wc
		pair := j.dx[base : base+2*wc]
		if !j.k.maxPoolBackRow(pair, j.dy[r*ow*c:(r+1)*ow*c], j.idx[r*ow*c:(r+1)*ow*c], c, base) {
			j.bad.Store(true)
			return
		}
		if w%2 == 1 {
			clear(pair[wc-c : wc])
			clear(pair[2*wc-c:])
		}
		if h%2 == 1 && py == oh-1 {
			clear(j.dx[base+2*wc : base+3*wc])
		}
	}
}

// maxPoolBackRowGo writes the two input rows in pair (starting at flat
// index base) of one output row; it reports false if an index is not in its
// window.
func maxPoolBackRowGo(pair, dy []float32, idx []int32, c, base int) bool {
	wc := len(pair) / 2
	for o := 0; o+c <= len(dy); o += c {
		i0 := 2 * o
		a, b := pair[i0:i0+c], pair[i0+c:i0+2*c]
		p, q := pair[wc+i0:wc+i0+c], pair[wc+i0+c:wc+i0+2*c]
		g, io := dy[o:o+c], idx[o:o+c]
		b, p, q, g, io = b[:len(a)], p[:len(a)], q[:len(a)], g[:len(a)], io[:len(a)]
		for ch := range a {
			var z float32
			v := z + g[ch]
			a[ch], b[ch], p[ch], q[ch] = 0, 0, 0, 0
			switch int(io[ch]) - (base + i0 + ch) {
			case 0:
				a[ch] = v
			case c:
				b[ch] = v
			case wc:
				p[ch] = v
			case wc + c:
				q[ch] = v
			default:
				return false
			}
		}
	}
	return true
}

// maxPoolBackJob zeroes dx in fixed chunks; the scatter that follows runs on
// one goroutine, in the order of idx, since idx may name an element twice.
type maxPoolBackJob struct {
	dx []float32
}

func (j *maxPoolBackJob) task(t, _ int) {
	lo, hi := parSpan(t, 4*parGrain, len(j.dx))
	clear(j.dx[lo:hi])
}

func (e exec) maxPoolBackward(dx, dy []float32, idx []int32, nx int) {
	dx = dx[:nx]
	j := maxPoolBackJob{dx: dx}
	if !parRun(e, &e.pool.slots.maxBack, j, parCount(4*parGrain, nx), nx) {
		clear(dx)
	}
	idx = idx[:len(dy)]
	for i, t := range idx {
		dx[t] += dy[i]
	}
}
