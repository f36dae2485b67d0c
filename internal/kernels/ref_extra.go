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

// The matrices of Winograd F(2×2, 3×3).
var (
	winoBT = [4][4]float32{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	winoAT = [2][4]float32{{1, 1, 1, 0}, {0, 1, -1, -1}}
)

// winoRefPatch gathers the 4×4 input patch of tile (ty, tx) of image b:
// d[4·i+j] is pixel (2ty−1+i, 2tx−1+j), nil outside the image.
func winoRefPatch(x []float32, b, ty, tx, h, w, c int) (d [16][]float32) {
	for i := range 4 {
		for j := range 4 {
			iy, ix := 2*ty-1+i, 2*tx-1+j
			if iy >= 0 && iy < h && ix >= 0 && ix < w {
				o := ((b*h+iy)*w + ix) * c
				d[4*i+j] = x[o : o+c]
			}
		}
	}
	return d
}

// WinogradConvRef is the definition of WinogradConv, tile by tile (s is
// not used):
//
//	for each image b, tile (ty, tx) with its 4×4 patch d (zero outside):
//	    V[ξ][ci] = (Bᵀ·d[·][ci]·B)[ξ]
//	    M[ξ][co] = Σ_ci V[ξ][ci]·u[ξ][ci][co]
//	    y[b, 2ty+i, 2tx+j, co] = (Aᵀ·M[·][co]·A)[i][j] + bias[co], then ReLU
func WinogradConvRef(y, x, u, bias []float32, n, h, w, cin, cout int, relu bool, s *WinogradScratch) {
	cc := cin * cout
	v := make([]float32, 16*cin)
	m := make([]float32, 16*cout)
	for b := range n {
		for ty := range (h + 1) / 2 {
			for tx := range (w + 1) / 2 {
				d := winoRefPatch(x, b, ty, tx, h, w, cin)
				for ci := range cin {
					for r := range 4 {
						for c := range 4 {
							var acc float32
							for k := range 4 {
								for l := range 4 {
									if d[4*k+l] != nil {
										acc += winoBT[r][k] * d[4*k+l][ci] * winoBT[c][l]
									}
								}
							}
							v[(4*r+c)*cin+ci] = acc
						}
					}
				}
				for xi := range 16 {
					for co := range cout {
						var acc float32
						for ci := range cin {
							acc += v[xi*cin+ci] * u[xi*cc+ci*cout+co]
						}
						m[xi*cout+co] = acc
					}
				}
				for i := range 2 {
					for j := range 2 {
						oy, ox := 2*ty+i, 2*tx+j
						if oy >= h || ox >= w {
							continue
						}
						for co := range cout {
							var acc float32
							for k := range 4 {
								for l := range 4 {
									acc += winoAT[i][k] * m[(4*k+l)*cout+co] * winoAT[j][l]
								}
							}
							if bias != nil {
								acc += bias[co]
							}
							if relu && acc < 0 {
								acc = 0
							}
							y[((b*h+oy)*w+ox)*cout+co] = acc
						}
					}
				}
			}
		}
	}
}

// WinogradConvBackwardRef is the definition of WinogradConvBackward, the
// adjoint of WinogradConvRef tile by tile (s is not used):
//
//	dz = dy, masked by y > 0 if relu; db[co] = Σ dz[·, co]
//	for each tile with input patch d and output gradient dz (zero outside):
//	    dM[ξ][co]     = (A·dz[·][co]·Aᵀ)[ξ]
//	    du[ξ][ci][co] += V[ξ][ci]·dM[ξ][co]       (V as in WinogradConvRef)
//	    dV[ξ][ci]     = Σ_co dM[ξ][co]·u[ξ][ci][co]
//	    dx[patch]     += B·dV[·][ci]·Bᵀ           (inside the image)
func WinogradConvBackwardRef(dx, du, db, dy, y, x, u []float32, n, h, w, cin, cout int, relu bool, s *WinogradScratch) {
	cc := cin * cout
	clear(du[:16*cc])
	if db != nil {
		clear(db[:cout])
	}
	if dx != nil {
		clear(dx[:n*h*w*cin])
	}
	v := make([]float32, 16*cin)
	dm := make([]float32, 16*cout)
	for b := range n {
		for ty := range (h + 1) / 2 {
			for tx := range (w + 1) / 2 {
				var dz [4][]float32
				for i := range 2 {
					for j := range 2 {
						oy, ox := 2*ty+i, 2*tx+j
						e := make([]float32, cout)
						if oy < h && ox < w {
							o := ((b*h+oy)*w + ox) * cout
							for co := range cout {
								if !relu || y[o+co] > 0 {
									e[co] = dy[o+co]
								}
							}
						}
						dz[2*i+j] = e
					}
				}
				if db != nil {
					for k := range 4 {
						for co := range cout {
							db[co] += dz[k][co]
						}
					}
				}
				for co := range cout {
					for r := range 4 {
						for c := range 4 {
							var acc float32
							for i := range 2 {
								for j := range 2 {
									acc += winoAT[i][r] * dz[2*i+j][co] * winoAT[j][c]
								}
							}
							dm[(4*r+c)*cout+co] = acc
						}
					}
				}
				d := winoRefPatch(x, b, ty, tx, h, w, cin)
				for ci := range cin {
					for r := range 4 {
						for c := range 4 {
							var acc float32
							for k := range 4 {
								for l := range 4 {
									if d[4*k+l] != nil {
										acc += winoBT[r][k] * d[4*k+l][ci] * winoBT[c][l]
									}
								}
							}
							v[(4*r+c)*cin+ci] = acc
						}
					}
				}
				for xi := range 16 {
					for ci := range cin {
						for co := range cout {
							du[xi*cc+ci*cout+co] += v[xi*cin+ci] * dm[xi*cout+co]
						}
					}
				}
				if dx == nil {
					continue
				}
				for ci := range cin {
					var dv [16]float32
					for xi := range 16 {
						for co := range cout {
							dv[xi] += dm[xi*cout+co] * u[xi*cc+ci*cout+co]
						}
					}
					for k := range 4 {
						for l := range 4 {
							iy, ix := 2*ty-1+k, 2*tx-1+l
							if iy < 0 || iy >= h || ix < 0 || ix >= w {
								continue
							}
							var acc float32
							for r := range 4 {
								for c := range 4 {
									acc += winoBT[r][k] * dv[4*r+c] * winoBT[c][l]
								}
							}
							dx[((b*h+iy)*w+ix)*cin+ci] += acc
						}
					}
				}
			}
		}
	}
}

// Conv3x3TapsRef is the definition of Conv3x3Taps, the direct convolution:
//
//	y[b, oy, ox, co] = Σ_{ky, kx, ci} x[b, oy+ky−1, ox+kx−1, ci]·w[(3ky+kx)·cin+ci, co]
//	                   (pixels outside the image skipped) + bias[co], then ReLU
func Conv3x3TapsRef(y, x, w, bias []float32, n, h, wd, cin, cout int, relu bool) {
	for b := range n {
		for oy := range h {
			for ox := range wd {
				for co := range cout {
					var acc float32
					for t := range 9 {
						iy, ix := oy+t/3-1, ox+t%3-1
						if iy < 0 || iy >= h || ix < 0 || ix >= wd {
							continue
						}
						for ci := range cin {
							acc += float32(x[((b*h+iy)*wd+ix)*cin+ci] * w[(t*cin+ci)*cout+co])
						}
					}
					if bias != nil {
						acc += bias[co]
					}
					if relu && acc < 0 {
						acc = 0
					}
					y[((b*h+oy)*wd+ox)*cout+co] = acc
				}
			}
		}
	}
}

// Conv3x3TapsBackwardRef is the definition of Conv3x3TapsBackward:
//
//	dw[(3ky+kx)·cin+ci, co] = Σ_{b, oy, ox} x[b, oy+ky−1, ox+kx−1, ci]·dz[b, oy, ox, co]
//	dx[b, iy, ix, ci]       = Σ_{ky, kx, co} dz[b, iy−ky+1, ix−kx+1, co]·w[(3ky+kx)·cin+ci, co]
//
// with pixels outside the image skipped.
func Conv3x3TapsBackwardRef(dx, dw, dz, x, w []float32, n, h, wd, cin, cout int) {
	clear(dw[:9*cin*cout])
	if dx != nil {
		clear(dx[:n*h*wd*cin])
	}
	for b := range n {
		for oy := range h {
			for ox := range wd {
				for t := range 9 {
					iy, ix := oy+t/3-1, ox+t%3-1
					if iy < 0 || iy >= h || ix < 0 || ix >= wd {
						continue
					}
					for ci := range cin {
						xi := ((b*h+iy)*wd+ix)*cin + ci
						for co := range cout {
							d := dz[((b*h+oy)*wd+ox)*cout+co]
							dw[(t*cin+ci)*cout+co] += float32(x[xi] * d)
							if dx != nil {
								dx[xi] += float32(d * w[(t*cin+ci)*cout+co])
							}
						}
					}
				}
			}
		}
	}
}

var winoG = [4][3]float32{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}

// WinogradWeightsRef is the definition of WinogradWeights:
//
//	u[ξ = 4r+c][ci][co] = Σ_{ky, kx} G[r][ky]·w[(3ky+kx)·cin+ci][co]·G[c][kx]
func WinogradWeightsRef(u, w []float32, cin, cout int) {
	cc := cin * cout
	for i := range cc {
		for r := range 4 {
			for c := range 4 {
				var acc float32
				for t := range 9 {
					acc += float32(winoG[r][t/3]*w[t*cc+i]) * winoG[c][t%3]
				}
				u[(4*r+c)*cc+i] = acc
			}
		}
	}
}

// WinogradWeightsGradRef is the definition of WinogradWeightsGrad, the
// transpose of WinogradWeightsRef:
//
//	dw[(3ky+kx)·cin+ci][co] = Σ_{r, c} G[r][ky]·du[4r+c][ci][co]·G[c][kx]
func WinogradWeightsGradRef(dw, du []float32, cin, cout int) {
	cc := cin * cout
	for i := range cc {
		for t := range 9 {
			var acc float32
			for xi := range 16 {
				acc += float32(winoG[xi/4][t/3]*du[xi*cc+i]) * winoG[xi%4][t%3]
			}
			dw[t*cc+i] = acc
		}
	}
}

// SGDMomentumRef is one step of PyTorch's SGD with momentum (dampening 0,
// no Nesterov) on the weights w, their gradient g and the momentum buffer
// buf, rounding where PyTorch rounds:
//
//	d   = fma(wd, w, g)      (just g when wd is 0)
//	buf = float32(mom·buf) + d
//	w   = fma(−lr, buf, w)
//
// where fma(a, b, c) is float32(float64(a)·float64(b) + float64(c)).
func SGDMomentumRef(w, g, buf []float32, lr, wd, mom float32) {
	fma := func(a, b, c float32) float32 { return float32(float64(a)*float64(b) + float64(c)) }
	g, buf = g[:len(w)], buf[:len(w)]
	for j, x := range w {
		d := g[j]
		if wd != 0 {
			d = fma(wd, x, d)
		}
		b := float32(mom*buf[j]) + d
		buf[j] = b
		w[j] = fma(-lr, b, x)
	}
}
