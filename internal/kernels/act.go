package kernels

// Element-wise kernels: activations, bias, the optimiser's vector helpers and
// the dropout mask. Each runs its vector part in assembly when kernAVX2 is
// set and its tail (or all of it) in Go, with the arithmetic of its Ref.

type elemOp uint8

const (
	opReLU elemOp = iota
	opReLUBackward
	opAddBias
	opAddBiasReLU
	opAxpy
	opScale
	opMulMask
	opSGDMomentum
)

// elemJob is an element-wise kernel over total elements, cut into tasks of
// size elements (a multiple of cols for the row kernels).
type elemJob struct {
	op          elemOp
	y, x, z     []float32
	a, b, c     float32
	cols        int
	size, total int
}

func (j *elemJob) task(t int) {
	lo, hi := parSpan(t, j.size, j.total)
	j.span(lo, hi)
}

// elemRun runs the job over all its elements, in parallel when it pays.
func elemRun(j elemJob) {
	j.size = parGrain
	if j.cols > 0 {
		j.size = max(1, parGrain/j.cols) * j.cols
	}
	if !parRun(&parShared.slots.elem, j, parCount(j.size, j.total), j.total) {
		j.span(0, j.total)
	}
}

// span applies the operation to elements [lo, hi).
func (j *elemJob) span(lo, hi int) {
	switch j.op {
	case opReLU:
		reluSpan(j.y[lo:hi], j.x[lo:hi])
	case opReLUBackward:
		reluBackwardSpan(j.y[lo:hi], j.x[lo:hi], j.z[lo:hi])
	case opAddBias, opAddBiasReLU:
		addBiasSpan(j.y[lo:hi], j.x[:j.cols], j.op == opAddBiasReLU)
	case opAxpy:
		axpySpan(j.y[lo:hi], j.x[lo:hi], j.a)
	case opScale:
		scaleSpan(j.y[lo:hi], j.a)
	case opMulMask:
		mulMaskSpan(j.y[lo:hi], j.x[lo:hi], j.z[lo:hi])
	case opSGDMomentum:
		sgdMomentumSpan(j.y[lo:hi], j.x[lo:hi], j.z[lo:hi], j.a, j.b, j.c)
	}
}

// vecLen is the part of n that the 8-wide assembly handles.
func vecLen(n int) int {
	if !kernAVX2 {
		return 0
	}
	return n &^ 7
}

func reluSpan(y, x []float32) {
	y = y[:len(x)]
	v := vecLen(len(x))
	if v > 0 {
		reluAVX2(&y[0], &x[0], v)
	}
	for i := v; i < len(x); i++ {
		if x[i] < 0 {
			y[i] = 0
		} else {
			y[i] = x[i]
		}
	}
}

// reluBackwardSpan sets dx = dy where y > 0, else 0.
func reluBackwardSpan(dx, dy, y []float32) {
	dx, dy = dx[:len(y)], dy[:len(y)]
	v := vecLen(len(y))
	if v > 0 {
		reluBackwardAVX2(&dx[0], &dy[0], &y[0], v)
	}
	for i := v; i < len(y); i++ {
		if y[i] > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// addBiasSpan adds bias to each of the whole rows in y.
func addBiasSpan(y, bias []float32, relu bool) {
	cols := len(bias)
	if cols == 0 {
		return
	}
	rows := len(y) / cols
	w := vecLen(cols)
	if w > 0 && rows > 0 {
		addBiasAVX2(&y[0], &bias[0], rows, w, cols, relu)
	}
	if w == cols {
		return
	}
	bias = bias[w:]
	for r := 0; r < rows; r++ {
		row := y[r*cols+w : r*cols+cols]
		row = row[:len(bias)]
		if relu {
			for j, b := range bias {
				v := row[j] + b
				if v < 0 {
					v = 0
				}
				row[j] = v
			}
		} else {
			for j, b := range bias {
				row[j] += b
			}
		}
	}
}

// colSumBlock is the width of a ColSum task: each task owns whole columns
// and adds their rows in order, as ColSumRef does, so the bits are its bits.
const colSumBlock = 32

type colSumJob struct {
	dst, x     []float32
	rows, cols int
}

func (j *colSumJob) task(t int) {
	lo, hi := parSpan(t, colSumBlock, j.cols)
	colSumCols(j.dst, j.x, j.rows, j.cols, lo, hi)
}

// colSumCols adds the sums of columns [lo, hi) of x into dst.
func colSumCols(dst, x []float32, rows, cols, lo, hi int) {
	w := vecLen(hi - lo)
	if w > 0 && rows > 0 {
		colSumAVX2(&dst[lo], &x[lo], rows, w, cols)
	}
	if lo+w == hi {
		return
	}
	d := dst[lo+w : hi]
	for r := 0; r < rows; r++ {
		row := x[r*cols+lo+w : r*cols+hi]
		row = row[:len(d)]
		for k, v := range row {
			d[k] += v
		}
	}
}

func axpySpan(y, x []float32, a float32) {
	y = y[:len(x)]
	v := vecLen(len(x))
	if v > 0 {
		axpyAVX2(&y[0], &x[0], v, a)
	}
	for i := v; i < len(x); i++ {
		y[i] += float32(a * x[i])
	}
}

func scaleSpan(x []float32, a float32) {
	v := vecLen(len(x))
	if v > 0 {
		scaleAVX2(&x[0], v, a)
	}
	for i := v; i < len(x); i++ {
		x[i] *= a
	}
}

func mulMaskSpan(y, x, mask []float32) {
	y, mask = y[:len(x)], mask[:len(x)]
	v := vecLen(len(x))
	if v > 0 {
		mulMaskAVX2(&y[0], &x[0], &mask[0], v)
	}
	for i := v; i < len(x); i++ {
		y[i] = x[i] * mask[i]
	}
}

// sgdMomentumSpan is SGDMomentumRef on a span.
func sgdMomentumSpan(w, g, buf []float32, lr, wd, mom float32) {
	g, buf = g[:len(w)], buf[:len(w)]
	v := vecLen(len(w))
	if v > 0 {
		sgdMomentumAVX2(&w[0], &g[0], &buf[0], v, lr, wd, mom)
	}
	SGDMomentumRef(w[v:], g[v:], buf[v:], lr, wd, mom)
}
