package nn

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/tensor"
)

func close32(a, b float32, tol float64) bool {
	return math.Abs(float64(a)-float64(b)) <= tol*max(1, math.Abs(float64(b)))
}

func wantData(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !close32(got[i], want[i], tol) {
			t.Errorf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestMaxPoolTies checks by hand which input takes the gradient on a tie
// (the first in (dy, dx) order), channel interleaving, and floor mode.
func TestMaxPoolTies(t *testing.T) {
	cases := []struct {
		name   string
		shape  []int
		x      []float32
		y      []float32
		dy, dx []float32
	}{
		{"ties", []int{1, 4, 4, 1}, []float32{
			1, 3, 2, 2,
			3, 0, 2, 2,
			5, 5, -1, -4,
			5, 5, -2, -1},
			[]float32{3, 2, 5, -1}, []float32{1, 2, 3, 4}, []float32{
				0, 1, 2, 0,
				0, 0, 0, 0,
				3, 0, 4, 0,
				0, 0, 0, 0}},
		{"channels", []int{1, 2, 2, 2}, []float32{1, 8, 4, 8, 4, 7, 0, 9},
			[]float32{4, 9}, []float32{1, 2}, []float32{0, 0, 1, 0, 0, 0, 0, 2}},
		{"odd-floor", []int{1, 3, 3, 1}, []float32{
			1, 2, 9,
			4, 3, 9,
			9, 9, 9},
			[]float32{4}, []float32{5}, []float32{
				0, 0, 0,
				5, 0, 0,
				0, 0, 0}},
		{"all-equal", []int{1, 2, 2, 1}, []float32{-1, -1, -1, -1},
			[]float32{-1}, []float32{7}, []float32{7, 0, 0, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewMaxPool2D()
			y := l.Forward(tensor.FromData(c.x, c.shape...), true)
			wantData(t, "y", y.Data, c.y, 0)
			dx := l.Backward(tensor.FromData(c.dy, y.Shape...))
			wantData(t, "dx", dx.Data, c.dx, 0)
		})
	}
}

func TestGlobalMaxPoolTies(t *testing.T) {
	// (1, 3, 1, 2): channel 0 is 2, 5, 5; channel 1 is 1, 0, 1.
	l := NewGlobalMaxPool()
	y := l.Forward(tensor.FromData([]float32{2, 1, 5, 0, 5, 1}, 1, 3, 1, 2), true)
	wantData(t, "y", y.Data, []float32{5, 1}, 0)
	dx := l.Backward(tensor.FromData([]float32{3, 4}, 1, 2))
	wantData(t, "dx", dx.Data, []float32{0, 4, 3, 0, 0, 0}, 0)
}

// TestBatchNormByHand checks batch statistics, the running statistics
// (momentum 0.1, unbiased variance) and eval mode on one channel.
func TestBatchNormByHand(t *testing.T) {
	l := NewBatchNorm(1)
	l.Weight.Value.Data[0], l.Bias.Value.Data[0] = 2, 0.5
	x := tensor.FromData([]float32{1, 2, 3, 4}, 4, 1)
	is := 1 / math.Sqrt(1.25+1e-5)
	var want []float32
	for _, v := range x.Data {
		want = append(want, float32(2*(float64(v)-2.5)*is+0.5))
	}
	wantData(t, "train y", l.Forward(x, true).Data, want, 1e-6)
	wantData(t, "running_mean", l.RunningMean, []float32{0.25}, 1e-7)
	wantData(t, "running_var", l.RunningVar, []float32{0.9 + 0.1*5.0/3}, 1e-7)
	if l.NumBatchesTracked != 1 {
		t.Errorf("num_batches_tracked = %d, want 1", l.NumBatchesTracked)
	}
	l.Backward(tensor.FromData([]float32{1, 0, 0, 0}, 4, 1))
	wantData(t, "dγ", l.Weight.Grad.Data, []float32{float32(-1.5 * is)}, 1e-6)
	wantData(t, "dβ", l.Bias.Grad.Data, []float32{1}, 0)

	rv := 0.9 + 0.1*5.0/3
	want = want[:0]
	for _, v := range x.Data {
		want = append(want, float32(2*(float64(v)-0.25)/math.Sqrt(rv+1e-5)+0.5))
	}
	wantData(t, "eval y", l.Forward(x, false).Data, want, 1e-6)
	if l.NumBatchesTracked != 1 {
		t.Errorf("eval moved num_batches_tracked to %d", l.NumBatchesTracked)
	}
}

func TestBatchNormNeedsTwoValues(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "more than one value") {
			t.Errorf("recover() = %v", r)
		}
	}()
	NewBatchNorm(3).Forward(tensor.New(1, 3), true)
}

func TestLossByHand(t *testing.T) {
	ln3 := float32(math.Log(3))
	logits := tensor.FromData([]float32{0, ln3, 2, 0}, 2, 2)
	labels := []uint8{1, 1}
	e2 := math.Exp(2)
	p := [][2]float64{{0.25, 0.75}, {e2 / (e2 + 1), 1 / (e2 + 1)}}
	for _, eps := range []float64{0, 0.1} {
		t0, t1 := eps/2, 1-eps/2
		var loss float64
		var grad []float32
		for _, r := range p {
			loss -= (t0*math.Log(r[0]) + t1*math.Log(r[1])) / 2
			grad = append(grad, float32((r[0]-t0)/2), float32((r[1]-t1)/2))
		}
		l := &SoftmaxCrossEntropy{Smoothing: float32(eps)}
		got, correct, g := l.Forward(logits, labels)
		if math.Abs(got-loss) > 1e-6 || correct != 1 {
			t.Errorf("smoothing %v: loss %v, correct %d; want %v, 1", eps, got, correct, loss)
		}
		wantData(t, "dlogits", g.Data, grad, 1e-6)
		if l2, c2 := l.Eval(logits, labels); l2 != got || c2 != correct {
			t.Errorf("Eval = %v, %d; Forward gave %v, %d", l2, c2, got, correct)
		}
	}
}

func TestLossBadLabel(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "label 3 at row 1") {
			t.Errorf("recover() = %v", r)
		}
	}()
	(&SoftmaxCrossEntropy{}).Eval(tensor.New(2, 3), []uint8{0, 3})
}

// TestConvMatchesDirect compares the im2col convolution with a direct
// float64 convolution computed from the PyTorch-layout (OIHW) export of
// its weights, which pins both the layout and the export.
func TestConvMatchesDirect(t *testing.T) {
	defer func(wg int) { convAlgo = wg }(convAlgo)
	for _, algo := range []int{algoIm2col, algoWinograd, algoTaps} {
		convAlgo = algo
		t.Run(algoNames[algo], testConvMatchesDirect)
	}
}

func testConvMatchesDirect(t *testing.T) {
	rng := NewRNG(2)
	const n, h, w, ci, co = 2, 5, 4, 3, 4
	l := NewConv2D(ci, co, rng)
	randParams(rng, l.Params())
	x := randTensor(rng, 1, n, h, w, ci)
	y := l.Forward(x, false)
	e := stateEntry{kind: convOIHW, shape: []int{co, ci, 3, 3}}
	wt := make([]float32, co*ci*9)
	e.export(wt, l.Weight.Value.Data)
	for b := range n {
		for yy := range h {
			for xx := range w {
				for o := range co {
					s := float64(l.Bias.Value.Data[o])
					for c := range ci {
						for ky := range 3 {
							for kx := range 3 {
								iy, ix := yy+ky-1, xx+kx-1
								if iy < 0 || iy >= h || ix < 0 || ix >= w {
									continue
								}
								s += float64(wt[((o*ci+c)*3+ky)*3+kx]) * float64(x.Data[((b*h+iy)*w+ix)*ci+c])
							}
						}
					}
					if got := y.Data[((b*h+yy)*w+xx)*co+o]; !close32(got, float32(s), 1e-5) {
						t.Fatalf("y[%d,%d,%d,%d] = %v, want %v", b, yy, xx, o, got, s)
					}
				}
			}
		}
	}
	back := make([]float32, len(wt))
	e.data = back
	e.load(wt)
	if !slices.Equal(back, l.Weight.Value.Data) {
		t.Error("load(export(W)) != W")
	}
}

func TestLinearMatchesDirect(t *testing.T) {
	rng := NewRNG(3)
	const b, in, out = 3, 5, 4
	l := NewLinear(in, out, rng)
	randParams(rng, l.Params())
	x := randTensor(rng, 1, b, in)
	y := l.Forward(x, false)
	e := stateEntry{kind: linearT, shape: []int{out, in}}
	wt := make([]float32, out*in)
	e.export(wt, l.Weight.Value.Data)
	for r := range b {
		for o := range out {
			s := float64(l.Bias.Value.Data[o])
			for i := range in {
				s += float64(wt[o*in+i]) * float64(x.Data[r*in+i])
			}
			if got := y.Data[r*out+o]; !close32(got, float32(s), 1e-5) {
				t.Errorf("y[%d,%d] = %v, want %v", r, o, got, s)
			}
		}
	}
}

// TestDropout checks the drop rate, the inverted scaling, eval identity and
// that a layer seeded the same way draws the same masks.
func TestDropout(t *testing.T) {
	const p, n = 0.3, 20000
	x := tensor.New(4, n/4)
	for i := range x.Data {
		x.Data[i] = 1
	}
	a, b := NewDropout(p, NewRNG(1)), NewDropout(p, NewRNG(1))
	ya := a.Forward(x, true)
	zeros := 0
	for _, v := range ya.Data {
		switch v {
		case 0:
			zeros++
		case float32(1 / (1 - p)):
		default:
			t.Fatalf("output %v, want 0 or %v", v, 1/(1-p))
		}
	}
	if f := float64(zeros) / n; math.Abs(f-p) > 0.015 {
		t.Errorf("dropped %.4f, want %.2f", f, p)
	}
	if !slices.Equal(ya.Data, b.Forward(x, true).Data) {
		t.Error("same seed, different masks")
	}
	first := slices.Clone(ya.Data)
	if slices.Equal(first, a.Forward(x, true).Data) {
		t.Error("the second step drew the same mask")
	}
	if y := a.Forward(x, false); y != x {
		t.Error("eval is not the identity")
	}
}

// TestSteadyShapes checks that layers reuse their buffers across steps and
// follow a change of batch size.
func TestSteadyShapes(t *testing.T) {
	rng := NewRNG(4)
	s := NewSequential(NewConv2D(1, 2, rng).WithReLU(), NewMaxPool2D(), NewFlatten(), NewLinear(2*3*3, 3, rng))
	for _, b := range []int{4, 4, 2, 5} {
		x := randTensor(rng, 1, b, 6, 7, 1)
		y := s.Forward(x, true)
		tensor.MustShape("logits", y, b, 3)
		dx := s.Backward(y)
		tensor.MustShape("dx", dx, b, 6, 7, 1)
	}
}

func TestShapeMistakesPanic(t *testing.T) {
	rng := NewRNG(5)
	cases := []struct {
		name string
		f    func()
		msg  string
	}{
		{"linear width", func() { NewLinear(4, 2, rng).Forward(tensor.New(3, 5), true) }, "nn: linear input"},
		{"conv channels", func() { NewConv2D(2, 2, rng).Forward(tensor.New(1, 4, 4, 3), true) }, "nn: conv input"},
		{"conv gradient", func() {
			l := NewConv2D(1, 2, rng)
			l.Forward(tensor.New(1, 4, 4, 1), true)
			l.Backward(tensor.New(1, 4, 4, 3))
		}, "nn: conv output gradient"},
		{"pool too small", func() { NewMaxPool2D().Forward(tensor.New(1, 1, 4, 2), true) }, "too small"},
		{"bn channels", func() { NewBatchNorm(3).Forward(tensor.New(4, 2), true) }, "nn: batchnorm input"},
		{"model input", func() { MustBuild(Spec{Kind: "cnn", Widths: []int{2}}, 0).Forward(tensor.New(1, 4, 4, 2), false) }, "nn: cnn input"},
		{"mlp input", func() {
			MustBuild(Spec{Kind: "mlp", In: 10, Hidden: []int{3}}, 0).Forward(tensor.New(2, 3, 3, 1), false)
		}, "nn: linear input"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, c.msg) {
					t.Errorf("recover() = %v, want a panic mentioning %q", r, c.msg)
				}
			}()
			c.f()
		})
	}
}

// TestConvChoose pins which algorithm each image size takes.
func TestConvChoose(t *testing.T) {
	cases := []struct {
		h, w, cin int
		want      int
	}{
		{28, 28, 1, algoIm2col}, // the first layer: Winograd's GEMMs would have K = 1
		{28, 28, 32, algoWinograd},
		{14, 14, 64, algoWinograd},
		{7, 7, 128, algoWinograd},
		{4, 4, 2, algoWinograd},
		{64, 64, 8, algoWinograd},
		{65, 64, 8, algoIm2col}, // too large for whole-image chunks
		{3, 3, 256, algoTaps},
		{4, 4, 1, algoTaps},
		{1, 1, 3, algoTaps},
		{5, 5, 1, algoIm2col},
		{2, 100, 8, algoIm2col}, // thin, but too many pixel pairs
	}
	for _, c := range cases {
		if got := convChoose(c.h, c.w, c.cin); got != c.want {
			t.Errorf("convChoose(%d, %d, %d) = %s, want %s", c.h, c.w, c.cin, algoNames[got], algoNames[c.want])
		}
	}
}

// TestWinogradCacheFollowsWeights: in eval mode a convolution reuses its
// Winograd transform of the weight, but only while the weight's bits are
// the ones it was made from; a weight changed in place, by anything, is
// seen at the next forward pass.
func TestWinogradCacheFollowsWeights(t *testing.T) {
	spec := Spec{Kind: "cnn", Widths: []int{4, 8}, Classes: 3}
	m := MustBuild(spec, 1)
	x, _ := synthetic(2, 3, 2, 8, 8, 1)
	var wino *Conv2D
	for _, l := range m.layers {
		if c, ok := l.(*Conv2D); ok && convChoose(8, 8, c.Cin) == algoWinograd {
			wino = c
		}
	}
	if wino == nil {
		t.Fatal("no Winograd convolution in the model")
	}
	y1 := slices.Clone(m.Forward(x, false).Data)
	if !equalBits(y1, m.Forward(x, false).Data) {
		t.Fatal("two eval passes differ")
	}
	for _, v := range []float32{0.5, 0} {
		wino.Weight.Value.Data[3] = v // in place, telling no one
		got := slices.Clone(m.Forward(x, false).Data)
		fresh := MustBuild(spec, 2)
		if err := fresh.LoadStateDict(m.StateDict()); err != nil {
			t.Fatal(err)
		}
		if want := fresh.Forward(x, false).Data; !equalBits(got, want) {
			t.Fatalf("weight[3] = %v: the eval pass used a stale transform", v)
		}
		if equalBits(got, y1) {
			t.Fatalf("weight[3] = %v changed nothing", v)
		}
	}
}
