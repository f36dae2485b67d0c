package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// winoShapes are the convolutions the Winograd tests run: sizes 0 and 1,
// odd sizes (a last tile half outside), channel counts that are and are
// not multiples of 8 (the assembly's vector), and, with chunk, a chunk size
// in tiles small enough for several chunks and backward groups.
var winoShapes = []struct {
	n, h, w, cin, cout int
	chunk              int // exec.winoTiles; 0 keeps the default
}{
	{0, 4, 4, 8, 8, 0},
	{1, 1, 1, 1, 1, 0},
	{1, 2, 2, 8, 8, 0},
	{2, 3, 5, 3, 4, 0},
	{1, 4, 4, 8, 16, 0},
	{3, 7, 7, 16, 24, 0},
	{2, 5, 6, 9, 17, 0},
	{2, 8, 9, 32, 8, 0},
	{5, 6, 5, 8, 16, 7},
	{7, 4, 6, 24, 8, 10},
	{3, 14, 14, 16, 32, 50},
	{4, 9, 9, 1, 8, 0},
	{2, 4, 4, 0, 8, 0},
	{2, 4, 4, 8, 0, 0},
}

// convDirect64 is the convolution of x with w ((9·cin) × cout, rows
// (ky, kx, ci)) in float64, and the sum of the absolute terms of each
// output, which bounds its rounding error.
func convDirect64(x, w, bias []float32, n, h, wd, cin, cout int) (y, mag []float64) {
	y = make([]float64, n*h*wd*cout)
	mag = make([]float64, len(y))
	for b := range n {
		for oy := range h {
			for ox := range wd {
				for co := range cout {
					var s, a float64
					if bias != nil {
						s, a = float64(bias[co]), math.Abs(float64(bias[co]))
					}
					for ky := range 3 {
						for kx := range 3 {
							iy, ix := oy+ky-1, ox+kx-1
							if iy < 0 || iy >= h || ix < 0 || ix >= wd {
								continue
							}
							for ci := range cin {
								p := float64(w[((ky*3+kx)*cin+ci)*cout+co]) * float64(x[((b*h+iy)*wd+ix)*cin+ci])
								s += p
								a += math.Abs(p)
							}
						}
					}
					o := ((b*h+oy)*wd+ox)*cout + co
					y[o], mag[o] = s, a
				}
			}
		}
	}
	return y, mag
}

// winoClose fails when got is further from want than tol·mag (per element).
func winoClose(t *testing.T, name string, got []float32, want, mag []float64, tol float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= tol*mag[i]+1e-30) {
			t.Fatalf("%s[%d] = %v, want %v (magnitude %v)", name, i, got[i], want[i], mag[i])
		}
	}
}

// winoTol is the error allowed relative to the sum of the absolute terms:
// the transforms add up to 16 terms of the magnitude of each input.
const winoTol = 2e-5

// withWinoChunk is e with chunks of tiles tiles, or e if tiles is 0.
func withWinoChunk(e exec, tiles int) exec {
	if tiles > 0 {
		e.winoTiles = tiles
	}
	return e
}

func TestWinogradConv(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sh := range winoShapes {
		for _, relu := range []bool{false, true} {
			for _, withBias := range []bool{false, true} {
				n, h, w, cin, cout := sh.n, sh.h, sh.w, sh.cin, sh.cout
				name := fmt.Sprintf("%dx%dx%dx%d-%d/relu=%v/bias=%v/chunk=%d", n, h, w, cin, cout, relu, withBias, sh.chunk)
				t.Run(name, func(t *testing.T) {
					x := ktRand(rng, n*h*w*cin, 1)
					wt := ktRand(rng, 9*cin*cout, 3)
					var bias []float32
					if withBias {
						bias = ktRand(rng, cout, 2)
					}
					u := make([]float32, 16*cin*cout)
					WinogradWeights(u, wt, cin, cout)
					want, mag := convDirect64(x, wt, bias, n, h, w, cin, cout)
					if relu {
						for i := range want {
							want[i] = max(want[i], 0)
						}
					}
					ref := make([]float32, len(want))
					WinogradConvRef(ref, x, u, bias, n, h, w, cin, cout, relu, nil)
					winoClose(t, "ref", ref, want, mag, winoTol)
					x0, u0 := ktClone(x), ktClone(u)
					var first []float32
					for _, p := range ktPaths(t) {
						var s WinogradScratch
						y, all := ktOut(len(want), ktSentinel)
						ktOn(p, func(e exec) {
							withWinoChunk(e, sh.chunk).WinogradConv(y, x, u, bias, n, h, w, cin, cout, relu, &s)
						})
						ktGuards(t, p.String(), all)
						winoClose(t, p.String(), y, want, mag, winoTol)
						if first == nil {
							first = ktClone(y)
						} else {
							ktSame(t, p.String()+" against the first path", y, first)
						}
					}
					ktSame(t, "x unchanged", x, x0)
					ktSame(t, "u unchanged", u, u0)
				})
			}
		}
	}
}

// convBackward64 is the gradient of the convolution in float64: dz is dy
// masked by y > 0 if relu; it returns dw, db, dx and the magnitudes
// bounding their rounding errors.
func convBackward64(dy, y, x, w []float32, n, h, wd, cin, cout int, relu bool) (dw, dwm, db, dbm, dx, dxm []float64) {
	dz := make([]float64, len(dy))
	for i := range dz {
		if !relu || y[i] > 0 {
			dz[i] = float64(dy[i])
		}
	}
	dw, dwm = make([]float64, 9*cin*cout), make([]float64, 9*cin*cout)
	db, dbm = make([]float64, cout), make([]float64, cout)
	dx, dxm = make([]float64, n*h*wd*cin), make([]float64, n*h*wd*cin)
	for b := range n {
		for oy := range h {
			for ox := range wd {
				o := ((b*h+oy)*wd + ox) * cout
				for co := range cout {
					db[co] += dz[o+co]
					dbm[co] += math.Abs(dz[o+co])
				}
				for ky := range 3 {
					for kx := range 3 {
						iy, ix := oy+ky-1, ox+kx-1
						if iy < 0 || iy >= h || ix < 0 || ix >= wd {
							continue
						}
						for ci := range cin {
							xi := ((b*h+iy)*wd+ix)*cin + ci
							for co := range cout {
								wi := ((ky*3+kx)*cin+ci)*cout + co
								p := float64(x[xi]) * dz[o+co]
								dw[wi] += p
								dwm[wi] += math.Abs(p)
								q := float64(w[wi]) * dz[o+co]
								dx[xi] += q
								dxm[xi] += math.Abs(q)
							}
						}
					}
				}
			}
		}
	}
	return
}

// winoSpread widens the error bounds of the gradients: the transforms
// recover each weight tap and each input pixel as a difference of sums
// over its whole 4×4 patch, so the rounding scales with the magnitudes of
// all nine taps of a channel pair (dwm), and of the whole image channel
// (dxm), not with the terms of the one element.
func winoSpread(dwm, dxm []float64, n, h, w, cin, cout int) {
	cc := cin * cout
	for i := range cc {
		var s float64
		for t := range 9 {
			s += dwm[t*cc+i]
		}
		for t := range 9 {
			dwm[t*cc+i] = s
		}
	}
	for b := range n {
		for ci := range cin {
			var m float64
			for p := range h * w {
				m = max(m, dxm[(b*h*w+p)*cin+ci])
			}
			for p := range h * w {
				dxm[(b*h*w+p)*cin+ci] = m
			}
		}
	}
}

func TestWinogradConvBackward(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sh := range winoShapes {
		for _, relu := range []bool{false, true} {
			for _, grads := range []string{"all", "no-dx", "no-db"} {
				n, h, w, cin, cout := sh.n, sh.h, sh.w, sh.cin, sh.cout
				name := fmt.Sprintf("%dx%dx%dx%d-%d/relu=%v/%s/chunk=%d", n, h, w, cin, cout, relu, grads, sh.chunk)
				t.Run(name, func(t *testing.T) {
					x := ktRand(rng, n*h*w*cin, 1)
					wt := ktRand(rng, 9*cin*cout, 3)
					dy := ktRand(rng, n*h*w*cout, 2)
					y := ktRand(rng, n*h*w*cout, 0) // only its sign is read
					u := make([]float32, 16*cin*cout)
					WinogradWeights(u, wt, cin, cout)
					wdw, wdwm, wdb, wdbm, wdx, wdxm := convBackward64(dy, y, x, wt, n, h, w, cin, cout, relu)
					winoSpread(wdwm, wdxm, n, h, w, cin, cout)
					check := func(name string, dx, du, db []float32) {
						t.Helper()
						dw := make([]float32, 9*cin*cout)
						WinogradWeightsGrad(dw, du, cin, cout)
						winoClose(t, name+" dw", dw, wdw, wdwm, winoTol)
						if db != nil {
							winoClose(t, name+" db", db, wdb, wdbm, winoTol)
						}
						if dx != nil {
							winoClose(t, name+" dx", dx, wdx, wdxm, winoTol)
						}
					}
					rdx, rdu, rdb := make([]float32, len(x)), make([]float32, len(u)), make([]float32, cout)
					WinogradConvBackwardRef(rdx, rdu, rdb, dy, y, x, u, n, h, w, cin, cout, relu, nil)
					check("ref", rdx, rdu, rdb)
					in := [][]float32{x, u, dy, y}
					before := make([][]float32, len(in))
					for i, s := range in {
						before[i] = ktClone(s)
					}
					var first [][]float32
					for _, p := range ktPaths(t) {
						var s WinogradScratch
						du, duAll := ktOut(len(u), ktSentinel)
						var dx, dxAll, db, dbAll []float32
						if grads != "no-dx" {
							dx, dxAll = ktOut(len(x), ktSentinel)
						}
						if grads != "no-db" {
							db, dbAll = ktOut(cout, ktSentinel)
						}
						for range 2 { // the second call must overwrite, not add
							ktOn(p, func(e exec) {
								withWinoChunk(e, sh.chunk).WinogradConvBackward(dx, du, db, dy, y, x, u, n, h, w, cin, cout, relu, &s)
							})
						}
						ktGuards(t, p.String()+" du", duAll)
						if dx != nil {
							ktGuards(t, p.String()+" dx", dxAll)
						}
						if db != nil {
							ktGuards(t, p.String()+" db", dbAll)
						}
						check(p.String(), dx, du, db)
						got := [][]float32{du, dx, db}
						if first == nil {
							first = got
						} else {
							for i := range got {
								if got[i] != nil {
									ktSame(t, p.String()+" against the first path", got[i], first[i])
								}
							}
						}
					}
					for i, s := range in {
						ktSame(t, "input unchanged", s, before[i])
					}
				})
			}
		}
	}
}

// TestWinogradWeights compares the weight transforms with their
// references, checks that they leave their inputs and the guard bands
// alone, and that WinogradWeightsGrad is the transpose of WinogradWeights,
// ⟨G·g·Gᵀ, du⟩ = ⟨g, Gᵀ·du·G⟩.
func TestWinogradWeights(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	const cin, cout = 3, 5
	w := ktRand(rng, 9*cin*cout, 1)
	du := ktRand(rng, 16*cin*cout, 2)
	w0, du0 := ktClone(w), ktClone(du)
	u, uAll := ktOut(len(du), ktSentinel)
	dw, dwAll := ktOut(len(w), ktSentinel)
	WinogradWeights(u, w, cin, cout)
	WinogradWeightsGrad(dw, du, cin, cout)
	ktGuards(t, "u", uAll)
	ktGuards(t, "dw", dwAll)
	ktSame(t, "w unchanged", w, w0)
	ktSame(t, "du unchanged", du, du0)
	ru, rdw := make([]float32, len(u)), make([]float32, len(dw))
	WinogradWeightsRef(ru, w, cin, cout)
	WinogradWeightsGradRef(rdw, du, cin, cout)
	for i := range u {
		if d := math.Abs(float64(u[i] - ru[i])); d > 1e-6*(1+math.Abs(float64(ru[i]))) {
			t.Fatalf("u[%d] = %v, reference %v", i, u[i], ru[i])
		}
	}
	for i := range dw {
		if d := math.Abs(float64(dw[i] - rdw[i])); d > 1e-6*(1+math.Abs(float64(rdw[i]))) {
			t.Fatalf("dw[%d] = %v, reference %v", i, dw[i], rdw[i])
		}
	}
	var a, b, m float64
	for i := range u {
		a += float64(u[i]) * float64(du[i])
		m += math.Abs(float64(u[i]) * float64(du[i]))
	}
	for i := range w {
		b += float64(w[i]) * float64(dw[i])
	}
	if math.Abs(a-b) > 1e-5*m {
		t.Errorf("<Wg, du> = %v, <g, W'du> = %v", a, b)
	}
}

// TestWinogradPlan pins how shapes are cut: whole images per chunk, every
// chunk in exactly one group, and a partial dU within its budget.
func TestWinogradPlan(t *testing.T) {
	t.Parallel()
	for _, c := range [][5]int{{128, 28, 28, 32, 64}, {128, 14, 14, 64, 128}, {128, 7, 7, 128, 256}, {3, 5, 5, 2, 2}, {1, 1, 1, 1, 1}} {
		p := newWinoPlan(c[0], c[1], c[2], c[3], c[4], winoChunkTiles)
		seen := 0
		for g := range p.groups {
			c0, c1 := p.groupChunks(g)
			if c0 != seen || c1 <= c0 {
				t.Fatalf("%v: group %d has chunks [%d, %d), want from %d", c, g, c0, c1, seen)
			}
			seen = c1
		}
		if seen != p.chunks {
			t.Errorf("%v: groups cover %d chunks of %d", c, seen, p.chunks)
		}
		if b0, b1 := p.images(p.chunks - 1); b1 != c[0] || b0 >= b1 {
			t.Errorf("%v: last chunk has images [%d, %d)", c, b0, b1)
		}
		if p.groups > 1 && p.groups*16*c[3]*c[4] > winoPartialFloats {
			t.Errorf("%v: %d groups of partials exceed the budget", c, p.groups)
		}
	}
}

// BenchmarkConv3x3 times the forward and backward passes of the reference
// CNN's convolutions (batch 128) with im2col and GEMMs, the baseline, and
// with the algorithm nn chooses there: Winograd from 4×4, pixel-pair GEMMs
// below.
func BenchmarkConv3x3(b *testing.B) {
	for _, c := range [][5]int{{128, 28, 28, 32, 64}, {128, 14, 14, 64, 128}, {128, 7, 7, 128, 256}, {128, 3, 3, 256, 256}} {
		n, h, w, cin, cout := c[0], c[1], c[2], c[3], c[4]
		rng := rand.New(rand.NewPCG(1, 1))
		x := ktRand(rng, n*h*w*cin, 0)
		wt := ktRand(rng, 9*cin*cout, 0)
		bias := ktRand(rng, cout, 0)
		y := make([]float32, n*h*w*cout)
		dx := make([]float32, len(x))
		dw := make([]float32, len(wt))
		db := make([]float32, cout)
		name := fmt.Sprintf("%dx%dx%d-%d", h, w, cin, cout)
		flops := 2 * float64(n*h*w*9*cin*cout)
		// dGFLOP/s counts the flops of the direct convolution.
		run := func(name string, f float64, step func()) {
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					step()
				}
				b.ReportMetric(f*float64(b.N)/b.Elapsed().Seconds()/1e9, "dGFLOP/s")
			})
		}
		M, K := n*h*w, 9*cin
		col := make([]float32, M*K)
		run(name+"/im2col-fwd", flops, func() {
			Im2col3x3(col, x, n, h, w, cin)
			Sgemm(false, false, M, cout, K, 1, col, K, wt, cout, 0, y, cout)
			AddBiasReLU(y, bias, M, cout, true)
		})
		run(name+"/im2col-bwd", 2*flops, func() {
			Sgemm(true, false, K, cout, M, 1, col, K, y, cout, 0, dw, cout)
			Sgemm(false, true, M, K, cout, 1, y, cout, wt, cout, 0, col, K)
			Col2im3x3(dx, col, n, h, w, cin)
		})
		if min(h, w) >= 4 {
			u := make([]float32, 16*cin*cout)
			du := make([]float32, len(u))
			var s WinogradScratch
			run(name+"/wino-fwd", flops, func() {
				WinogradWeights(u, wt, cin, cout)
				WinogradConv(y, x, u, bias, n, h, w, cin, cout, true, &s)
			})
			run(name+"/wino-bwd", 2*flops, func() {
				WinogradConvBackward(dx, du, db, y, y, x, u, n, h, w, cin, cout, true, &s)
				WinogradWeightsGrad(dw, du, cin, cout)
			})
		} else {
			run(name+"/taps-fwd", flops, func() { Conv3x3Taps(y, x, wt, bias, n, h, w, cin, cout, true) })
			run(name+"/taps-bwd", 2*flops, func() { Conv3x3TapsBackward(dx, dw, y, x, wt, n, h, w, cin, cout) })
		}
	}
}
