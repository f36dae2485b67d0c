package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// ktBN is a batch-norm problem: x with a per-column offset and scale, its
// statistics, and parameters.
type ktBN struct {
	rows, cols                  int
	x, mean, vari, invstd, g, b []float32
	xhat, y, dy                 []float32
}

func ktNewBN(rng *rand.Rand, rows, cols, off int) *ktBN {
	p := &ktBN{rows: rows, cols: cols}
	p.x = ktRand(rng, rows*cols, off)
	for i := range p.x {
		j := i % max(cols, 1)
		p.x[i] = p.x[i]*float32(1+j%3) + float32(j%5) - 2
	}
	p.mean, p.vari, p.invstd = make([]float32, cols), make([]float32, cols), make([]float32, cols)
	BatchNormStatsRef(p.mean, p.vari, p.x, rows, cols)
	for j := range p.invstd {
		p.invstd[j] = float32(1 / math.Sqrt(float64(p.vari[j])+1e-5))
	}
	p.g, p.b = ktRand(rng, cols, off), ktRand(rng, cols, 1-off)
	p.xhat, p.y = make([]float32, rows*cols), make([]float32, rows*cols)
	BatchNormForwardRef(p.y, p.xhat, p.x, p.mean, p.invstd, p.g, p.b, rows, cols, true)
	p.dy = ktRand(rng, rows*cols, off)
	return p
}

func TestBatchNormStats(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(41, 42))
	for _, s := range ktShapes2D {
		p := ktNewBN(rng, s[0], s[1], 1)
		for _, path := range ktPaths(t) {
			name := fmt.Sprintf("%v/%v", s, path)
			mean, allM := ktOut(p.cols, 42)
			vari, allV := ktOut(p.cols, 42)
			x0 := ktClone(p.x)
			ktOn(path, func(e exec) { e.BatchNormStats(mean, vari, p.x, p.rows, p.cols) })
			ktSame(t, name+" mean", mean, p.mean)
			ktSame(t, name+" variance", vari, p.vari)
			ktGuards(t, name+" mean", allM)
			ktGuards(t, name+" variance", allV)
			ktSame(t, name+" x", p.x, x0)
		}
	}
}

func TestBatchNormForward(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(43, 44))
	for _, s := range ktShapes2D {
		p := ktNewBN(rng, s[0], s[1], 1)
		for _, relu := range []bool{false, true} {
			for _, keep := range []bool{true, false} {
				want, wantXhat := make([]float32, len(p.x)), make([]float32, len(p.x))
				BatchNormForwardRef(want, wantXhat, p.x, p.mean, p.invstd, p.g, p.b, p.rows, p.cols, relu)
				for _, path := range ktPaths(t) {
					name := fmt.Sprintf("%v/relu=%v/xhat=%v/%v", s, relu, keep, path)
					y, allY := ktOut(len(p.x), 42)
					var xhat, allX []float32
					if keep {
						xhat, allX = ktOut(len(p.x), 42)
					}
					x0 := ktClone(p.x)
					ktOn(path, func(e exec) { e.BatchNormForward(y, xhat, p.x, p.mean, p.invstd, p.g, p.b, p.rows, p.cols, relu) })
					ktSame(t, name, y, want)
					ktGuards(t, name, allY)
					if keep {
						ktSame(t, name+" xhat", xhat, wantXhat)
						ktGuards(t, name+" xhat", allX)
					}
					ktSame(t, name+" x", p.x, x0)
				}
				// In place.
				y := ktClone(p.x)
				BatchNormForward(y, nil, y, p.mean, p.invstd, p.g, p.b, p.rows, p.cols, relu)
				ktSame(t, fmt.Sprintf("%v/relu=%v in place", s, relu), y, want)
			}
		}
	}
}

func TestBatchNormBackward(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(45, 46))
	for _, s := range ktShapes2D {
		p := ktNewBN(rng, s[0], s[1], 1)
		for _, relu := range []bool{false, true} {
			var beta []float32
			if relu {
				beta = p.b
			}
			want := make([]float32, len(p.x))
			wantG, wantB := make([]float32, p.cols), make([]float32, p.cols)
			batchNormBackwardRef(want, wantG, wantB, p.dy, p.xhat, p.invstd, p.g, beta, p.rows, p.cols)
			for _, path := range ktPaths(t) {
				name := fmt.Sprintf("%v/relu=%v/%v", s, relu, path)
				dx, allX := ktOut(len(p.x), 42)
				dg, allG := ktOut(p.cols, 42)
				db, allB := ktOut(p.cols, 42)
				dy0, xhat0 := ktClone(p.dy), ktClone(p.xhat)
				ktOn(path, func(e exec) {
					if relu {
						e.BatchNormReLUBackward(dx, dg, db, p.dy, p.xhat, p.invstd, p.g, p.b, p.rows, p.cols)
					} else {
						e.BatchNormBackward(dx, dg, db, p.dy, p.xhat, p.invstd, p.g, p.rows, p.cols)
					}
				})
				ktSame(t, name+" dx", dx, want)
				ktSame(t, name+" dgamma", dg, wantG)
				ktSame(t, name+" dbeta", db, wantB)
				for _, a := range [][]float32{allX, allG, allB} {
					ktGuards(t, name, a)
				}
				ktSame(t, name+" dy", p.dy, dy0)
				ktSame(t, name+" xhat", p.xhat, xhat0)
			}
			// dx on top of dy.
			d := ktClone(p.dy)
			dg, db := make([]float32, p.cols), make([]float32, p.cols)
			if relu {
				BatchNormReLUBackward(d, dg, db, d, p.xhat, p.invstd, p.g, p.b, p.rows, p.cols)
			} else {
				BatchNormBackward(d, dg, db, d, p.xhat, p.invstd, p.g, p.rows, p.cols)
			}
			ktSame(t, fmt.Sprintf("%v/relu=%v in place", s, relu), d, want)
		}
	}
}

// TestBatchNormHand checks the statistics, the forward pass and both
// gradients on one column worked out by hand.
func TestBatchNormHand(t *testing.T) {
	t.Parallel()
	near := func(name string, got []float32, want ...float64) {
		t.Helper()
		for i, w := range want {
			if math.Abs(float64(got[i])-w) > 1e-6 {
				t.Errorf("%s[%d] = %v, want %v", name, i, got[i], w)
			}
		}
	}
	for _, path := range ktPaths(t) {
		ktOn(path, func(e exec) {
			// Statistics of (1, 2, 3, 6): mean 3, variance (4+1+0+9)/4.
			mean, vari := make([]float32, 1), make([]float32, 1)
			e.BatchNormStats(mean, vari, []float32{1, 2, 3, 6}, 4, 1)
			near("mean", mean, 3)
			near("variance", vari, 3.5)

			// x = (-1, 0, 1), mean 0, invstd 1, gamma 2, beta 0.5.
			x, one, zero := []float32{-1, 0, 1}, []float32{1}, []float32{0}
			gamma, beta := []float32{2}, []float32{0.5}
			y, xhat := make([]float32, 3), make([]float32, 3)
			e.BatchNormForward(y, xhat, x, zero, one, gamma, beta, 3, 1, false)
			near("xhat", xhat, -1, 0, 1)
			near("y", y, -1.5, 0.5, 2.5)
			e.BatchNormForward(y, xhat, x, zero, one, gamma, beta, 3, 1, true)
			near("y relu", y, 0, 0.5, 2.5)

			// dy = (1, 2, 4): dbeta 7, dgamma 3,
			// dx = 2·((dy - 7/3) - xhat·1) = (-2/3, -2/3, 4/3).
			dy := []float32{1, 2, 4}
			dx, dg, db := make([]float32, 3), make([]float32, 1), make([]float32, 1)
			e.BatchNormBackward(dx, dg, db, dy, xhat, one, gamma, 3, 1)
			near("dbeta", db, 7)
			near("dgamma", dg, 3)
			near("dx", dx, -2.0/3, -2.0/3, 4.0/3)
			// With the ReLU, row 0 is cut: g = (0, 2, 4), dbeta 6,
			// dgamma 4, dx = 2·((g - 2) - xhat·4/3) = (-4/3, 0, 4/3).
			e.BatchNormReLUBackward(dx, dg, db, dy, xhat, one, gamma, beta, 3, 1)
			near("relu dbeta", db, 6)
			near("relu dgamma", dg, 4)
			near("relu dx", dx, -4.0/3, 0, 4.0/3)
		})
	}
}

// ktBNLoss is Σ w·BN(x) in float64, with the batch statistics and invstd =
// 1/sqrt(var + eps) of training mode.
func ktBNLoss(x, gamma, beta, w []float64, rows, cols int, relu bool) float64 {
	var loss float64
	for j := 0; j < cols; j++ {
		var m, v float64
		for r := 0; r < rows; r++ {
			m += x[r*cols+j]
		}
		m /= float64(rows)
		for r := 0; r < rows; r++ {
			d := x[r*cols+j] - m
			v += d * d
		}
		inv := 1 / math.Sqrt(v/float64(rows)+1e-5)
		for r := 0; r < rows; r++ {
			y := gamma[j]*(x[r*cols+j]-m)*inv + beta[j]
			if relu && y < 0 {
				y = 0
			}
			loss += w[r*cols+j] * y
		}
	}
	return loss
}

// TestBatchNormGrad compares both backward kernels with float64 central
// differences of the training-mode forward pass.
func TestBatchNormGrad(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(47, 48))
	const rows, cols = 6, 3
	for _, relu := range []bool{false, true} {
		p := ktNewBN(rng, rows, cols, 0)
		BatchNormForward(p.y, p.xhat, p.x, p.mean, p.invstd, p.g, p.b, rows, cols, relu)
		dx, dg, db := make([]float32, rows*cols), make([]float32, cols), make([]float32, cols)
		if relu {
			BatchNormReLUBackward(dx, dg, db, p.dy, p.xhat, p.invstd, p.g, p.b, rows, cols)
		} else {
			BatchNormBackward(dx, dg, db, p.dy, p.xhat, p.invstd, p.g, rows, cols)
		}
		f64 := func(s []float32) []float64 {
			d := make([]float64, len(s))
			for i, v := range s {
				d[i] = float64(v)
			}
			return d
		}
		x, g, b, w := f64(p.x), f64(p.g), f64(p.b), f64(p.dy)
		check := func(name string, v []float64, got []float32) {
			const h = 1e-6
			for i := range v {
				old := v[i]
				v[i] = old + h
				hi := ktBNLoss(x, g, b, w, rows, cols, relu)
				v[i] = old - h
				lo := ktBNLoss(x, g, b, w, rows, cols, relu)
				v[i] = old
				num := (hi - lo) / (2 * h)
				if math.Abs(num-float64(got[i])) > 1e-3*(1+math.Abs(num)) {
					t.Errorf("relu=%v: %s[%d] = %v, central difference %v", relu, name, i, got[i], num)
				}
			}
		}
		check("dx", x, dx)
		check("dgamma", g, dg)
		check("dbeta", b, db)
	}
}

func BenchmarkBatchNorm(b *testing.B) {
	for _, s := range ktBenchSizes {
		p := ktNewBN(rand.New(rand.NewPCG(1, 1)), s.rows, s.cols, 0)
		n := s.rows * s.cols
		ktBenchBoth(b, "stats/"+s.name, 4*n,
			func() { BatchNormStats(p.mean, p.vari, p.x, s.rows, s.cols) },
			func() { BatchNormStatsRef(p.mean, p.vari, p.x, s.rows, s.cols) })
		ktBenchBoth(b, "forward/"+s.name, 12*n,
			func() { BatchNormForward(p.y, p.xhat, p.x, p.mean, p.invstd, p.g, p.b, s.rows, s.cols, true) },
			func() { BatchNormForwardRef(p.y, p.xhat, p.x, p.mean, p.invstd, p.g, p.b, s.rows, s.cols, true) })
		dx, dg, db := make([]float32, n), make([]float32, s.cols), make([]float32, s.cols)
		ktBenchBoth(b, "relu-backward/"+s.name, 20*n,
			func() { BatchNormReLUBackward(dx, dg, db, p.dy, p.xhat, p.invstd, p.g, p.b, s.rows, s.cols) },
			func() { BatchNormReLUBackwardRef(dx, dg, db, p.dy, p.xhat, p.invstd, p.g, p.b, s.rows, s.cols) })
	}
}
