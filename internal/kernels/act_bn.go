package kernels

// Batch norm over rows×cols (NHWC activations: rows = N·H·W, cols = C).
// The column sums are cut by columns: a task owns bnBlock whole columns and
// sums their rows in order, as the references do, so the sums are the
// references' bits whatever GOMAXPROCS is. The element-wise passes are cut by
// rows.

// bnBlock is the width of a column task: one 64-byte line of a row, and the
// float64 accumulators of 16 columns fit in the AVX2 registers.
const bnBlock = 16

type bnStatsJob struct {
	k                 *kset
	mean, variance, x []float32
	rows, cols        int
}

func (j *bnStatsJob) task(t, _ int) {
	lo, hi := parSpan(t, bnBlock, j.cols)
	bnStatsCols(j.k, j.mean, j.variance, j.x, j.rows, j.cols, lo, hi)
}

// bnSums are float64 sums of up to bnBlock columns.
type bnSums [bnBlock]float64

// bnStatsCols does columns [lo, hi), at most bnBlock of them.
func bnStatsCols(k *kset, mean, variance, x []float32, rows, cols, lo, hi int) {
	if rows == 0 {
		clear(mean[lo:hi])
		clear(variance[lo:hi])
		return
	}
	w := hi - lo
	m := k.bnSum(x[lo:], w, rows, cols)
	for c := range w {
		m[c] /= float64(rows)
	}
	s := k.bnSqDev(x[lo:], m, w, rows, cols)
	for c := range w {
		mean[lo+c] = float32(m[c])
		variance[lo+c] = float32(s[c] / float64(rows))
	}
}

// bnSumGo returns the sums of the first w columns of x (rows of stride
// floats) in float64, adding the rows in order. It goes row by row, so that
// each line of x is read once; the order of each column's additions is the
// same.
func bnSumGo(x []float32, w, rows, stride int) (sum bnSums) {
	acc := sum[:w]
	for r := 0; r < rows; r++ {
		row := x[r*stride : r*stride+w]
		for c, v := range row {
			acc[c] += float64(v)
		}
	}
	return sum
}

// bnSqDevGo returns the sums of (x - mean)² over the first w columns of x
// in float64, adding the rows in order.
func bnSqDevGo(x []float32, mean bnSums, w, rows, stride int) (sum bnSums) {
	acc, mt := sum[:w], mean[:w]
	for r := 0; r < rows; r++ {
		row := x[r*stride : r*stride+w]
		for c, v := range row {
			d := float64(v) - mt[c]
			acc[c] += float64(d * d) // rounded: no fused multiply-add
		}
	}
	return sum
}

type bnForwardJob struct {
	k                                     *kset
	y, xhat, x, mean, invstd, gamma, beta []float32
	rows, cols                            int
	relu                                  bool
}

func (j *bnForwardJob) task(t, _ int) {
	per := max(1, parGrain/j.cols)
	lo, hi := parSpan(t, per, j.rows)
	j.span(lo, hi)
}

// span normalises rows [lo, hi).
func (j *bnForwardJob) span(lo, hi int) {
	cols := j.cols
	if hi <= lo || cols == 0 {
		return
	}
	var xhat []float32
	if j.xhat != nil {
		xhat = j.xhat[lo*cols : hi*cols]
	}
	j.k.bnForward(j.y[lo*cols:hi*cols], xhat, j.x[lo*cols:hi*cols], j.mean[:cols], j.invstd, j.gamma, j.beta, hi-lo, cols, j.relu)
}

// bnForwardGo normalises the len(mean) columns of rows rows of x (stride
// floats apart) into y and, unless it is nil, xhat.
func bnForwardGo(y, xhat, x, mean, invstd, gamma, beta []float32, rows, stride int, relu bool) {
	n := len(mean)
	invstd, gamma, beta = invstd[:n], gamma[:n], beta[:n]
	for r := 0; r < rows; r++ {
		xr, yr := x[r*stride:r*stride+n], y[r*stride:r*stride+n]
		var hr []float32
		if xhat != nil {
			hr = xhat[r*stride : r*stride+n]
		}
		for k := range mean {
			xh := (xr[k] - mean[k]) * invstd[k]
			v := float32(gamma[k]*xh) + beta[k]
			if relu && v < 0 {
				v = 0
			}
			if hr != nil {
				hr[k] = xh
			}
			yr[k] = v
		}
	}
}

// bnBackJob runs in two regions: phase 0 sums by columns into dgamma and
// dbeta, phase 1 writes dx by rows from those sums.
type bnBackJob struct {
	k                                                *kset
	dx, dgamma, dbeta, dy, xhat, invstd, gamma, beta []float32
	rows, cols                                       int
	phase                                            int
}

func (j *bnBackJob) task(t, _ int) {
	if j.phase == 0 {
		lo, hi := parSpan(t, bnBlock, j.cols)
		j.sums(lo, hi)
		return
	}
	per := max(1, parGrain/j.cols)
	lo, hi := parSpan(t, per, j.rows)
	j.dxRows(lo, hi)
}

// sums sets dbeta and dgamma for columns [lo, hi), at most bnBlock of them.
func (j *bnBackJob) sums(lo, hi int) {
	var beta []float32
	if j.beta != nil {
		beta = j.beta[lo:hi]
	}
	sdy, sdyx := j.k.bnBackSums(j.dy[lo:], j.xhat[lo:], j.gamma[lo:hi], beta, hi-lo, j.rows, j.cols)
	for k := range hi - lo {
		j.dbeta[lo+k], j.dgamma[lo+k] = float32(sdy[k]), float32(sdyx[k])
	}
}

// bnBackSumsGo returns the sums of g and g·xhat over the first w columns
// in float64, adding the rows (stride floats apart) in order, where g is dy
// masked as bnGrad masks it.
func bnBackSumsGo(dy, xhat, gamma, beta []float32, w, rows, stride int) (sdy, sdyx bnSums) {
	a, b := sdy[:w], sdyx[:w]
	for r := 0; r < rows; r++ {
		for k := range a {
			i := r*stride + k
			g := bnGrad(dy[i], xhat[i], gamma, beta, k)
			a[k] += float64(g)
			b[k] += float64(float64(g) * float64(xhat[i]))
		}
	}
	return sdy, sdyx
}

// dxRows writes dx for rows [lo, hi).
func (j *bnBackJob) dxRows(lo, hi int) {
	cols := j.cols
	if hi <= lo || cols == 0 {
		return
	}
	rinv := 1 / float32(j.rows)
	j.k.bnBackDx(j.dx[lo*cols:hi*cols], j.dy[lo*cols:hi*cols], j.xhat[lo*cols:hi*cols], j.invstd[:cols], j.gamma, j.beta, j.dgamma, j.dbeta, hi-lo, cols, rinv)
}

// bnBackDxGo writes the len(invstd) columns of rows rows of dx (stride
// floats apart) from dy, xhat and the sums dgamma and dbeta.
func bnBackDxGo(dx, dy, xhat, invstd, gamma, beta, dgamma, dbeta []float32, rows, stride int, rinv float32) {
	for r := 0; r < rows; r++ {
		for c := range invstd {
			i := r*stride + c
			g := bnGrad(dy[i], xhat[i], gamma, beta, c)
			k := gamma[c] * invstd[c]
			m1, m2 := dbeta[c]*rinv, dgamma[c]*rinv
			dx[i] = k * ((g - m1) - float32(xhat[i]*m2))
		}
	}
}

func (e exec) batchNormStats(mean, variance, x []float32, rows, cols int) {
	j := bnStatsJob{k: e.k, mean: mean, variance: variance, x: x, rows: rows, cols: cols}
	tasks := parCount(bnBlock, cols)
	if !parRun(e, &e.pool.slots.bnStats, j, tasks, rows*cols) {
		for t := range tasks {
			j.task(t, 0)
		}
	}
}

func (e exec) batchNormForward(j bnForwardJob) {
	if j.cols == 0 {
		return
	}
	j.k = e.k
	per := max(1, parGrain/j.cols)
	if !parRun(e, &e.pool.slots.bnFwd, j, parCount(per, j.rows), j.rows*j.cols) {
		j.span(0, j.rows)
	}
}

func (e exec) batchNormBackward(j bnBackJob) {
	if j.cols == 0 {
		return
	}
	j.k = e.k
	tasks := parCount(bnBlock, j.cols)
	if !parRun(e, &e.pool.slots.bnBack, j, tasks, j.rows*j.cols) {
		for t := range tasks {
			j.task(t, 0)
		}
	}
	if j.rows == 0 {
		return
	}
	j.phase = 1
	per := max(1, parGrain/j.cols)
	if !parRun(e, &e.pool.slots.bnBack, j, parCount(per, j.rows), j.rows*j.cols) {
		j.dxRows(0, j.rows)
	}
}
