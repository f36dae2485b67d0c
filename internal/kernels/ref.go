package kernels

import "math"

// SgemmRef computes C = alpha·op(A)·op(B) + beta·C, where op(X) is X or Xᵀ.
// op(A) is m×k, op(B) is k×n and C is m×n, all row-major with leading
// dimensions lda, ldb and ldc. When beta is 0, C is not read (NaNs in C are
// overwritten).
//
//	for i < m, j < n:
//		s := sum over p < k of op(A)[i,p]·op(B)[p,j]
//		C[i,j] = alpha·s + beta·C[i,j]
func SgemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// Im2col3x3Ref unrolls the NHWC input x (n×h×w×c) for a 3×3 convolution
// with stride 1 and zero padding 1. Row (b,y,x) of col, of length 9·c, holds
// the input patch in (ky, kx, cin) order; col has n·h·w rows.
func Im2col3x3Ref(col, x []float32, n, h, w, c int) {
	row := 0
	for b := 0; b < n; b++ {
		for y := 0; y < h; y++ {
			for xx := 0; xx < w; xx++ {
				dst := col[row*9*c : (row+1)*9*c]
				for ky := 0; ky < 3; ky++ {
					for kx := 0; kx < 3; kx++ {
						d := dst[(ky*3+kx)*c : (ky*3+kx+1)*c]
						iy, ix := y+ky-1, xx+kx-1
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							for i := range d {
								d[i] = 0
							}
							continue
						}
						copy(d, x[((b*h+iy)*w+ix)*c:((b*h+iy)*w+ix+1)*c])
					}
				}
				row++
			}
		}
	}
}

// Col2im3x3Ref is the adjoint of Im2col3x3Ref: it sets dx (n×h×w×c, NHWC)
// to the sum, over every patch entry of col that reads an input pixel, of
// that entry.
func Col2im3x3Ref(dx, col []float32, n, h, w, c int) {
	for i := range dx[:n*h*w*c] {
		dx[i] = 0
	}
	row := 0
	for b := 0; b < n; b++ {
		for y := 0; y < h; y++ {
			for xx := 0; xx < w; xx++ {
				src := col[row*9*c : (row+1)*9*c]
				for ky := 0; ky < 3; ky++ {
					for kx := 0; kx < 3; kx++ {
						iy, ix := y+ky-1, xx+kx-1
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							continue
						}
						s := src[(ky*3+kx)*c : (ky*3+kx+1)*c]
						d := dx[((b*h+iy)*w+ix)*c : ((b*h+iy)*w+ix+1)*c]
						for i := range d {
							d[i] += s[i]
						}
					}
				}
				row++
			}
		}
	}
}

// MaxPool2x2Ref is a 2×2 max-pool with stride 2 on NHWC x (n×h×w×c), in
// floor mode: y is n×(h/2)×(w/2)×c, and an odd last row or column is dropped.
// idx[i] receives the flat index into x of the maximum that gave y[i]; on a
// tie the first in (dy, dx) order wins. A NaN propagates.
func MaxPool2x2Ref(y []float32, idx []int32, x []float32, n, h, w, c int) {
	oh, ow := h/2, w/2
	o := 0
	for b := 0; b < n; b++ {
		for py := 0; py < oh; py++ {
			for px := 0; px < ow; px++ {
				for ch := 0; ch < c; ch++ {
					best := ((b*h+2*py)*w+2*px)*c + ch
					for _, d := range [3][2]int{{0, 1}, {1, 0}, {1, 1}} {
						j := ((b*h+2*py+d[0])*w+2*px+d[1])*c + ch
						if x[j] > x[best] || (x[j] != x[j] && x[best] == x[best]) {
							best = j
						}
					}
					y[o] = x[best]
					idx[o] = int32(best)
					o++
				}
			}
		}
	}
}

// MaxPoolBackwardRef sets dx (of length nx) to zero, then adds dy[i] at
// dx[idx[i]] for each i. It serves both 2×2 and global max-pooling.
func MaxPoolBackwardRef(dx []float32, dy []float32, idx []int32, nx int) {
	for i := range dx[:nx] {
		dx[i] = 0
	}
	for i, j := range idx[:len(dy)] {
		dx[j] += dy[i]
	}
}

// GlobalMaxPoolRef takes the maximum over the hw positions of NHWC x
// (n×hw×c) for each image and channel: y is n×c, and idx holds the flat
// index into x of each maximum (first wins on ties).
func GlobalMaxPoolRef(y []float32, idx []int32, x []float32, n, hw, c int) {
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			best := b*hw*c + ch
			for p := 1; p < hw; p++ {
				j := (b*hw+p)*c + ch
				if x[j] > x[best] || (x[j] != x[j] && x[best] == x[best]) {
					best = j
				}
			}
			y[b*c+ch] = x[best]
			idx[b*c+ch] = int32(best)
		}
	}
}

// AddBiasReLURef adds bias (length cols) to every row of y (rows×cols, dense)
// and, when relu is set, clamps the result at zero.
func AddBiasReLURef(y, bias []float32, rows, cols int, relu bool) {
	for r := 0; r < rows; r++ {
		row := y[r*cols : (r+1)*cols]
		for j := range row {
			v := row[j] + bias[j]
			if relu && v < 0 {
				v = 0
			}
			row[j] = v
		}
	}
}

// ReLURef sets y[i] = max(x[i], 0).
func ReLURef(y, x []float32) {
	for i, v := range x {
		if v < 0 {
			v = 0
		}
		y[i] = v
	}
}

// ReLUBackwardRef sets dx[i] = dy[i] where y[i] > 0, else 0. y is the
// ReLU's output. dx may alias dy.
func ReLUBackwardRef(dx, dy, y []float32) {
	for i, v := range y {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// ColSumRef adds to dst (length cols) the column sums of x (rows×cols, dense).
// It is the bias gradient of a dense or convolution layer.
func ColSumRef(dst, x []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		row := x[r*cols : (r+1)*cols]
		for j, v := range row {
			dst[j] += v
		}
	}
}

// SoftmaxCrossEntropyRef computes the mean softmax cross-entropy of logits
// (n×classes) against labels, with label smoothing eps (the target is
// (1-eps) on the label plus eps/classes everywhere). It writes the gradient
// of the mean loss with respect to the logits into dlogits (n×classes; may be
// nil to skip), and returns the mean loss and the number of rows whose argmax
// equals the label (first maximum wins).
func SoftmaxCrossEntropyRef(dlogits, logits []float32, labels []uint8, n, classes int, eps float32) (loss float64, correct int) {
	for i := 0; i < n; i++ {
		row := logits[i*classes : (i+1)*classes]
		mx, arg := row[0], 0
		for j, v := range row {
			if v > mx {
				mx, arg = v, j
			}
		}
		if arg == int(labels[i]) {
			correct++
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v - mx))
		}
		lse := float64(mx) + math.Log(sum)
		lab := int(labels[i])
		var l float64
		for j, v := range row {
			t := float64(eps) / float64(classes)
			if j == lab {
				t += 1 - float64(eps)
			}
			l -= t * (float64(v) - lse)
			if dlogits != nil {
				p := math.Exp(float64(v) - lse)
				dlogits[i*classes+j] = float32((p - t) / float64(n))
			}
		}
		loss += l
	}
	return loss / float64(n), correct
}
