//go:build !noasm

package kernels

// Batch-norm assembly. The column sums (bnSumAVX2, bnSqDevAVX2,
// bnBackSumsAVX2) take w = 8 or 16 columns and at least one row; the row
// kernels take w a multiple of 8. The ...AVX2Span functions of the kset hand
// the assembly its part and their Go twin the rest.

// bnSumAVX2 is
//
//	for j := 0; j < w; j++ {
//		sum[j] = 0
//		for r := 0; r < rows; r++ {
//			sum[j] += float64(x[r*stride+j])
//		}
//	}
//
//go:noescape
func bnSumAVX2(sum *float64, x *float32, rows, w, stride int)

// bnSqDevAVX2 is
//
//	for j := 0; j < w; j++ {
//		sum[j] = 0
//		for r := 0; r < rows; r++ {
//			d := float64(x[r*stride+j]) - mean[j]
//			sum[j] += float64(d * d)
//		}
//	}
//
//go:noescape
func bnSqDevAVX2(sum *float64, x *float32, mean *float64, rows, w, stride int)

// bnForwardAVX2 is, with xhat written only when it is not nil,
//
//	for r := 0; r < rows; r++ {
//		for j := 0; j < w; j++ {
//			i := r*stride + j
//			xh := (x[i] - mean[j]) * invstd[j]
//			v := float32(gamma[j]*xh) + beta[j]
//			if relu && v < 0 {
//				v = 0
//			}
//			xhat[i], y[i] = xh, v
//		}
//	}
//
//go:noescape
func bnForwardAVX2(y, xhat, x, mean, invstd, gamma, beta *float32, rows, w, stride int, relu bool)

// bnBackSumsAVX2 is, with g masked by the recomputed ReLU output only when
// beta is not nil,
//
//	for j := 0; j < w; j++ {
//		sdy[j], sdyx[j] = 0, 0
//		for r := 0; r < rows; r++ {
//			i := r*stride + j
//			g := dy[i]
//			if beta != nil && !(float32(gamma[j]*xhat[i])+beta[j] > 0) {
//				g = 0
//			}
//			sdy[j] += float64(g)
//			sdyx[j] += float64(float64(g) * float64(xhat[i]))
//		}
//	}
//
//go:noescape
func bnBackSumsAVX2(sdy, sdyx *float64, dy, xhat, gamma, beta *float32, rows, w, stride int)

// bnBackDxAVX2 is, with g masked as in bnBackSumsAVX2,
//
//	for r := 0; r < rows; r++ {
//		for j := 0; j < w; j++ {
//			i := r*stride + j
//			k := gamma[j] * invstd[j]
//			m1, m2 := dbeta[j]*rinv, dgamma[j]*rinv
//			dx[i] = k * ((g - m1) - float32(xhat[i]*m2))
//		}
//	}
//
//go:noescape
func bnBackDxAVX2(dx, dy, xhat, invstd, gamma, beta, dgamma, dbeta *float32, rows, w, stride int, rinv float32)

func bnSumAVX2Span(x []float32, w, rows, stride int) bnSums {
	v := w &^ 7
	if rows == 0 || v == 0 {
		return bnSumGo(x, w, rows, stride)
	}
	_ = x[(rows-1)*stride+w-1]
	var sum bnSums
	bnSumAVX2(&sum[0], &x[0], rows, v, stride)
	if v < w {
		t := bnSumGo(x[v:], w-v, rows, stride)
		copy(sum[v:w], t[:w-v])
	}
	return sum
}

func bnSqDevAVX2Span(x []float32, mean bnSums, w, rows, stride int) bnSums {
	v := w &^ 7
	if rows == 0 || v == 0 {
		return bnSqDevGo(x, mean, w, rows, stride)
	}
	_ = x[(rows-1)*stride+w-1]
	var sum bnSums
	bnSqDevAVX2(&sum[0], &x[0], &mean[0], rows, v, stride)
	if v < w {
		var mt bnSums
		copy(mt[:], mean[v:w])
		t := bnSqDevGo(x[v:], mt, w-v, rows, stride)
		copy(sum[v:w], t[:w-v])
	}
	return sum
}

func bnForwardAVX2Span(y, xhat, x, mean, invstd, gamma, beta []float32, rows, stride int, relu bool) {
	n := len(mean)
	w := n &^ 7
	if rows == 0 || w == 0 {
		bnForwardGo(y, xhat, x, mean, invstd, gamma, beta, rows, stride, relu)
		return
	}
	last := (rows-1)*stride + n - 1
	_, _, _, _, _ = y[last], x[last], invstd[n-1], gamma[n-1], beta[n-1]
	bnForwardAVX2(&y[0], ptrOrNil(xhat, last+1), &x[0], &mean[0], &invstd[0], &gamma[0], &beta[0], rows, w, stride, relu)
	if w < n {
		if xhat != nil {
			xhat = xhat[w:]
		}
		bnForwardGo(y[w:], xhat, x[w:], mean[w:], invstd[w:], gamma[w:], beta[w:], rows, stride, relu)
	}
}

func bnBackSumsAVX2Span(dy, xhat, gamma, beta []float32, w, rows, stride int) (sdy, sdyx bnSums) {
	v := w &^ 7
	if rows == 0 || v == 0 {
		return bnBackSumsGo(dy, xhat, gamma, beta, w, rows, stride)
	}
	last := (rows-1)*stride + w - 1
	_, _, _ = dy[last], xhat[last], gamma[w-1]
	bnBackSumsAVX2(&sdy[0], &sdyx[0], &dy[0], &xhat[0], &gamma[0], ptrOrNil(beta, w), rows, v, stride)
	if v < w {
		if beta != nil {
			beta = beta[v:]
		}
		a, b := bnBackSumsGo(dy[v:], xhat[v:], gamma[v:], beta, w-v, rows, stride)
		copy(sdy[v:w], a[:w-v])
		copy(sdyx[v:w], b[:w-v])
	}
	return sdy, sdyx
}

func bnBackDxAVX2Span(dx, dy, xhat, invstd, gamma, beta, dgamma, dbeta []float32, rows, stride int, rinv float32) {
	n := len(invstd)
	w := n &^ 7
	if rows == 0 || w == 0 {
		bnBackDxGo(dx, dy, xhat, invstd, gamma, beta, dgamma, dbeta, rows, stride, rinv)
		return
	}
	last := (rows-1)*stride + n - 1
	_, _, _, _, _, _ = dx[last], dy[last], xhat[last], gamma[n-1], dgamma[n-1], dbeta[n-1]
	bnBackDxAVX2(&dx[0], &dy[0], &xhat[0], &invstd[0], &gamma[0], ptrOrNil(beta, n), &dgamma[0], &dbeta[0], rows, w, stride, rinv)
	if w < n {
		if beta != nil {
			beta = beta[w:]
		}
		bnBackDxGo(dx[w:], dy[w:], xhat[w:], invstd[w:], gamma[w:], beta, dgamma[w:], dbeta[w:], rows, stride, rinv)
	}
}
