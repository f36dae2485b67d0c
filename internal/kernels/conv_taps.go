package kernels

// The 3×3 convolution (stride 1, pad 1, NHWC) on tiny images, one GEMM per
// pair of an output pixel o and an input pixel i in its window, over the
// batch: y[:, o] += x[:, i]·W_t, where t is the tap joining them and
// W_t the cin × cout block of rows t·cin.. of the weight. Rows of x[:, i]
// and y[:, o] are a whole image apart, which the GEMM's leading dimension
// covers, so nothing is copied. A 3×3 image has 49 such pairs where im2col
// multiplies 81 blocks, the rest padding; the ratio falls towards 1 as
// images grow, while the GEMMs get more numerous and smaller, so this path
// is for images of a few pixels.
//
// Tasks are output pixels (forward), or input pixels and taps (backward),
// each a fixed sequence of GEMMs on one goroutine, so the bits do not
// depend on scheduling. A single image is one task that goes tap by tap,
// with each output's sequence unchanged.

// tapPairs calls f(t, other) for the taps t of pixel p (flat in an h × w
// image) whose other end lies inside the image, in tap order; other is the
// input pixel when p is an output (out set) and the output pixel when p is
// an input.
func tapPairs(p, h, w int, out bool, f func(t, other int)) {
	py, px := p/w, p%w
	for t := 0; t < 9; t++ {
		dy, dx := t/3-1, t%3-1
		if !out {
			dy, dx = -dy, -dx
		}
		qy, qx := py+dy, px+dx
		if qy >= 0 && qy < h && qx >= 0 && qx < w {
			f(t, qy*w+qx)
		}
	}
}

// Conv3x3Taps sets y (n, h, w, cout) to the convolution of x (n, h, w,
// cin) with w ((9·cin) × cout, rows in (ky, kx, cin) order), plus bias
// (nil for none), clamped at zero if relu is set; see Conv3x3TapsRef. It
// matches im2col and a GEMM to rounding.
func Conv3x3Taps(y, x, wt, bias []float32, n, h, w, cin, cout int, relu bool) {
	std().Conv3x3Taps(y, x, wt, bias, n, h, w, cin, cout, relu)
}

func (e exec) Conv3x3Taps(y, x, wt, bias []float32, n, h, w, cin, cout int, relu bool) {
	const fn = "Conv3x3Taps"
	dimCheck(fn, n, h, w, cin, cout)
	lenCheck(fn, "y", len(y), n*h*w*cout)
	lenCheck(fn, "x", len(x), n*h*w*cin)
	lenCheck(fn, "w", len(wt), 9*cin*cout)
	if bias != nil {
		lenCheck(fn, "bias", len(bias), cout)
	}
	if n*h*w*cout == 0 {
		return
	}
	j := tapsFwdJob{k: e.k, pool: e.pool, y: y, x: x, w: wt, bias: bias, n: n, h: h, wd: w, cin: cin, cout: cout, relu: relu}
	if n == 1 {
		// One image: one task, tap by tap (see one).
		j.gemm = getSpace()
		j.one(j.gemm)
		putSpace(j.gemm)
		return
	}
	if !parRun(e, &e.pool.slots.tapsFwd, j, h*w, n*h*w*9*cin*cout) {
		j.gemm = getSpace()
		for o := 0; o < h*w; o++ {
			j.task(o, 0)
		}
		putSpace(j.gemm)
	}
}

type tapsFwdJob struct {
	k                   *kset
	pool                *parPool
	gemm                *sgemmWorkspace // when the tasks run in a loop on the caller
	y, x, w, bias       []float32
	n, h, wd, cin, cout int
	relu                bool
}

// task computes output pixel o of every image.
func (j *tapsFwdJob) task(o, w int) {
	ws := gemmSpace(j.pool, j.gemm, w)
	hw, cc := j.h*j.wd, j.cin*j.cout
	yo := j.y[o*j.cout : (j.n-1)*hw*j.cout+(o+1)*j.cout]
	beta := float32(0)
	if j.cin > 0 {
		tapPairs(o, j.h, j.wd, true, func(t, i int) {
			gemm1(ws, false, false, j.n, j.cout, j.cin, j.x[i*j.cin:], hw*j.cin, j.w[t*cc:], j.cout, beta, yo, hw*j.cout)
			beta = 1
		})
	}
	if beta == 0 { // no input reaches it
		for b := 0; b < j.n; b++ {
			clear(yo[b*hw*j.cout : b*hw*j.cout+j.cout])
		}
	}
	if j.bias != nil || j.relu {
		stridedBiasReLU(j.k, yo, j.bias, j.n, j.cout, hw*j.cout, j.relu)
	}
}

// one computes a single image tap by tap rather than pixel by pixel: a
// tap's block of the weight is then read from memory once for all the
// pixels it joins, not once per pixel. Each output still receives its taps
// in tap order, the first with beta 0, so it has the bits of the
// pixel-by-pixel order. It runs on one goroutine. Thread CPU time on the
// loaded Zen 5 for 3×3 and 256 → 256 channels: 138 µs pixel by pixel, 98
// µs tap by tap, 129 µs in two halves of the channels (narrower row
// kernels); nn's cnn-ref latency1, medians of 7 alternated: 0.83 ms so,
// 0.92 ms with the two halves on the pool, 0.90 ms pixel by pixel on it.
func (j *tapsFwdJob) one(ws *sgemmWorkspace) {
	hw, cc := j.h*j.wd, j.cin*j.cout
	if j.cin == 0 {
		clear(j.y[:hw*j.cout])
	}
	for tap := 0; tap < 9 && j.cin > 0; tap++ {
		for o := 0; o < hw; o++ {
			i, ok := tapInput(o, tap, j.h, j.wd)
			if !ok {
				continue
			}
			beta := float32(0)
			for earlier := 0; earlier < tap; earlier++ {
				if _, ok := tapInput(o, earlier, j.h, j.wd); ok {
					beta = 1
					break
				}
			}
			gemm1(ws, false, false, 1, j.cout, j.cin, j.x[i*j.cin:], j.cin, j.w[tap*cc:], j.cout, beta, j.y[o*j.cout:], j.cout)
		}
	}
	if j.bias != nil || j.relu {
		stridedBiasReLU(j.k, j.y, j.bias, hw, j.cout, j.cout, j.relu)
	}
}

// tapInput returns the input pixel that tap t joins to output pixel o of
// an h × w image, and whether it lies inside the image.
func tapInput(o, t, h, w int) (int, bool) {
	qy, qx := o/w+t/3-1, o%w+t%3-1
	return qy*w + qx, qy >= 0 && qy < h && qx >= 0 && qx < w
}

// stridedBiasReLU adds bias (nil for none) to rows of cols floats, stride
// apart, and clamps them at zero if relu is set, as AddBiasReLURef does.
func stridedBiasReLU(k *kset, y, bias []float32, rows, cols, stride int, relu bool) {
	if bias != nil {
		k.addBias(y, bias[:cols], rows, stride, relu)
		return
	}
	if !relu {
		return
	}
	for r := 0; r < rows; r++ {
		row := y[r*stride : r*stride+cols]
		for c, v := range row {
			if v < 0 {
				row[c] = 0
			}
		}
	}
}

// Conv3x3TapsBackward is the gradient of Conv3x3Taps with respect to its
// weight and input: from dz, the gradient at the output before the bias and
// the ReLU, it sets dw ((9·cin) × cout) and dx (n, h, w, cin, unless nil);
// see Conv3x3TapsBackwardRef.
func Conv3x3TapsBackward(dx, dw, dz, x, wt []float32, n, h, w, cin, cout int) {
	std().Conv3x3TapsBackward(dx, dw, dz, x, wt, n, h, w, cin, cout)
}

func (e exec) Conv3x3TapsBackward(dx, dw, dz, x, wt []float32, n, h, w, cin, cout int) {
	const fn = "Conv3x3TapsBackward"
	dimCheck(fn, n, h, w, cin, cout)
	lenCheck(fn, "dw", len(dw), 9*cin*cout)
	lenCheck(fn, "dz", len(dz), n*h*w*cout)
	lenCheck(fn, "x", len(x), n*h*w*cin)
	lenCheck(fn, "w", len(wt), 9*cin*cout)
	if dx != nil {
		lenCheck(fn, "dx", len(dx), n*h*w*cin)
	}
	j := tapsBackJob{pool: e.pool, dx: dx, dw: dw, dz: dz, x: x, w: wt, n: n, h: h, wd: w, cin: cin, cout: cout}
	tasks := 9
	if dx != nil {
		tasks += h * w
	}
	if !parRun(e, &e.pool.slots.tapsBack, j, tasks, 2*n*h*w*9*cin*cout) {
		j.gemm = getSpace()
		for t := 0; t < tasks; t++ {
			j.task(t, 0)
		}
		putSpace(j.gemm)
	}
}

type tapsBackJob struct {
	pool                *parPool
	gemm                *sgemmWorkspace // when the tasks run in a loop on the caller
	dx, dw, dz, x, w    []float32
	n, h, wd, cin, cout int
}

// task computes the weight gradient of tap t < 9, or the input gradient of
// pixel t−9 of every image.
func (j *tapsBackJob) task(t, w int) {
	ws := gemmSpace(j.pool, j.gemm, w)
	hw, cc := j.h*j.wd, j.cin*j.cout
	if t < 9 {
		dwt := j.dw[t*cc : (t+1)*cc]
		beta := float32(0)
		if j.n > 0 && cc > 0 {
			// The pairs of tap t, by output pixel.
			for o := 0; o < hw; o++ {
				oy, ox := o/j.wd, o%j.wd
				iy, ix := oy+t/3-1, ox+t%3-1
				if iy < 0 || iy >= j.h || ix < 0 || ix >= j.wd {
					continue
				}
				i := iy*j.wd + ix
				gemm1(ws, true, false, j.cin, j.cout, j.n, j.x[i*j.cin:], hw*j.cin, j.dz[o*j.cout:], hw*j.cout, beta, dwt, j.cout)
				beta = 1
			}
		}
		if beta == 0 {
			clear(dwt)
		}
		return
	}
	i := t - 9
	if j.n == 0 || j.cin == 0 {
		return
	}
	dxi := j.dx[i*j.cin : (j.n-1)*hw*j.cin+(i+1)*j.cin]
	beta := float32(0)
	if j.cout > 0 {
		tapPairs(i, j.h, j.wd, false, func(tap, o int) {
			gemm1(ws, false, true, j.n, j.cin, j.cout, j.dz[o*j.cout:], hw*j.cout, j.w[tap*cc:], j.cout, beta, dxi, hw*j.cin)
			beta = 1
		})
	}
	if beta == 0 {
		for b := 0; b < j.n; b++ {
			clear(dxi[b*hw*j.cin : b*hw*j.cin+j.cin])
		}
	}
}
