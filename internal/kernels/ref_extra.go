package kernels

// Reference twins of the kernels added after ref.go, in its style: each body
// is the definition of its kernel. Products that feed a sum are written
// float32(a*b) (or float64(a*b)), which forbids fusing them into an FMA, so
// that the fast paths can reproduce the bits on every architecture.

// BatchNormStatsRef sets mean[j] and variance[j] to the mean and the biased
// variance of column j of x (rows×cols, dense; for NHWC activations rows is
// N·H·W and cols is C), both accumulated in float64 over the rows in order,
// the variance in a second pass around the mean. rows == 0 gives zeros.
func BatchNormStatsRef(mean, variance []float32, x []float32, rows, cols int) {
	for j := 0; j < cols; j++ {
		if rows == 0 {
			mean[j], variance[j] = 0, 0
			continue
		}
		var s float64
		for r := 0; r < rows; r++ {
			s += float64(x[r*cols+j])
		}
		m := s / float64(rows)
		var q float64
		for r := 0; r < rows; r++ {
			d := float64(x[r*cols+j]) - m
			q += float64(d * d)
		}
		mean[j] = float32(m)
		variance[j] = float32(q / float64(rows))
	}
}

// BatchNormForwardRef normalises x (rows×cols) column by column:
//
//	xhat = (x - mean)·invstd
//	y    = gamma·xhat + beta, then max(y, 0) as ReLURef when relu is set
//
// xhat is saved for the backward pass; it may be nil (inference). y may
// alias x.
func BatchNormForwardRef(y, xhat, x, mean, invstd, gamma, beta []float32, rows, cols int, relu bool) {
	for r := 0; r < rows; r++ {
		for j := 0; j < cols; j++ {
			i := r*cols + j
			xh := (x[i] - mean[j]) * invstd[j]
			v := float32(gamma[j]*xh) + beta[j]
			if relu && v < 0 {
				v = 0
			}
			if xhat != nil {
				xhat[i] = xh
			}
			y[i] = v
		}
	}
}

// BatchNormBackwardRef is the training-mode gradient of BatchNormForwardRef
// without ReLU, where the mean and invstd came from the same batch. It sets
// dbeta[j] = Σ dy and dgamma[j] = Σ dy·xhat over column j (float64 sums,
// rounded once), then
//
//	dx = gamma·invstd·((dy - dbeta/rows) - xhat·dgamma/rows)
//
// with the divisions done as products with 1/rows. dx may alias dy.
func BatchNormBackwardRef(dx, dgamma, dbeta, dy, xhat, invstd, gamma []float32, rows, cols int) {
	batchNormBackwardRef(dx, dgamma, dbeta, dy, xhat, invstd, gamma, nil, rows, cols)
}

// BatchNormReLUBackwardRef is BatchNormBackwardRef for BatchNormForwardRef
// with relu set: dy is first zeroed where the forward output was not
// positive. That output is recomputed from xhat, gamma and beta with the
// forward's arithmetic, so y need not be kept.
func BatchNormReLUBackwardRef(dx, dgamma, dbeta, dy, xhat, invstd, gamma, beta []float32, rows, cols int) {
	batchNormBackwardRef(dx, dgamma, dbeta, dy, xhat, invstd, gamma, beta, rows, cols)
}

// bnGrad is dy masked by the ReLU's output recomputed from xh, or dy itself
// when beta is nil.
func bnGrad(dy, xh float32, gamma []float32, beta []float32, j int) float32 {
	if beta == nil {
		return dy
	}
	if float32(gamma[j]*xh)+beta[j] > 0 {
		return dy
	}
	return 0
}

func batchNormBackwardRef(dx, dgamma, dbeta, dy, xhat, invstd, gamma, beta []float32, rows, cols int) {
	for j := 0; j < cols; j++ {
		var sdy, sdyx float64
		for r := 0; r < rows; r++ {
			i := r*cols + j
			g := bnGrad(dy[i], xhat[i], gamma, beta, j)
			sdy += float64(g)
			sdyx += float64(float64(g) * float64(xhat[i]))
		}
		dbeta[j], dgamma[j] = float32(sdy), float32(sdyx)
	}
	if rows == 0 {
		return
	}
	rinv := 1 / float32(rows)
	for r := 0; r < rows; r++ {
		for j := 0; j < cols; j++ {
			i := r*cols + j
			g := bnGrad(dy[i], xhat[i], gamma, beta, j)
			k := gamma[j] * invstd[j]
			m1, m2 := dbeta[j]*rinv, dgamma[j]*rinv
			dx[i] = k * ((g - m1) - float32(xhat[i]*m2))
		}
	}
}

// AxpyRef sets y[i] += a·x[i] for i < len(x), rounding the product first.
func AxpyRef(y, x []float32, a float32) {
	for i, v := range x {
		y[i] += float32(a * v)
	}
}

// ScaleRef sets x[i] *= a.
func ScaleRef(x []float32, a float32) {
	for i := range x {
		x[i] *= a
	}
}

// MulMaskRef sets y[i] = x[i]·mask[i] for i < len(x): dropout with a mask of
// zeros and 1/(1-p). y may alias x.
func MulMaskRef(y, x, mask []float32) {
	for i, v := range x {
		y[i] = v * mask[i]
	}
}

// MaxPool2x2BackwardRef is the gradient of MaxPool2x2Ref: dy and idx are
// n×(h/2)×(w/2)×c, idx as MaxPool2x2Ref wrote it, and dx is n×h×w×c.
//
//	MaxPoolBackwardRef(dx, dy, idx, n·h·w·c)
func MaxPool2x2BackwardRef(dx, dy []float32, idx []int32, n, h, w, c int) {
	MaxPoolBackwardRef(dx, dy[:n*(h/2)*(w/2)*c], idx, n*h*w*c)
}
