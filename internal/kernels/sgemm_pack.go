package kernels

// Packing copies a block of op(A) or op(B) into the order the micro-kernel
// reads it, so the kernel streams contiguous memory whatever the transposes
// and leading dimensions were. Rows or columns past the matrix edge are
// zero-filled: the kernel always computes a whole tile, and the edge code
// keeps only the valid part.

// packA packs op(A)[i0:i0+mc, p0:p0+kc] into ceil(mc/mr) panels of mr rows.
// Panel q holds, for each p < kc, the mr values op(A)[i0+q·mr+r, p0+p].
func (kern *sgemmKernel) packA(dst, a []float32, lda int, trans bool, i0, mc, p0, kc, mr int) {
	for q := 0; q*mr < mc; q++ {
		rows := min(mr, mc-q*mr)
		d := dst[q*mr*kc : (q+1)*mr*kc]
		i := i0 + q*mr
		if trans {
			// op(A)[i,p] = a[p·lda+i]: each p is a contiguous run of rows.
			kern.packRuns(d, a, lda, p0*lda+i, kc, rows, mr)
		} else {
			kern.packStrided(d, a, lda, i*lda+p0, kc, rows, mr)
		}
	}
}

// packB packs op(B)[p0:p0+kc, j0:j0+nc] into ceil(nc/nr) panels of nr
// columns. Panel q holds, for each p < kc, the nr values op(B)[p0+p, j0+q·nr+c].
func (kern *sgemmKernel) packB(dst, b []float32, ldb int, trans bool, p0, kc, j0, nc, nr int) {
	for q := 0; q*nr < nc; q++ {
		cols := min(nr, nc-q*nr)
		d := dst[q*nr*kc : (q+1)*nr*kc]
		j := j0 + q*nr
		if trans {
			// op(B)[p,j] = b[j·ldb+p]: each column j is a contiguous row of b.
			kern.packStrided(d, b, ldb, j*ldb+p0, kc, cols, nr)
		} else {
			kern.packRuns(d, b, ldb, p0*ldb+j, kc, cols, nr)
		}
	}
}

// packRunsGo fills d (kc groups of w) from kc runs of n ≤ w contiguous
// values, run p starting at src[off+p·ld]; the last w-n slots of each group
// are zeroed.
func packRunsGo(d, src []float32, ld, off, kc, n, w int) {
	if n == w {
		switch w {
		case 32:
			for p := 0; p < kc; p++ {
				*(*[32]float32)(d[p*32:]) = *(*[32]float32)(src[off+p*ld:])
			}
			return
		case 16:
			for p := 0; p < kc; p++ {
				*(*[16]float32)(d[p*16:]) = *(*[16]float32)(src[off+p*ld:])
			}
			return
		case 12:
			for p := 0; p < kc; p++ {
				*(*[12]float32)(d[p*12:]) = *(*[12]float32)(src[off+p*ld:])
			}
			return
		case 2: // the portable kernel's B panels
			for p := 0; p < kc; p++ {
				s := src[off+p*ld : off+p*ld+2]
				g := d[p*2 : p*2+2]
				g[0], g[1] = s[0], s[1]
			}
			return
		case 6:
			for p := 0; p < kc; p++ {
				s := src[off+p*ld : off+p*ld+6]
				g := d[p*6 : p*6+6]
				g[0], g[1], g[2], g[3], g[4], g[5] = s[0], s[1], s[2], s[3], s[4], s[5]
			}
			return
		}
	}
	if n >= 16 {
		for p := 0; p < kc; p++ {
			g := d[p*w : p*w+w]
			copy(g[:n], src[off+p*ld:off+p*ld+n])
			clear(g[n:])
		}
		return
	}
	// Short runs: a loop is cheaper than calls to copy.
	for p := 0; p < kc; p++ {
		g := d[p*w : p*w+w]
		s := src[off+p*ld : off+p*ld+n]
		for i, v := range s {
			g[i] = v
		}
		for i := n; i < w; i++ {
			g[i] = 0
		}
	}
}

// packStrided fills d (kc groups of w) from n ≤ w contiguous runs of kc
// values, run r starting at src[off+r·ld]: slot r of group p is run r's p-th
// value. The last w-n slots of each group are zeroed.
func (kern *sgemmKernel) packStrided(d, src []float32, ld, off, kc, n, w int) {
	if n == w && w == 6 {
		s0 := src[off : off+kc]
		s1 := src[off+ld : off+ld+kc]
		s2 := src[off+2*ld : off+2*ld+kc]
		s3 := src[off+3*ld : off+3*ld+kc]
		s4 := src[off+4*ld : off+4*ld+kc]
		s5 := src[off+5*ld : off+5*ld+kc]
		for p := range s0 {
			g := d[p*6 : p*6+6]
			g[0], g[1], g[2], g[3], g[4], g[5] = s0[p], s1[p], s2[p], s3[p], s4[p], s5[p]
		}
		return
	}
	if n == w && w == 3 { // the portable kernel's A panels
		s0 := src[off : off+kc]
		s1 := src[off+ld : off+ld+kc : off+ld+kc]
		s2 := src[off+2*ld : off+2*ld+kc : off+2*ld+kc]
		d = d[:3*kc]
		// Two indexes, so that the loop condition bounds every access.
		for p, q := 0, 0; p < len(s0) && p < len(s1) && p < len(s2) && q+3 <= len(d); p, q = p+1, q+3 {
			g := d[q : q+3 : q+3]
			g[0], g[1], g[2] = s0[p], s1[p], s2[p]
		}
		return
	}
	r := 0
	if kc >= 8 {
		// Eight runs at a time, transposed in registers by the assembly.
		kc8 := kc &^ 7
		for ; r+8 <= n; r += 8 {
			kern.packT8(d[r:], src[off+r*ld:], ld, kc8, w)
			for p := kc8; p < kc; p++ {
				g := d[p*w+r : p*w+r+8]
				for i := range g {
					g[i] = src[off+(r+i)*ld+p]
				}
			}
		}
	}
	r = packStrided4(d, src, ld, off, kc, n, w, r)
	for ; r < n; r++ {
		s := src[off+r*ld : off+r*ld+kc]
		for p, v := range s {
			d[p*w+r] = v
		}
	}
	if n < w {
		for p := 0; p < kc; p++ {
			clear(d[p*w+n : p*w+w])
		}
	}
}

// packStrided4 is packStrided for runs [r, n) four at a time, which keeps
// four read streams and one write stream; it returns the first run left.
func packStrided4(d, src []float32, ld, off, kc, n, w, r int) int {
	for ; r+4 <= n; r += 4 {
		s0 := src[off+r*ld : off+r*ld+kc]
		s1 := src[off+(r+1)*ld : off+(r+1)*ld+kc]
		s2 := src[off+(r+2)*ld : off+(r+2)*ld+kc]
		s3 := src[off+(r+3)*ld : off+(r+3)*ld+kc]
		for p := range s0 {
			g := d[p*w+r : p*w+r+4]
			g[0], g[1], g[2], g[3] = s0[p], s1[p], s2[p], s3[p]
		}
	}
	return r
}

// packT8Go transposes 8 runs of src (stride ld) into dst (stride w):
// dst[p·w + r] = src[r·ld + p] for r < 8, p < kc.
func packT8Go(dst, src []float32, ld, kc, w int) {
	dst = dst[:(kc-1)*w+8]
	packStrided4(dst, src, ld, 0, kc, 8, w, 0)
}
