package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// sgemmPortableRef is the arithmetic of the portable path written out
// plainly: K is cut into passes of kc (balance(k, kern.kc, 1), as sgemm
// does); in each pass an element is the in-order sum of products, each
// rounded to float32, and C becomes alpha·sum + beta·C with both products
// rounded, beta being 1 after the first pass. No step is fused into an FMA
// on any architecture, so this gives the same bits everywhere. alpha and k
// must not be 0 (Sgemm then only scales C).
func sgemmPortableRef(kc int, g sgemmArgs) {
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.n; j++ {
			beta := g.beta
			for p0 := 0; p0 < g.k; p0 += kc {
				var s float32
				for p := p0; p < min(p0+kc, g.k); p++ {
					s += float32(opAt(g.a, g.lda, g.transA, i, p) * opAt(g.b, g.ldb, g.transB, p, j))
				}
				c := &g.c[i*g.ldc+j]
				if beta == 0 {
					*c = g.alpha * s
				} else {
					*c = float32(g.alpha*s) + float32(beta*(*c))
				}
				beta = 1
			}
		}
	}
}

// TestSgemmPortableBits checks that the portable kernel gives exactly the
// bits of sgemmPortableRef, at sizes around its tile and blocks, under
// every transpose, on one goroutine and on three. On arm64 (under qemu) and
// riscv64 this fails if Go fuses a product and a sum into an FMA, which it
// does unless the product is converted to float32 first.
func TestSgemmPortableBits(t *testing.T) {
	t.Parallel()
	pool := ktPool(t)
	rng := rand.New(rand.NewPCG(13, 14))
	kern := goKernel
	ms := []int{1, kern.mr - 1, kern.mr, kern.mr + 1, 2*kern.mr + 1, kern.mc + 1}
	ns := []int{1, kern.nr - 1, kern.nr, kern.nr + 1, 2*kern.nr + 1, 37}
	ks := []int{1, 3, 4, 5, 7, kern.kc - 1, kern.kc + 1, 2*kern.kc + 5}
	if testing.Short() {
		ms, ks = ms[1:5], []int{1, 5, kern.kc + 1}
	}
	scalars := [][2]float32{{1, 0}, {-0.5, 1}, {1.5, -2}}
	n := 0
	for _, tr := range [4][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
		for _, m := range ms {
			for _, nn := range ns {
				if nn < 1 {
					continue
				}
				for _, k := range ks {
					ab := scalars[n%len(scalars)]
					n++
					tc := gemmCase{tr[0], tr[1], max(m, 1), nn, k, ab[0], ab[1], n % 3}
					o := newOperands(rng, tc)
					c0 := slices.Clone(o.cbuf)
					want := slices.Clone(o.cbuf)
					g := sgemmArgs{tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, want[o.guard : o.guard+len(o.c)], o.ldc}
					sgemmPortableRef(balance(k, kern.kc, 1), g)
					for _, procs := range []int{1, 3} {
						copy(o.cbuf, c0)
						g.c = o.c
						sgemm(sgemmHow{kern: kern, procs: procs, pool: pool}, g)
						for i := range want {
							if math.Float32bits(o.cbuf[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%v on %d goroutines: buffer index %d = %g, want %g", tc, procs, i, o.cbuf[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}
