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
	mean, variance, x []float32
	rows, cols        int
}

func (j *bnStatsJob) task(t int) {
	lo, hi := parSpan(t, bnBlock, j.cols)
	bnStatsCols(j.mean, j.variance, j.x, j.rows, j.cols, lo, hi)
}

// bnStatsCols does columns [lo, hi), at most bnBlock of them.
func bnStatsCols(mean, variance, x []float32, rows, cols, lo, hi int) {
	var s, m [bnBlock]float64
	if rows == 0 {
		clear(mean[lo:hi])
		clear(variance[lo:hi])
		return
	}
	w := vecLen(hi - lo)
	if w > 0 {
		bnSumAVX2(&s[0], &x[lo], rows, w, cols)
	}
	if lo+w < hi {
		// Row by row, so that each line of x is read once; the per-column
		// order of the additions is the same.
		acc := s[w : hi-lo]
		for r := 0; r < rows; r++ {
			row := x[r*cols+lo+w : r*cols+hi]
			row = row[:len(acc)]
			for k, v := range row {
				acc[k] += float64(v)
			}
		}
	}
	for k := range hi - lo {
		m[k] = s[k] / float64(rows)
		s[k] = 0
	}
	if w > 0 {
		bnSqDevAVX2(&s[0], &x[lo], &m[0], rows, w, cols)
	}
	if lo+w < hi {
		acc, mt := s[w:hi-lo], m[w:hi-lo]
		mt = mt[:len(acc)]
		for r := 0; r < rows; r++ {
			row := x[r*cols+lo+w : r*cols+hi]
			row = row[:len(acc)]
			for k, v := range row {
				d := float64(v) - mt[k]
				acc[k] += float64(d * d)
			}
		}
	}
	for k := range hi - lo {
		mean[lo+k] = float32(m[k])
		variance[lo+k] = float32(s[k] / float64(rows))
	}
}

type bnForwardJob struct {
	y, xhat, x, mean, invstd, gamma, beta []float32
	rows, cols                            int
	relu                                  bool
}

func (j *bnForwardJob) task(t int) {
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
	x, y := j.x[lo*cols:hi*cols], j.y[lo*cols:hi*cols]
	var xhat []float32
	if j.xhat != nil {
		xhat = j.xhat[lo*cols : hi*cols]
	}
	w := vecLen(cols)
	if w > 0 {
		var xh *float32
		if xhat != nil {
			xh = &xhat[0]
		}
		bnForwardAVX2(&y[0], xh, &x[0], &j.mean[0], &j.invstd[0], &j.gamma[0], &j.beta[0], hi-lo, w, cols, j.relu)
	}
	if w == cols {
		return
	}
	mean, invstd, gamma, beta := j.mean[w:cols], j.invstd[w:cols], j.gamma[w:cols], j.beta[w:cols]
	for r := 0; r < hi-lo; r++ {
		xr, yr := x[r*cols+w:r*cols+cols], y[r*cols+w:r*cols+cols]
		xr, yr = xr[:len(mean)], yr[:len(mean)]
		var hr []float32
		if xhat != nil {
			hr = xhat[r*cols+w : r*cols+cols]
			hr = hr[:len(mean)]
		}
		for k := range mean {
			xh := (xr[k] - mean[k]) * invstd[k]
			v := float32(gamma[k]*xh) + beta[k]
			if j.relu && v < 0 {
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
	dx, dgamma, dbeta, dy, xhat, invstd, gamma, beta []float32
	rows, cols                                       int
	phase                                            int
}

func (j *bnBackJob) task(t int) {
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
	var sdy, sdyx [bnBlock]float64
	rows, cols := j.rows, j.cols
	w := 0
	if rows > 0 {
		w = vecLen(hi - lo)
	}
	if w > 0 {
		var beta *float32
		if j.beta != nil {
			beta = &j.beta[lo]
		}
		bnBackSumsAVX2(&sdy[0], &sdyx[0], &j.dy[lo], &j.xhat[lo], &j.gamma[lo], beta, rows, w, cols)
	}
	if lo+w < hi {
		a, b := sdy[w:hi-lo], sdyx[w:hi-lo]
		for r := 0; r < rows; r++ {
			for k := range a {
				i := r*cols + lo + w + k
				g := bnGrad(j.dy[i], j.xhat[i], j.gamma, j.beta, lo+w+k)
				a[k] += float64(g)
				b[k] += float64(float64(g) * float64(j.xhat[i]))
			}
		}
	}
	for k := range hi - lo {
		j.dbeta[lo+k], j.dgamma[lo+k] = float32(sdy[k]), float32(sdyx[k])
	}
}

// dxRows writes dx for rows [lo, hi).
func (j *bnBackJob) dxRows(lo, hi int) {
	cols := j.cols
	if hi <= lo || cols == 0 {
		return
	}
	rinv := 1 / float32(j.rows)
	dx, dy, xhat := j.dx[lo*cols:hi*cols], j.dy[lo*cols:hi*cols], j.xhat[lo*cols:hi*cols]
	w := vecLen(cols)
	if w > 0 {
		var beta *float32
		if j.beta != nil {
			beta = &j.beta[0]
		}
		bnBackDxAVX2(&dx[0], &dy[0], &xhat[0], &j.invstd[0], &j.gamma[0], beta, &j.dgamma[0], &j.dbeta[0], hi-lo, w, cols, rinv)
	}
	for r := 0; r < hi-lo; r++ {
		for c := w; c < cols; c++ {
			i := r*cols + c
			g := bnGrad(dy[i], xhat[i], j.gamma, j.beta, c)
			k := j.gamma[c] * j.invstd[c]
			m1, m2 := j.dbeta[c]*rinv, j.dgamma[c]*rinv
			dx[i] = k * ((g - m1) - float32(xhat[i]*m2))
		}
	}
}

func batchNormStats(mean, variance, x []float32, rows, cols int) {
	j := bnStatsJob{mean: mean, variance: variance, x: x, rows: rows, cols: cols}
	tasks := parCount(bnBlock, cols)
	if !parRun(&parShared.slots.bnStats, j, tasks, rows*cols) {
		for t := range tasks {
			j.task(t)
		}
	}
}

func batchNormForward(j bnForwardJob) {
	if j.cols == 0 {
		return
	}
	per := max(1, parGrain/j.cols)
	if !parRun(&parShared.slots.bnFwd, j, parCount(per, j.rows), j.rows*j.cols) {
		j.span(0, j.rows)
	}
}

func batchNormBackward(j bnBackJob) {
	if j.cols == 0 {
		return
	}
	tasks := parCount(bnBlock, j.cols)
	if !parRun(&parShared.slots.bnBack, j, tasks, j.rows*j.cols) {
		for t := range tasks {
			j.task(t)
		}
	}
	if j.rows == 0 {
		return
	}
	j.phase = 1
	per := max(1, parGrain/j.cols)
	if !parRun(&parShared.slots.bnBack, j, parCount(per, j.rows), j.rows*j.cols) {
		j.dxRows(0, j.rows)
	}
}
