//go:build !noasm

package kernels

// The Winograd transforms for c a multiple of 8, with the additions of the
// Go twins (winoInGo, winoOutGo, winoGradOutGo, winoGradInGo) in their
// order, so both give the same bits. In the loops, p[k][i] is the i-th
// float at the pointer p[k].

// winoInAVX2 is V_ξ = Bᵀ·d·B of one tile, d the 4×4 patch at src:
//
//	for i := 0; i < c; i++ {
//		for r := 0; r < 4; r++ {
//			var t [4]float32 // row r of Bᵀ·d
//			for j := 0; j < 4; j++ {
//				d0, d1, d2, d3 := src[j][i], src[4+j][i], src[8+j][i], src[12+j][i]
//				t[j] = [4]float32{d0 - d2, d1 + d2, d2 - d1, d1 - d3}[r]
//			}
//			v[(4*r)*ld+i], v[(4*r+1)*ld+i] = t[0]-t[2], t[1]+t[2]
//			v[(4*r+2)*ld+i], v[(4*r+3)*ld+i] = t[2]-t[1], t[1]-t[3]
//		}
//	}
//
//go:noescape
func winoInAVX2(v *float32, ld int, src *[16]*float32, c int)

// winoOutAVX2 is y = Aᵀ·M·A (+ bias, then ReLU) of one tile:
//
//	for i := 0; i < c; i++ {
//		for r := 0; r < 2; r++ {
//			var s [4]float32 // row r of Aᵀ·M
//			for j := 0; j < 4; j++ {
//				m0, m1, m2, m3 := m[j*ld+i], m[(4+j)*ld+i], m[(8+j)*ld+i], m[(12+j)*ld+i]
//				s[j] = [2]float32{float32(m0+m1) + m2, float32(m1-m2) - m3}[r]
//			}
//			y0, y1 := float32(s[0]+s[1])+s[2], float32(s[1]-s[2])-s[3]
//			if bias != nil {
//				y0, y1 = y0+bias[i], y1+bias[i]
//			}
//			if relu && y0 < 0 {
//				y0 = 0
//			}
//			if relu && y1 < 0 {
//				y1 = 0
//			}
//			dst[2*r][i], dst[2*r+1][i] = y0, y1
//		}
//	}
//
//go:noescape
func winoOutAVX2(dst *[4]*float32, m *float32, ld int, bias *float32, c int, relu bool)

// winoGradOutAVX2 is dM = A·dz·Aᵀ of one tile, dz = dy masked by y > 0
// when relu is set, adding dz to db unless it is nil:
//
//	for i := 0; i < c; i++ {
//		var e [4]float32
//		for k := range e {
//			e[k] = dy[k][i]
//			if relu && !(y[k][i] > 0) {
//				e[k] = 0
//			}
//		}
//		if db != nil {
//			db[i] = float32(float32(float32(db[i]+e[0])+e[1])+e[2]) + e[3]
//		}
//		for r := 0; r < 4; r++ {
//			q0 := [4]float32{e[0], e[0] + e[2], e[0] - e[2], -e[2]}[r]
//			q1 := [4]float32{e[1], e[1] + e[3], e[1] - e[3], -e[3]}[r]
//			m[(4*r)*ld+i], m[(4*r+1)*ld+i] = q0, q0+q1
//			m[(4*r+2)*ld+i], m[(4*r+3)*ld+i] = q0-q1, -q1
//		}
//	}
//
//go:noescape
func winoGradOutAVX2(m *float32, ld int, dy *[4]*float32, y *[4]*float32, db *float32, c int, relu bool)

// winoGradInAVX2 is dst = acc + B·dV·Bᵀ of one tile, acc[k] being dst[k]
// or a zero vector:
//
//	for i := 0; i < c; i++ {
//		for r := 0; r < 4; r++ {
//			var w [4]float32 // row r of B·dV
//			for j := 0; j < 4; j++ {
//				v0, v1, v2, v3 := v[j*ld+i], v[(4+j)*ld+i], v[(8+j)*ld+i], v[(12+j)*ld+i]
//				w[j] = [4]float32{v0, float32(v1-v2) + v3, float32(v1+v2) - v0, -v3}[r]
//			}
//			dst[4*r][i] = acc[4*r][i] + w[0]
//			dst[4*r+1][i] = acc[4*r+1][i] + (float32(w[1]-w[2]) + w[3])
//			dst[4*r+2][i] = acc[4*r+2][i] + (float32(w[1]+w[2]) - w[0])
//			dst[4*r+3][i] = acc[4*r+3][i] + -w[3]
//		}
//	}
//
//go:noescape
func winoGradInAVX2(dst, acc *[16]*float32, v *float32, ld int, c int)

func winoInAVX2Span(v []float32, ld int, src [16]*float32, c int) {
	if c%8 != 0 || c == 0 {
		winoInGo(v, ld, src, c)
		return
	}
	_ = v[15*ld+c-1]
	winoInAVX2(&v[0], ld, &src, c)
}

func winoOutAVX2Span(dst [4]*float32, m []float32, ld int, bias []float32, c int, relu bool) {
	if c%8 != 0 || c == 0 {
		winoOutGo(dst, m, ld, bias, c, relu)
		return
	}
	_ = m[15*ld+c-1]
	winoOutAVX2(&dst, &m[0], ld, ptrOrNil(bias, c), c, relu)
}

func winoGradOutAVX2Span(m []float32, ld int, dy, y [4]*float32, db []float32, c int, relu bool) {
	if c%8 != 0 || c == 0 {
		winoGradOutGo(m, ld, dy, y, db, c, relu)
		return
	}
	_ = m[15*ld+c-1]
	winoGradOutAVX2(&m[0], ld, &dy, &y, ptrOrNil(db, c), c, relu)
}

func winoGradInAVX2Span(dst, acc [16]*float32, v []float32, ld, c int) {
	if c%8 != 0 || c == 0 {
		winoGradInGo(dst, acc, v, ld, c)
		return
	}
	_ = v[15*ld+c-1]
	winoGradInAVX2(&dst, &acc, &v[0], ld, c)
}
