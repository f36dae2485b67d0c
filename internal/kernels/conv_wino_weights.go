package kernels

// The weight transform of Winograd F(2×2, 3×3) and its adjoint.

// WinogradWeights sets u (16·cin·cout, ξ-major, each ξ a cin × cout
// matrix) to G·g·Gᵀ for every channel pair, where w is a convolution
// weight ((9·cin) × cout, rows in (ky, kx, cin) order) and G is
//
//	[ 1    0    0  ]
//	[ 1/2  1/2  1/2]
//	[ 1/2 -1/2  1/2]
//	[ 0    0    1  ]
//
// applied along kx first, then ky. u must not overlap w.
func WinogradWeights(u, w []float32, cin, cout int) {
	dimCheck("WinogradWeights", cin, cout)
	lenCheck("WinogradWeights", "u", len(u), 16*cin*cout)
	lenCheck("WinogradWeights", "w", len(w), 9*cin*cout)
	cc := cin * cout
	// Planes (a tap of w, a ξ of u) are cc floats; the loops run along
	// them, one channel pair per element.
	plane := func(s []float32, k int) []float32 { return s[k*cc : (k+1)*cc] }
	// Along kx: row ky of g·Gᵀ into planes 4·ky+c of u.
	for ky := 0; ky < 3; ky++ {
		g0, g1, g2 := plane(w, 3*ky), plane(w, 3*ky+1), plane(w, 3*ky+2)
		a0, a1, a2, a3 := plane(u, 4*ky), plane(u, 4*ky+1), plane(u, 4*ky+2), plane(u, 4*ky+3)
		a0, a1, a2, a3 = a0[:len(g0)], a1[:len(g0)], a2[:len(g0)], a3[:len(g0)]
		g1, g2 = g1[:len(g0)], g2[:len(g0)]
		for i, x0 := range g0 {
			x1, x2 := g1[i], g2[i]
			a0[i] = x0
			a1[i] = float32(float32(x0+x1)+x2) * 0.5
			a2[i] = float32(float32(x0-x1)+x2) * 0.5
			a3[i] = x2
		}
	}
	// Along ky, in place: rows 1 to 3 of u from rows 0 to 2 of g·Gᵀ; row 0
	// is row 0 already.
	for c := 0; c < 4; c++ {
		a0, a1, a2, a3 := plane(u, c), plane(u, 4+c), plane(u, 8+c), plane(u, 12+c)
		a1, a2, a3 = a1[:len(a0)], a2[:len(a0)], a3[:len(a0)]
		for i, x0 := range a0 {
			x1, x2 := a1[i], a2[i]
			a1[i] = float32(float32(x0+x1)+x2) * 0.5
			a2[i] = float32(float32(x0-x1)+x2) * 0.5
			a3[i] = x2
		}
	}
}

// WinogradWeightsGrad is the adjoint of WinogradWeights: it sets the
// weight gradient dw = Gᵀ·du·G ((9·cin) × cout) from the gradient du with
// respect to u, along ξ's column first, then its row. dw must not overlap
// du.
func WinogradWeightsGrad(dw, du []float32, cin, cout int) {
	dimCheck("WinogradWeightsGrad", cin, cout)
	lenCheck("WinogradWeightsGrad", "dw", len(dw), 9*cin*cout)
	lenCheck("WinogradWeightsGrad", "du", len(du), 16*cin*cout)
	cc := cin * cout
	plane := func(s []float32, k int) []float32 { return s[k*cc : (k+1)*cc] }
	// Along the columns: a[r][kx] for rows r < 3 into planes 3·r+kx of dw.
	for r := 0; r < 3; r++ {
		d0, d1, d2, d3 := plane(du, 4*r), plane(du, 4*r+1), plane(du, 4*r+2), plane(du, 4*r+3)
		d1, d2, d3 = d1[:len(d0)], d2[:len(d0)], d3[:len(d0)]
		o0, o1, o2 := plane(dw, 3*r), plane(dw, 3*r+1), plane(dw, 3*r+2)
		o0, o1, o2 = o0[:len(d0)], o1[:len(d0)], o2[:len(d0)]
		for i, u0 := range d0 {
			u1, u2, u3 := d1[i], d2[i], d3[i]
			o0[i] = u0 + float32(u1+u2)*0.5
			o1[i] = float32(u1-u2) * 0.5
			o2[i] = float32(float32(u1+u2)*0.5) + u3
		}
	}
	// Along the rows, in place, with a[3][kx] computed on the way.
	d0, d1, d2, d3 := plane(du, 12), plane(du, 13), plane(du, 14), plane(du, 15)
	d1, d2, d3 = d1[:len(d0)], d2[:len(d0)], d3[:len(d0)]
	for kx := 0; kx < 3; kx++ {
		o0, o1, o2 := plane(dw, kx), plane(dw, 3+kx), plane(dw, 6+kx)
		o1, o2 = o1[:len(o0)], o2[:len(o0)]
		d0 := d0[:len(o0)]
		for i, a0 := range o0 {
			a1, a2 := o1[i], o2[i]
			u0, u1, u2, u3 := d0[i], d1[i], d2[i], d3[i]
			var a3 float32 // Gᵀ's row kx on row 3 of du
			switch kx {
			case 0:
				a3 = u0 + float32(u1+u2)*0.5
			case 1:
				a3 = float32(u1-u2) * 0.5
			default:
				a3 = float32(float32(u1+u2)*0.5) + u3
			}
			o0[i] = a0 + float32(a1+a2)*0.5
			o1[i] = float32(a1-a2) * 0.5
			o2[i] = float32(float32(a1+a2)*0.5) + a3
		}
	}
}
