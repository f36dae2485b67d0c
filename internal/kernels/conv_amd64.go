//go:build !noasm

package kernels

// im2colRowAVX2 is, for c a multiple of 8, src[ky] nil for padding, and
// streaming stores (dst 32-byte aligned, fenced before it returns) with nt,
//
//	for xx := 0; xx < w; xx++ {
//		for ky := 0; ky < 3; ky++ {
//			for kx := 0; kx < 3; kx++ {
//				d := dst[xx*9*c+(3*ky+kx)*c:][:c]
//				if ix := xx + kx - 1; src[ky] != nil && ix >= 0 && ix < w {
//					copy(d, src[ky][ix*c:][:c])
//				} else {
//					clear(d)
//				}
//			}
//		}
//	}
//
//go:noescape
func im2colRowAVX2(dst *float32, src *[3]*float32, w, c int, nt bool)

// col2imRowAVX2 is, for c a multiple of 8 and pf (if not nil) w·9c floats
// of col to prefetch,
//
//	for ix := 0; ix < w; ix++ {
//		for ch := 0; ch < c; ch++ {
//			var s float32
//			for i := 0; i < nq; i++ {
//				for kx := 2; kx >= 0; kx-- {
//					if xx := ix - kx + 1; xx >= 0 && xx < w {
//						s += q[i][xx*9*c+kx*c+ch]
//					}
//				}
//			}
//			dst[ix*c+ch] = s
//		}
//	}
//
//go:noescape
func col2imRowAVX2(dst *float32, q *[3]*float32, nq, w, c int, pf *float32)

func im2colRowAVX2Span(dst []float32, src [3][]float32, w, c int, nt bool) {
	if c%8 != 0 || w == 0 {
		im2colRowGo(dst, src, w, c, false)
		return
	}
	_ = dst[w*9*c-1]
	var p [3]*float32
	for ky, s := range src {
		if s != nil {
			_ = s[w*c-1]
			p[ky] = &s[0]
		}
	}
	im2colRowAVX2(&dst[0], &p, w, c, nt)
}

// col2imRowsAVX2 gathers dx rows [lo, hi): each pixel sums its patch
// entries in registers and is written once.
func col2imRowsAVX2(j col2imJob, lo, hi int) {
	h, w, c := j.h, j.w, j.c
	if c%8 != 0 || w == 0 {
		col2imRowsGo(j, lo, hi)
		return
	}
	k := 9 * c
	for r := lo; r < hi; r++ {
		b, iy := r/h, r%h
		// q[i] is where the col rows of the i-th contributing image row
		// start, advanced to the patch row ky = iy-y+1 that reads row iy.
		var q [3]*float32
		nq := 0
		for y := max(iy-1, 0); y <= min(iy+1, h-1); y++ {
			q[nq] = &j.col[(b*h+y)*w*k+(iy-y+1)*3*c]
			nq++
		}
		var pf *float32
		if end := (r + 3) * w * k; j.pf && end <= len(j.col) {
			pf = &j.col[(r+2)*w*k]
		}
		_ = j.dx[(r+1)*w*c-1]
		col2imRowAVX2(&j.dx[r*w*c], &q, nq, w, c, pf)
	}
}
