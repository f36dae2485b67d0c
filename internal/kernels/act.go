package kernels

// Element-wise kernels: activations, bias, the optimiser's vector helpers and
// the dropout mask. Each runs the function of its kset on spans of the
// vector, with the arithmetic of its Ref.

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
	k           *kset
	op          elemOp
	y, x, z     []float32
	a, b, c     float32
	cols        int
	size, total int
}

func (j *elemJob) task(t, _ int) {
	lo, hi := parSpan(t, j.size, j.total)
	j.span(lo, hi)
}

// elemRun runs the job over all its elements, in parallel when it pays.
func (e exec) elemRun(j elemJob) {
	j.k = e.k
	j.size = parGrain
	if j.cols > 0 {
		j.size = max(1, parGrain/j.cols) * j.cols
	}
	if !parRun(e, &e.pool.slots.elem, j, parCount(j.size, j.total), j.total) {
		j.span(0, j.total)
	}
}

// span applies the operation to elements [lo, hi).
func (j *elemJob) span(lo, hi int) {
	switch j.op {
	case opReLU:
		j.k.relu(j.y[lo:hi], j.x[lo:hi])
	case opReLUBackward:
		j.k.reluBackward(j.y[lo:hi], j.x[lo:hi], j.z[lo:hi])
	case opAddBias, opAddBiasReLU:
		addBiasSpan(j.k, j.y[lo:hi], j.x[:j.cols], j.op == opAddBiasReLU)
	case opAxpy:
		j.k.axpy(j.y[lo:hi], j.x[lo:hi], j.a)
	case opScale:
		j.k.scale(j.y[lo:hi], j.a)
	case opMulMask:
		j.k.mulMask(j.y[lo:hi], j.x[lo:hi], j.z[lo:hi])
	case opSGDMomentum:
		j.k.sgdMomentum(j.y[lo:hi], j.x[lo:hi], j.z[lo:hi], j.a, j.b, j.c)
	}
}

// The Go twins of the element-wise assembly: each is the loop its
// assembly runs, on any length.

// reluGo sets y[i] = x[i], or 0 where x[i] < 0.
func reluGo(y, x []float32) {
	y = y[:len(x)]
	for i, v := range x {
		if v < 0 {
			y[i] = 0
		} else {
			y[i] = v
		}
	}
}

// reluBackwardGo sets dx = dy where y > 0, else 0.
func reluBackwardGo(dx, dy, y []float32) {
	dx, dy = dx[:len(y)], dy[:len(y)]
	for i, v := range y {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// addBiasGo adds bias to rows rows of y, stride apart, clamping at zero if
// relu is set.
func addBiasGo(y, bias []float32, rows, stride int, relu bool) {
	for r := 0; r < rows; r++ {
		row := y[r*stride : r*stride+len(bias)]
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

// addBiasSpan adds bias to each of the whole rows in y.
func addBiasSpan(k *kset, y, bias []float32, relu bool) {
	if cols := len(bias); cols > 0 {
		k.addBias(y, bias, len(y)/cols, cols, relu)
	}
}

// colSumBlock is the width of a ColSum task: each task owns whole columns
// and adds their rows in order, as ColSumRef does, so the bits are its bits.
const colSumBlock = 32

type colSumJob struct {
	k          *kset
	dst, x     []float32
	rows, cols int
}

func (j *colSumJob) task(t, _ int) {
	lo, hi := parSpan(t, colSumBlock, j.cols)
	j.k.colSum(j.dst[lo:hi], j.x[lo:], j.rows, j.cols)
}

// colSumGo adds the sums of the len(dst) columns of x (rows of stride
// floats) into dst, row by row.
func colSumGo(dst, x []float32, rows, stride int) {
	for r := 0; r < rows; r++ {
		row := x[r*stride : r*stride+len(dst)]
		for k, v := range row {
			dst[k] += v
		}
	}
}

// axpyGo sets y[i] += a·x[i], rounding the product first, as AxpyRef.
func axpyGo(y, x []float32, a float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += float32(a * v)
	}
}

// scaleGo sets x[i] *= a.
func scaleGo(x []float32, a float32) {
	for i := range x {
		x[i] *= a
	}
}

// mulMaskGo sets y[i] = x[i]·mask[i].
func mulMaskGo(y, x, mask []float32) {
	y, mask = y[:len(x)], mask[:len(x)]
	for i, v := range x {
		y[i] = v * mask[i]
	}
}
