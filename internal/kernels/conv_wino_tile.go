package kernels

import "unsafe"

// The transforms of one Winograd tile, in Go: the twins of the assembly,
// whose order of additions it follows.

// winoPatch fills p with the 16 input pixels of tile (ty, tx) of image b
// (zero outside the image), row-major over the 4×4 patch.
func winoPatch(p *[16]*float32, x []float32, zero *float32, b, ty, tx, h, w, c int) {
	for i := 0; i < 4; i++ {
		iy := 2*ty - 1 + i
		for j := 0; j < 4; j++ {
			ix := 2*tx - 1 + j
			if iy >= 0 && iy < h && ix >= 0 && ix < w {
				p[4*i+j] = &x[((b*h+iy)*w+ix)*c]
			} else {
				p[4*i+j] = zero
			}
		}
	}
}

// winoQuad fills q with the 2×2 output pixels of tile (ty, tx) of image b,
// or other (a dump or a zero vector) outside the image.
func winoQuad(q *[4]*float32, y []float32, other *float32, b, ty, tx, h, w, c int) {
	for i := 0; i < 2; i++ {
		oy := 2*ty + i
		for j := 0; j < 2; j++ {
			ox := 2*tx + j
			if oy < h && ox < w {
				q[2*i+j] = &y[((b*h+oy)*w+ox)*c]
			} else {
				q[2*i+j] = other
			}
		}
	}
}

// vec views c floats at p.
func vec(p *float32, c int) []float32 { return unsafe.Slice(p, c) }

// winoInGo writes V_ξ (v[ξ·ld : ξ·ld+c]) of one tile from its 16 input
// pixels, Bᵀ·d·B with Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], down
// the patch's columns first (patch row r of the result from its rows),
// then along its rows.
func winoInGo(v []float32, ld int, src [16]*float32, c int) {
	var d [16][]float32
	for k, s := range src {
		d[k] = vec(s, c)
	}
	_ = v[15*ld+c-1]
	for i := 0; i < c; i++ {
		for r := 0; r < 4; r++ {
			var t [4]float32
			for col := 0; col < 4; col++ {
				d0, d1, d2, d3 := d[col][i], d[4+col][i], d[8+col][i], d[12+col][i]
				switch r {
				case 0:
					t[col] = d0 - d2
				case 1:
					t[col] = d1 + d2
				case 2:
					t[col] = d2 - d1
				case 3:
					t[col] = d1 - d3
				}
			}
			v[(4*r)*ld+i] = t[0] - t[2]
			v[(4*r+1)*ld+i] = t[1] + t[2]
			v[(4*r+2)*ld+i] = t[2] - t[1]
			v[(4*r+3)*ld+i] = t[1] - t[3]
		}
	}
}

// winoOutGo writes the 2×2 outputs of one tile, Aᵀ·M·A with
// Aᵀ = [1 1 1 0; 0 1 -1 -1] (down the columns first), plus the bias (nil
// for none), clamped at zero if relu.
func winoOutGo(dst [4]*float32, m []float32, ld int, bias []float32, c int, relu bool) {
	var o [4][]float32
	for k, p := range dst {
		o[k] = vec(p, c)
	}
	bs := bias
	if bs != nil {
		bs = bs[:c]
	}
	_ = m[15*ld+c-1]
	for i := 0; i < c; i++ {
		for r := 0; r < 2; r++ {
			var s [4]float32
			for col := 0; col < 4; col++ {
				m0, m1, m2, m3 := m[col*ld+i], m[(4+col)*ld+i], m[(8+col)*ld+i], m[(12+col)*ld+i]
				if r == 0 {
					s[col] = float32(m0+m1) + m2
				} else {
					s[col] = float32(m1-m2) - m3
				}
			}
			y0 := float32(s[0]+s[1]) + s[2]
			y1 := float32(s[1]-s[2]) - s[3]
			if bs != nil {
				y0 += bs[i]
				y1 += bs[i]
			}
			if relu {
				if y0 < 0 {
					y0 = 0
				}
				if y1 < 0 {
					y1 = 0
				}
			}
			o[2*r][i] = y0
			o[2*r+1][i] = y1
		}
	}
}

// winoGradOutGo writes dM_ξ (m[ξ·ld : ξ·ld+c]) of one tile, A·dz·Aᵀ with
// A = [1 0; 1 1; 1 -1; 0 -1] (down the columns first), where dz is dy
// masked by y > 0 when relu is set. It adds the four dz to db (nil for
// none) in order.
func winoGradOutGo(m []float32, ld int, dy, y [4]*float32, db []float32, c int, relu bool) {
	var g, yv [4][]float32
	for k := range dy {
		g[k] = vec(dy[k], c)
		if relu {
			yv[k] = vec(y[k], c)
		}
	}
	_ = m[15*ld+c-1]
	for i := 0; i < c; i++ {
		var e [4]float32
		for k := range e {
			e[k] = g[k][i]
			if relu && !(yv[k][i] > 0) {
				e[k] = 0
			}
		}
		if db != nil {
			db[i] = float32(float32(float32(db[i]+e[0])+e[1])+e[2]) + e[3]
		}
		// Down the columns: q[r][j] from e[0][j], e[1][j].
		var q [4][2]float32
		for jj := 0; jj < 2; jj++ {
			e0, e1 := e[jj], e[2+jj]
			q[0][jj] = e0
			q[1][jj] = e0 + e1
			q[2][jj] = e0 - e1
			q[3][jj] = -e1
		}
		for r := 0; r < 4; r++ {
			q0, q1 := q[r][0], q[r][1]
			m[(4*r)*ld+i] = q0
			m[(4*r+1)*ld+i] = q0 + q1
			m[(4*r+2)*ld+i] = q0 - q1
			m[(4*r+3)*ld+i] = -q1
		}
	}
}

// winoGradInGo sets the 16 input pixels of one tile (dst, row-major over
// the patch) to acc + B·dV·Bᵀ, down the columns first; acc[k] is dst[k]
// to add to it, or a zero vector to set it.
func winoGradInGo(dst, acc [16]*float32, v []float32, ld int, c int) {
	var o, a [16][]float32
	for k, p := range dst {
		o[k], a[k] = vec(p, c), vec(acc[k], c)
	}
	_ = v[15*ld+c-1]
	for i := 0; i < c; i++ {
		for r := 0; r < 4; r++ {
			var w [4]float32
			for col := 0; col < 4; col++ {
				v0, v1, v2, v3 := v[col*ld+i], v[(4+col)*ld+i], v[(8+col)*ld+i], v[(12+col)*ld+i]
				switch r {
				case 0:
					w[col] = v0
				case 1:
					w[col] = float32(v1-v2) + v3
				case 2:
					w[col] = float32(v1+v2) - v0
				case 3:
					w[col] = -v3
				}
			}
			o[4*r][i] = a[4*r][i] + w[0]
			o[4*r+1][i] = a[4*r+1][i] + (float32(w[1]-w[2]) + w[3])
			o[4*r+2][i] = a[4*r+2][i] + (float32(w[1]+w[2]) - w[0])
			o[4*r+3][i] = a[4*r+3][i] + -w[3]
		}
	}
}
