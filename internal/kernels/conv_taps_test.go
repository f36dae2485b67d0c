package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// tapShapes are the convolutions the tap tests run: empty batches and
// channels, one pixel, one row, the reference CNN's 3×3, a 4×4, and
// channel counts off the 8-float vector.
var tapShapes = [][5]int{
	{0, 3, 3, 8, 8},
	{1, 1, 1, 1, 1},
	{3, 1, 4, 5, 3},
	{2, 2, 1, 9, 8},
	{5, 3, 3, 16, 24},
	{4, 4, 4, 8, 17},
	{2, 3, 2, 3, 0},
	{2, 3, 3, 0, 4},
	{13, 3, 3, 32, 32},
}

// convTol is the error allowed for a GEMM-based convolution relative to
// the sum of the absolute terms of each output.
const convTol = 1e-5

func TestConv3x3Taps(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	for _, sh := range tapShapes {
		n, h, w, cin, cout := sh[0], sh[1], sh[2], sh[3], sh[4]
		for _, relu := range []bool{false, true} {
			for _, withBias := range []bool{false, true} {
				t.Run(fmt.Sprintf("%v/relu=%v/bias=%v", sh, relu, withBias), func(t *testing.T) {
					x := ktRand(rng, n*h*w*cin, 1)
					wt := ktRand(rng, 9*cin*cout, 2)
					var bias []float32
					if withBias {
						bias = ktRand(rng, cout, 3)
					}
					want, mag := convDirect64(x, wt, bias, n, h, w, cin, cout)
					if relu {
						for i := range want {
							want[i] = max(want[i], 0)
						}
					}
					ref := make([]float32, len(want))
					Conv3x3TapsRef(ref, x, wt, bias, n, h, w, cin, cout, relu)
					winoClose(t, "ref", ref, want, mag, convTol)
					x0, w0 := ktClone(x), ktClone(wt)
					var first []float32
					for _, p := range ktPaths(t) {
						y, all := ktOut(len(want), ktSentinel)
						ktOn(p, func(e exec) { e.Conv3x3Taps(y, x, wt, bias, n, h, w, cin, cout, relu) })
						ktGuards(t, p.String(), all)
						winoClose(t, p.String(), y, want, mag, convTol)
						if first == nil {
							first = ktClone(y)
						} else {
							ktSame(t, p.String()+" against the first path", y, first)
						}
					}
					ktSame(t, "x unchanged", x, x0)
					ktSame(t, "w unchanged", wt, w0)
				})
			}
		}
	}
}

// TestConv3x3TapsOneImage checks that an image convolved alone, which
// goes through the taps one at a time, gets to the bit its values in a
// batch, which goes pixel by pixel, on every path, with guard bands.
func TestConv3x3TapsOneImage(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(13, 14))
	for _, sh := range [][4]int{{3, 3, 16, 24}, {3, 3, 64, 256}, {2, 3, 7, 300}, {4, 4, 9, 130}, {1, 1, 5, 3}, {3, 3, 0, 40}} {
		h, w, cin, cout := sh[0], sh[1], sh[2], sh[3]
		const n = 3
		for _, relu := range []bool{false, true} {
			for _, withBias := range []bool{false, true} {
				x := ktRand(rng, n*h*w*cin, 1)
				wt := ktRand(rng, 9*cin*cout, 2)
				var bias []float32
				if withBias {
					bias = ktRand(rng, cout, 3)
				}
				batch := make([]float32, n*h*w*cout)
				Conv3x3Taps(batch, x, wt, bias, n, h, w, cin, cout, relu)
				per := h * w * cout
				for _, p := range ktPaths(t) {
					for b := 0; b < n; b++ {
						y, all := ktOut(per, ktSentinel)
						ktOn(p, func(e exec) { e.Conv3x3Taps(y, x[b*h*w*cin:(b+1)*h*w*cin], wt, bias, 1, h, w, cin, cout, relu) })
						name := fmt.Sprintf("%v relu=%v bias=%v %s image %d", sh, relu, withBias, p, b)
						ktGuards(t, name, all)
						ktSame(t, name, y, batch[b*per:(b+1)*per])
					}
				}
			}
		}
	}
}

func TestConv3x3TapsBackward(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(13, 14))
	for _, sh := range tapShapes {
		n, h, w, cin, cout := sh[0], sh[1], sh[2], sh[3], sh[4]
		for _, withDX := range []bool{true, false} {
			t.Run(fmt.Sprintf("%v/dx=%v", sh, withDX), func(t *testing.T) {
				x := ktRand(rng, n*h*w*cin, 1)
				wt := ktRand(rng, 9*cin*cout, 2)
				dz := ktRand(rng, n*h*w*cout, 3)
				wdw, wdwm, _, _, wdx, wdxm := convBackward64(dz, nil, x, wt, n, h, w, cin, cout, false)
				rdx, rdw := make([]float32, len(x)), make([]float32, len(wt))
				Conv3x3TapsBackwardRef(rdx, rdw, dz, x, wt, n, h, w, cin, cout)
				winoClose(t, "ref dw", rdw, wdw, wdwm, convTol)
				winoClose(t, "ref dx", rdx, wdx, wdxm, convTol)
				in := [][]float32{x, wt, dz}
				before := [][]float32{ktClone(x), ktClone(wt), ktClone(dz)}
				var first [][]float32
				for _, p := range ktPaths(t) {
					dw, dwAll := ktOut(len(wt), ktSentinel)
					var dx, dxAll []float32
					if withDX {
						dx, dxAll = ktOut(len(x), ktSentinel)
					}
					ktOn(p, func(e exec) { e.Conv3x3TapsBackward(dx, dw, dz, x, wt, n, h, w, cin, cout) })
					ktGuards(t, p.String()+" dw", dwAll)
					winoClose(t, p.String()+" dw", dw, wdw, wdwm, convTol)
					if withDX {
						ktGuards(t, p.String()+" dx", dxAll)
						winoClose(t, p.String()+" dx", dx, wdx, wdxm, convTol)
					}
					if first == nil {
						first = [][]float32{ktClone(dw), ktClone(dx)}
					} else {
						ktSame(t, p.String()+" dw against the first path", dw, first[0])
						if withDX {
							ktSame(t, p.String()+" dx against the first path", dx, first[1])
						}
					}
				}
				for i := range in {
					ktSame(t, "input unchanged", in[i], before[i])
				}
			})
		}
	}
}

// TestTapPairs: each output pixel of an h × w image is reached by exactly
// the input pixels of its window, and the input-side walk is its mirror.
func TestTapPairs(t *testing.T) {
	t.Parallel()
	for _, hw := range [][2]int{{1, 1}, {3, 3}, {2, 5}, {4, 4}} {
		h, w := hw[0], hw[1]
		fwd, back := map[[2]int]int{}, map[[2]int]int{}
		for p := range h * w {
			tapPairs(p, h, w, true, func(t, i int) { fwd[[2]int{p, i}] = t })
			tapPairs(p, h, w, false, func(t, o int) { back[[2]int{o, p}] = t })
		}
		want := 0
		for o := range h * w {
			for i := range h * w {
				dy, dx := i/w-o/w, i%w-o%w
				if max(dy, -dy) > 1 || max(dx, -dx) > 1 {
					continue
				}
				want++
				if tap := (dy+1)*3 + dx + 1; fwd[[2]int{o, i}] != tap || back[[2]int{o, i}] != tap {
					t.Errorf("%d×%d: pair (%d, %d): taps %d and %d, want %d", h, w, o, i, fwd[[2]int{o, i}], back[[2]int{o, i}], tap)
				}
			}
		}
		if len(fwd) != want || len(back) != want {
			t.Errorf("%d×%d: %d and %d pairs, want %d", h, w, len(fwd), len(back), want)
		}
	}
}
