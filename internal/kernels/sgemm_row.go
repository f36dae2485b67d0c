package kernels

// A C of one row, the product of a single image at inference, is computed
// by the kernel's row function rather than by tiles: a tile of mr rows
// would waste all but one of them, and B would be packed for the one row
// it serves. The row kernels read B in place, nothing is packed, and each
// value of C gets the same chain of operations as in a tile, so an image
// alone has the bits of its row in a batch.

// sgemmRow computes g, whose C has one row, with kern's row function, in
// the passes over K of kc that the tiles make: each pass starts its sums
// from zero, and adds beta·C (g.beta in the first, 1 after). Then it adds
// the bias and applies the ReLU, as the tiles do, if bias is not nil.
func sgemmRow(kern *sgemmKernel, g sgemmArgs, bias []float32, relu bool) {
	csa := 1
	if g.transA {
		csa = g.lda
	}
	kc0 := balance(g.k, kern.kc, 1)
	c := g.c[:g.n]
	for pc := 0; pc < g.k; pc += kc0 {
		kc := min(kc0, g.k-pc)
		beta := g.beta
		if pc > 0 {
			beta = 1
		}
		kern.row(kc, g.n, g.a[pc*csa:], csa, g.b[pc*g.ldb:], g.ldb, c, g.alpha, beta)
	}
	if bias != nil {
		biasTile(c, g.n, 1, g.n, bias, relu)
	}
}

// sgemmRowGo is the portable kernel's row function: sgemmTile3x2Go's
// arithmetic (a sum in k order of rounded products, then sgemmStoreGo) on
// up to 64 columns at a time. The product is rounded before it is added,
// as in the tile, so that no architecture fuses the two.
func sgemmRowGo(k, n int, a []float32, csa int, b []float32, ldb int, c []float32, alpha, beta float32) {
	var buf [64]float32
	for j0 := 0; j0 < n; j0 += len(buf) {
		w := min(len(buf), n-j0)
		acc := buf[:w]
		clear(acc)
		for p := 0; p < k; p++ {
			av := a[p*csa]
			bp := b[p*ldb+j0 : p*ldb+j0+w]
			for j, bv := range bp {
				acc[j] += float32(av * bv)
			}
		}
		sgemmStoreGo(1, w, acc, c[j0:], w, alpha, beta)
	}
}
