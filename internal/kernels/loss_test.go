package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func ktLabels(rng *rand.Rand, n, classes int) []uint8 {
	l := make([]uint8, n)
	for i := range l {
		l[i] = uint8(rng.IntN(classes))
	}
	return l
}

func TestSoftmaxCrossEntropy(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(31, 32))
	for _, tc := range []struct{ n, classes int }{
		{1, 1}, {1, 10}, {3, 2}, {128, 10}, {255, 10}, {256, 10}, {257, 10}, {1000, 10}, {600, 3},
	} {
		for _, eps := range []float32{0, 0.1} {
			for _, grad := range []bool{true, false} {
				logits := ktRand(rng, tc.n*tc.classes, 1)
				for i := range logits {
					logits[i] *= 4
				}
				labels := ktLabels(rng, tc.n, tc.classes)
				var want []float32
				if grad {
					want = make([]float32, len(logits))
				}
				wantLoss, wantHits := SoftmaxCrossEntropyRef(want, logits, labels, tc.n, tc.classes, eps)
				var losses []float64
				for _, p := range ktPaths(t) {
					name := fmt.Sprintf("%v/eps=%v/grad=%v/%v", tc, eps, grad, p)
					var d, all []float32
					if grad {
						d, all = ktOut(len(logits), 42)
					}
					l0 := ktClone(logits)
					var loss float64
					var hits int
					ktOn(p, func(e exec) { loss, hits = e.SoftmaxCrossEntropy(d, logits, labels, tc.n, tc.classes, eps) })
					if hits != wantHits {
						t.Fatalf("%s: %d hits, want %d", name, hits, wantHits)
					}
					if grad {
						ktSame(t, name, d, want)
						ktGuards(t, name, all)
					}
					ktSame(t, name+" logits", logits, l0)
					// Exact up to one block; beyond, blocks are summed
					// first, so only close.
					if tc.n <= sceBlock && loss != wantLoss || math.Abs(loss-wantLoss) > 1e-12*math.Abs(wantLoss) {
						t.Fatalf("%s: loss %v, want %v", name, loss, wantLoss)
					}
					losses = append(losses, loss)
				}
				for _, l := range losses {
					if math.Float64bits(l) != math.Float64bits(losses[0]) {
						t.Fatalf("%v: loss %v on one path, %v on another", tc, l, losses[0])
					}
				}
			}
		}
	}
}

// TestSoftmaxCrossEntropyHand checks label smoothing on values worked out by
// hand: row 0 is uniform over two classes, row 1 has p = (3/4, 1/4).
func TestSoftmaxCrossEntropyHand(t *testing.T) {
	t.Parallel()
	logits := []float32{0, 0, float32(math.Log(3)), 0}
	labels := []uint8{0, 1}
	const eps = 0.2
	// Targets: (0.9, 0.1) and (0.1, 0.9).
	l0 := math.Log(2)
	l1 := -(0.1*math.Log(0.75) + 0.9*math.Log(0.25))
	wantLoss := (l0 + l1) / 2
	wantGrad := []float64{(0.5 - 0.9) / 2, (0.5 - 0.1) / 2, (0.75 - 0.1) / 2, (0.25 - 0.9) / 2}
	for _, p := range ktPaths(t) {
		d := make([]float32, 4)
		var loss float64
		var hits int
		ktOn(p, func(e exec) { loss, hits = e.SoftmaxCrossEntropy(d, logits, labels, 2, 2, eps) })
		if math.Abs(loss-wantLoss) > 1e-7 {
			t.Errorf("%v: loss %v, want %v", p, loss, wantLoss)
		}
		if hits != 1 { // row 0 ties, and the first maximum is the label
			t.Errorf("%v: %d hits, want 1", p, hits)
		}
		for i, g := range wantGrad {
			if math.Abs(float64(d[i])-g) > 1e-7 {
				t.Errorf("%v: dlogits[%d] = %v, want %v", p, i, d[i], g)
			}
		}
	}
}

// TestSoftmaxCrossEntropyGrad compares the gradient with float64 central
// differences of the reference's loss. Logits are float32, so the step
// actually taken is measured after rounding.
func TestSoftmaxCrossEntropyGrad(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(33, 34))
	const n, classes = 5, 7
	for _, eps := range []float32{0, 0.1} {
		logits := ktRand(rng, n*classes, 0)
		labels := ktLabels(rng, n, classes)
		d := make([]float32, len(logits))
		SoftmaxCrossEntropy(d, logits, labels, n, classes, eps)
		for i := range logits {
			v := logits[i]
			hi, lo := v+1e-2, v-1e-2
			logits[i] = hi
			fhi, _ := SoftmaxCrossEntropyRef(nil, logits, labels, n, classes, eps)
			logits[i] = lo
			flo, _ := SoftmaxCrossEntropyRef(nil, logits, labels, n, classes, eps)
			logits[i] = v
			num := (fhi - flo) / (float64(hi) - float64(lo))
			if math.Abs(num-float64(d[i])) > 1e-4 {
				t.Errorf("eps %v: dlogits[%d] = %v, central difference %v", eps, i, d[i], num)
			}
		}
	}
}

func BenchmarkSoftmaxCrossEntropy(b *testing.B) {
	for _, n := range []int{128, 10000} {
		rng := rand.New(rand.NewPCG(1, 1))
		logits, labels := ktRand(rng, n*10, 0), ktLabels(rng, n, 10)
		d := make([]float32, len(logits))
		ktBenchBoth(b, fmt.Sprintf("%dx10", n), 8*len(logits),
			func() { SoftmaxCrossEntropy(d, logits, labels, n, 10, 0.1) },
			func() { SoftmaxCrossEntropyRef(d, logits, labels, n, 10, 0.1) })
	}
}
