package kernels

// sgemmKernel is a micro-kernel together with the block sizes tuned for it.
type sgemmKernel struct {
	name   string
	set    string // what KernelSet reports when this kernel is the first choice
	mr, nr int    // register tile
	lanes  int    // floats per vector FMA: how many of the tile's products one instruction does
	kc     int    // depth of a pass over K: the same for all assembly kernels, so that the choice of one never changes a result
	mc     int    // rows of op(A) packed at once (kept in L2)
	nc     int    // columns of op(B) packed at once (kept in L3)

	// tile sets the mr×nr tile at c to alpha·Ap·Bp + beta·C, where Ap and Bp
	// are k-deep packed panels (see packA, packB). beta == 0 means C is not
	// read. c must hold (mr-1)·ldc+nr values.
	tile func(k int, a, b, c []float32, ldc int, alpha, beta float32)

	// tileA, if not nil, is tile reading A in place instead of from a
	// packed panel, element (i, p) at a[i·rsa + p·csa], and B's row p at
	// b[p·ldb], which is the packed panel when ldb is nr. It does the same
	// arithmetic as tile, so choosing it never changes the result.
	tileA func(k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

	// row, if not nil, sets the n values of a one-row C at c to
	// alpha·a·B + beta·c (c not read when beta == 0), with a's element p at
	// a[p·csa] and B's row p at b[p·ldb], read in place. Each value gets
	// exactly tile's arithmetic, so a row computed by it has the bits it
	// has in a tile. k and n are positive.
	row func(k, n int, a []float32, csa int, b []float32, ldb int, c []float32, alpha, beta float32)

	// packRuns and packT8 are the packing loops: packRunsGo and packT8Go or
	// their assembly.
	packRuns func(d, src []float32, ld, off, kc, n, w int)
	packT8   func(dst, src []float32, ld, kc, w int)
}

// maxTile bounds mr·nr over all kernels; it sizes the edge scratch tile.
const maxTile = 16 * 32

// goKernel is the portable path: the same packing and blocking as the
// assembly, with a plain Go tile. Go has no SIMD, so the tile is smaller.
var goKernel = &sgemmKernel{
	name: "go3x2", set: "portable Go", mr: 3, nr: 2, lanes: 1, kc: 256, mc: 120, nc: 2048,
	tile:     sgemmTile3x2Go,
	row:      sgemmRowGo,
	packRuns: packRunsGo,
	packT8:   packT8Go,
}

// sgemmKernels are the kernels Sgemm chooses from, best first: the
// assembly ones this build has and the CPU runs (sgemmAsmKernels, from the
// arch files), else the portable one. Chosen once.
var sgemmKernels = func() []*sgemmKernel {
	if len(sgemmAsmKernels) > 0 {
		return sgemmAsmKernels
	}
	return []*sgemmKernel{goKernel}
}()

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
				// Rounded products: no FMA on any architecture.
				row[j] = float32(alpha*a[j]) + float32(beta*row[j])
			}
		}
	}
}

// sgemmTile3x2Go is sgemmTileGo for 3×2, with each product rounded to
// float32 before it is added (see sgemmDot3x2). The loop lives in a
// function of its own so that alpha and beta do not hold registers across
// it.
func sgemmTile3x2Go(k int, a, b, c []float32, ldc int, alpha, beta float32) {
	var acc [6]float32
	sgemmDot3x2(k, a, b, &acc)
	c0 := c[:2]
	c1 := c[ldc : ldc+2]
	c2 := c[2*ldc : 2*ldc+2]
	if beta == 0 {
		c0[0], c0[1] = alpha*acc[0], alpha*acc[1]
		c1[0], c1[1] = alpha*acc[2], alpha*acc[3]
		c2[0], c2[1] = alpha*acc[4], alpha*acc[5]
		return
	}
	// As sgemmStoreGo: rounded products, no FMA.
	c0[0], c0[1] = float32(alpha*acc[0])+float32(beta*c0[0]), float32(alpha*acc[1])+float32(beta*c0[1])
	c1[0], c1[1] = float32(alpha*acc[2])+float32(beta*c1[0]), float32(alpha*acc[3])+float32(beta*c1[1])
	c2[0], c2[1] = float32(alpha*acc[4])+float32(beta*c2[0]), float32(alpha*acc[5])+float32(beta*c2[1])
}

// sgemmDot3x2 sets acc to the 3×2 tile of products of the k-deep panels a
// and b: acc[i,j] = sum over p < k, in order, of float32(a[3p+i]·b[2p+j]).
//
// The conversions to float32 forbid fusing a product and its sum into an
// FMA, which Go does on arm64, riscv64 and others but not on amd64 or 386:
// so the portable path gives the same bits on every architecture.
//
// Go keeps scalar floats in registers (15 on amd64), and schedules the
// products whose sums feed the next iteration before any of those sums
// (a value used only by a phi goes last), so the last step of the loop body
// needs two registers per accumulator: 3×2 is the largest tile that does not
// spill. The loop is unrolled four times, which leaves only the last of
// the four steps that way and spreads the index updates and bounds tests
// over 24 products; each element is still summed in order of p. The views
// are three-index slices: with a[i:] instead, Go recomputes the length and
// capacity and clamps the pointer each iteration, which cost about a third
// of the speed. On Zen 5 the tiles 2×3, 2×4, 4×2 and 3×3, unrolling by 8,
// unsafe pointers, and an A panel packed with each value repeated (no
// register copies) all ran within 10% of this one, about 5.4 products per
// ns of CPU time; that is near the two multiplies and two adds per cycle
// that the core issues, if its clock is about 3.4 GHz as a chain of
// integer multiplies suggests.
//
//go:noinline
func sgemmDot3x2(k int, a, b []float32, acc *[6]float32) {
	var c00, c01, c10, c11, c20, c21 float32
	a = a[:3*k]
	b = b[:2*k]
	i, j := 0, 0
	for ; i+12 <= len(a) && j+8 <= len(b); i, j = i+12, j+8 {
		ap := (*[12]float32)(a[i : i+12 : i+12])
		bp := (*[8]float32)(b[j : j+8 : j+8])
		b0, b1 := bp[0], bp[1]
		c00 += float32(ap[0] * b0)
		c01 += float32(ap[0] * b1)
		c10 += float32(ap[1] * b0)
		c11 += float32(ap[1] * b1)
		c20 += float32(ap[2] * b0)
		c21 += float32(ap[2] * b1)
		b0, b1 = bp[2], bp[3]
		c00 += float32(ap[3] * b0)
		c01 += float32(ap[3] * b1)
		c10 += float32(ap[4] * b0)
		c11 += float32(ap[4] * b1)
		c20 += float32(ap[5] * b0)
		c21 += float32(ap[5] * b1)
		b0, b1 = bp[4], bp[5]
		c00 += float32(ap[6] * b0)
		c01 += float32(ap[6] * b1)
		c10 += float32(ap[7] * b0)
		c11 += float32(ap[7] * b1)
		c20 += float32(ap[8] * b0)
		c21 += float32(ap[8] * b1)
		b0, b1 = bp[6], bp[7]
		c00 += float32(ap[9] * b0)
		c01 += float32(ap[9] * b1)
		c10 += float32(ap[10] * b0)
		c11 += float32(ap[10] * b1)
		c20 += float32(ap[11] * b0)
		c21 += float32(ap[11] * b1)
	}
	for ; i+3 <= len(a) && j+2 <= len(b); i, j = i+3, j+2 {
		ap := (*[3]float32)(a[i : i+3 : i+3])
		bp := (*[2]float32)(b[j : j+2 : j+2])
		b0, b1 := bp[0], bp[1]
		c00 += float32(ap[0] * b0)
		c01 += float32(ap[0] * b1)
		c10 += float32(ap[1] * b0)
		c11 += float32(ap[1] * b1)
		c20 += float32(ap[2] * b0)
		c21 += float32(ap[2] * b1)
	}
	*acc = [6]float32{c00, c01, c10, c11, c20, c21}
}
