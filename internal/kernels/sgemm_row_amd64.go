//go:build !noasm

package kernels

// The one-row kernels. sgemmRow<W><ISA> is, for W columns, with fma(x, y, z)
// the product x·y plus z rounded once to float32,
//
//	for j := 0; j < W; j++ {
//		var acc float32
//		for p := 0; p < k; p++ {
//			acc = fma(a[p*csa], b[p*ldb+j], acc)
//		}
//		if beta == 0 { // C is not read
//			c[j] = alpha * acc
//		} else {
//			c[j] = fma(alpha, acc, beta*c[j])
//		}
//	}
//
// element by element the arithmetic of the tiles (see sgemmKernel6x16AVX2),
// so a row computed by them has the bits it has in a tile. Each FMA takes
// B straight from memory: with one row, a value of B is used once.

//go:noescape
func sgemmRow256AVX512(k int, a, b, c *float32, alpha, beta float32, csa, ldb int)

//go:noescape
func sgemmRow128AVX512(k int, a, b, c *float32, alpha, beta float32, csa, ldb int)

//go:noescape
func sgemmRow64AVX512(k int, a, b, c *float32, alpha, beta float32, csa, ldb int)

//go:noescape
func sgemmRow32AVX512(k int, a, b, c *float32, alpha, beta float32, csa, ldb int)

//go:noescape
func sgemmRow16AVX512(k int, a, b, c *float32, alpha, beta float32, csa, ldb int)

//go:noescape
func sgemmRow64AVX2(k int, a, b, c *float32, alpha, beta float32, csa, ldb int)

//go:noescape
func sgemmRow32AVX2(k int, a, b, c *float32, alpha, beta float32, csa, ldb int)

//go:noescape
func sgemmRow16AVX2(k int, a, b, c *float32, alpha, beta float32, csa, ldb int)

//go:noescape
func sgemmRow8AVX2(k int, a, b, c *float32, alpha, beta float32, csa, ldb int)

// sgemmRowTailAVX2 is sgemmRow8AVX2 for the first n ≤ 8 columns: lanes
// past n are neither read nor written.
//
//go:noescape
func sgemmRowTailAVX2(k int, a, b, c *float32, alpha, beta float32, csa, ldb, n int)

// rowFunc is one whole-vector row kernel and its width.
type rowFunc struct {
	w int
	f func(k int, a, b, c *float32, alpha, beta float32, csa, ldb int)
}

var (
	rowsAVX2   = []rowFunc{{64, sgemmRow64AVX2}, {32, sgemmRow32AVX2}, {16, sgemmRow16AVX2}, {8, sgemmRow8AVX2}}
	rowsAVX512 = append([]rowFunc{{256, sgemmRow256AVX512}, {128, sgemmRow128AVX512}, {64, sgemmRow64AVX512},
		{32, sgemmRow32AVX512}, {16, sgemmRow16AVX512}}, rowsAVX2[len(rowsAVX2)-1])
)

// rowAsm returns a kernel's row function on fns: as many of the widest as
// fit, then each narrower one that fits, then the masked tail.
func rowAsm(fns []rowFunc) func(k, n int, a []float32, csa int, b []float32, ldb int, c []float32, alpha, beta float32) {
	return func(k, n int, a []float32, csa int, b []float32, ldb int, c []float32, alpha, beta float32) {
		if k <= 0 || n <= 0 {
			panic("kernels: row kernel with an empty product")
		}
		_ = a[(k-1)*csa]
		last := (k - 1) * ldb
		j := 0
		for _, r := range fns {
			for ; j+r.w <= n; j += r.w {
				_, _ = b[last+j+r.w-1], c[j+r.w-1]
				r.f(k, &a[0], &b[j], &c[j], alpha, beta, csa, ldb)
			}
		}
		if j < n {
			_, _ = b[last+n-1], c[n-1]
			sgemmRowTailAVX2(k, &a[0], &b[j], &c[j], alpha, beta, csa, ldb, n-j)
		}
	}
}
