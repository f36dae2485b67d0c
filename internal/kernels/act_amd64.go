//go:build !noasm

package kernels

// The element-wise assembly works on whole 8-float vectors: n and w are
// multiples of 8 and at least 8, rows at least 1. The ...AVX2Span functions
// of the kset hand it the vector part and their Go twin the rest.

// reluAVX2 is
//
//	for i := 0; i < n; i++ {
//		y[i] = x[i]
//		if x[i] < 0 {
//			y[i] = 0
//		}
//	}
//
//go:noescape
func reluAVX2(y, x *float32, n int)

// reluBackwardAVX2 is
//
//	for i := 0; i < n; i++ {
//		dx[i] = 0
//		if y[i] > 0 {
//			dx[i] = dy[i]
//		}
//	}
//
//go:noescape
func reluBackwardAVX2(dx, dy, y *float32, n int)

// addBiasAVX2 is
//
//	for r := 0; r < rows; r++ {
//		for j := 0; j < w; j++ {
//			v := y[r*stride+j] + bias[j]
//			if relu && v < 0 {
//				v = 0
//			}
//			y[r*stride+j] = v
//		}
//	}
//
//go:noescape
func addBiasAVX2(y, bias *float32, rows, w, stride int, relu bool)

// axpyAVX2 is
//
//	for i := 0; i < n; i++ {
//		y[i] += float32(a * x[i])
//	}
//
//go:noescape
func axpyAVX2(y, x *float32, n int, a float32)

// scaleAVX2 is
//
//	for i := 0; i < n; i++ {
//		x[i] *= a
//	}
//
//go:noescape
func scaleAVX2(x *float32, n int, a float32)

// mulMaskAVX2 is
//
//	for i := 0; i < n; i++ {
//		y[i] = x[i] * mask[i]
//	}
//
//go:noescape
func mulMaskAVX2(y, x, mask *float32, n int)

// colSumAVX2 is
//
//	for r := 0; r < rows; r++ {
//		for j := 0; j < w; j++ {
//			dst[j] += x[r*stride+j]
//		}
//	}
//
//go:noescape
func colSumAVX2(dst, x *float32, rows, w, stride int)

// sgdMomentumAVX2 is, with fma(a, b, c) = float32(float64(a)*float64(b) + float64(c)),
//
//	for i := 0; i < n; i++ {
//		d := grad[i]
//		if wd != 0 {
//			d = fma(wd, w[i], d)
//		}
//		buf[i] = float32(mom*buf[i]) + d
//		w[i] = fma(-lr, buf[i], w[i])
//	}
//
//go:noescape
func sgdMomentumAVX2(w, grad, buf *float32, n int, lr, wd, mom float32)

func reluAVX2Span(y, x []float32) {
	y = y[:len(x)]
	if v := len(x) &^ 7; v > 0 {
		reluAVX2(&y[0], &x[0], v)
		y, x = y[v:], x[v:]
	}
	reluGo(y, x)
}

func reluBackwardAVX2Span(dx, dy, y []float32) {
	dx, dy = dx[:len(y)], dy[:len(y)]
	if v := len(y) &^ 7; v > 0 {
		reluBackwardAVX2(&dx[0], &dy[0], &y[0], v)
		dx, dy, y = dx[v:], dy[v:], y[v:]
	}
	reluBackwardGo(dx, dy, y)
}

func addBiasAVX2Span(y, bias []float32, rows, stride int, relu bool) {
	if rows == 0 || len(bias) == 0 {
		return
	}
	_ = y[(rows-1)*stride+len(bias)-1]
	w := len(bias) &^ 7
	if w > 0 {
		addBiasAVX2(&y[0], &bias[0], rows, w, stride, relu)
	}
	if w < len(bias) {
		addBiasGo(y[w:], bias[w:], rows, stride, relu)
	}
}

func axpyAVX2Span(y, x []float32, a float32) {
	y = y[:len(x)]
	if v := len(x) &^ 7; v > 0 {
		axpyAVX2(&y[0], &x[0], v, a)
		y, x = y[v:], x[v:]
	}
	axpyGo(y, x, a)
}

func scaleAVX2Span(x []float32, a float32) {
	if v := len(x) &^ 7; v > 0 {
		scaleAVX2(&x[0], v, a)
		x = x[v:]
	}
	scaleGo(x, a)
}

func mulMaskAVX2Span(y, x, mask []float32) {
	y, mask = y[:len(x)], mask[:len(x)]
	if v := len(x) &^ 7; v > 0 {
		mulMaskAVX2(&y[0], &x[0], &mask[0], v)
		y, x, mask = y[v:], x[v:], mask[v:]
	}
	mulMaskGo(y, x, mask)
}

func colSumAVX2Span(dst, x []float32, rows, stride int) {
	if rows == 0 || len(dst) == 0 {
		return
	}
	_ = x[(rows-1)*stride+len(dst)-1]
	w := len(dst) &^ 7
	if w > 0 {
		colSumAVX2(&dst[0], &x[0], rows, w, stride)
	}
	if w < len(dst) {
		colSumGo(dst[w:], x[w:], rows, stride)
	}
}

func sgdMomentumAVX2Span(w, g, buf []float32, lr, wd, mom float32) {
	g, buf = g[:len(w)], buf[:len(w)]
	if v := len(w) &^ 7; v > 0 {
		sgdMomentumAVX2(&w[0], &g[0], &buf[0], v, lr, wd, mom)
		w, g, buf = w[v:], g[v:], buf[v:]
	}
	SGDMomentumRef(w, g, buf, lr, wd, mom)
}

// ptrOrNil returns &s[0] after checking that s holds n values, or nil for a
// nil s: the assembly's optional arguments.
func ptrOrNil(s []float32, n int) *float32 {
	if s == nil {
		return nil
	}
	_ = s[n-1]
	return &s[0]
}
