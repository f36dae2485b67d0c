package kernels

// sgemmKernel is a micro-kernel together with the block sizes tuned for it.
type sgemmKernel struct {
	name   string
	mr, nr int // register tile
	kc     int // depth of a pass over K: the same for all assembly kernels, so that the choice of one never changes a result
	mc     int // rows of op(A) packed at once (kept in L2)
	nc     int // columns of op(B) packed at once (kept in L3)

	// tile sets the mr×nr tile at c to alpha·Ap·Bp + beta·C, where Ap and Bp
	// are k-deep packed panels (see packA, packB). beta == 0 means C is not
	// read. c must hold (mr-1)·ldc+nr values.
	tile func(k int, a, b, c []float32, ldc int, alpha, beta float32)

	// tileA, if not nil, is tile reading A in place instead of from a
	// packed panel, element (i, p) at a[i·rsa + p·csa], and B's row p at
	// b[p·ldb], which is the packed panel when ldb is nr. It does the same
	// arithmetic as tile, so choosing it never changes the result.
	tileA func(k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)
}

// maxTile bounds mr·nr over all kernels; it sizes the edge scratch tile.
const maxTile = 16 * 32

// goKernel is the portable path: the same packing and blocking as the
// assembly, with a plain Go tile. Go has no SIMD, so the tile is smaller.
var goKernel = &sgemmKernel{
	name: "go4x8", mr: 4, nr: 8, kc: 256, mc: 128, nc: 2048,
	tile: sgemmTile4x8Go,
}

// sgemmTileGo is the reference micro-kernel for any mr×nr: the definition
// the assembly tiles are tested against.
//
//	acc[i,j] = sum over p < k, in order, of a[p·mr+i]·b[p·nr+j]
//	C[i,j] = alpha·acc[i,j] + beta·C[i,j]  (C not read when beta == 0)
func sgemmTileGo(mr, nr, k int, a, b, c []float32, ldc int, alpha, beta float32) {
	var buf [maxTile]float32
	acc := buf[:mr*nr]
	for p := 0; p < k; p++ {
		ap := a[p*mr : p*mr+mr]
		bp := b[p*nr : p*nr+nr]
		for i, av := range ap {
			row := acc[i*nr : i*nr+nr]
			for j, bv := range bp {
				row[j] += av * bv
			}
		}
	}
	sgemmStoreGo(mr, nr, acc, c, ldc, alpha, beta)
}

func sgemmStoreGo(mr, nr int, acc, c []float32, ldc int, alpha, beta float32) {
	for i := 0; i < mr; i++ {
		row := c[i*ldc : i*ldc+nr]
		a := acc[i*nr : i*nr+nr]
		if beta == 0 {
			for j := range row {
				row[j] = alpha * a[j]
			}
		} else {
			for j := range row {
				row[j] = alpha*a[j] + beta*row[j]
			}
		}
	}
}

// sgemmTile4x8Go is sgemmTileGo for 4×8 with the accumulators in locals,
// which the compiler keeps in registers for the most part.
func sgemmTile4x8Go(k int, a, b, c []float32, ldc int, alpha, beta float32) {
	var c00, c01, c02, c03, c04, c05, c06, c07 float32
	var c10, c11, c12, c13, c14, c15, c16, c17 float32
	var c20, c21, c22, c23, c24, c25, c26, c27 float32
	var c30, c31, c32, c33, c34, c35, c36, c37 float32
	a = a[:4*k]
	b = b[:8*k]
	for p := 0; p < k; p++ {
		ap := a[4*p : 4*p+4]
		bp := b[8*p : 8*p+8]
		b0, b1, b2, b3, b4, b5, b6, b7 := bp[0], bp[1], bp[2], bp[3], bp[4], bp[5], bp[6], bp[7]
		av := ap[0]
		c00 += av * b0
		c01 += av * b1
		c02 += av * b2
		c03 += av * b3
		c04 += av * b4
		c05 += av * b5
		c06 += av * b6
		c07 += av * b7
		av = ap[1]
		c10 += av * b0
		c11 += av * b1
		c12 += av * b2
		c13 += av * b3
		c14 += av * b4
		c15 += av * b5
		c16 += av * b6
		c17 += av * b7
		av = ap[2]
		c20 += av * b0
		c21 += av * b1
		c22 += av * b2
		c23 += av * b3
		c24 += av * b4
		c25 += av * b5
		c26 += av * b6
		c27 += av * b7
		av = ap[3]
		c30 += av * b0
		c31 += av * b1
		c32 += av * b2
		c33 += av * b3
		c34 += av * b4
		c35 += av * b5
		c36 += av * b6
		c37 += av * b7
	}
	acc := [32]float32{
		c00, c01, c02, c03, c04, c05, c06, c07,
		c10, c11, c12, c13, c14, c15, c16, c17,
		c20, c21, c22, c23, c24, c25, c26, c27,
		c30, c31, c32, c33, c34, c35, c36, c37,
	}
	sgemmStoreGo(4, 8, acc[:], c, ldc, alpha, beta)
}
