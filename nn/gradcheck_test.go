package nn

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fmnist/fmnist/tensor"
)

// The gradient checks compare each analytic gradient with central
// differences of a float64 loss evaluated on float32 forward passes.
//
// A layer's loss is a fixed random projection of its output,
// L = Σ r·y, so its analytic input is dy = r. A model's loss is the real
// softmax cross-entropy. A coordinate whose ±h perturbation changes the
// discrete state (a ReLU mask, a max-pool choice) sits on a kink, where the
// function is not differentiable; it is skipped, and the check fails when
// more than a tenth are.

// checkVar is one tensor whose gradient is checked.
type checkVar struct {
	name  string
	value []float32 // perturbed in place
	grad  []float32 // the analytic gradient, copied
}

type checkOpts struct {
	h          float64 // perturbation
	rtol, atol float64 // atol is relative to the largest analytic |grad| of the tensor
	maxCoords  int     // coordinates checked per tensor (a seeded sample beyond)
}

var defaultCheck = checkOpts{h: 1e-2, rtol: 1e-2, atol: 2e-3, maxCoords: 150}

// gradCheck perturbs every coordinate of each var (or a sample of them) and
// compares (L(v+h) − L(v−h)) / 2h with the analytic gradient. loss runs a
// forward pass and returns L; pattern appends the discrete state.
func gradCheck(t *testing.T, loss func() float64, pattern func([]byte) []byte, vars []checkVar, o checkOpts) {
	t.Helper()
	base := pattern(nil)
	var buf []byte
	rng := rand.New(rand.NewPCG(7, 7))
	checked, skipped := 0, 0
	for _, v := range vars {
		if len(v.value) != len(v.grad) {
			t.Fatalf("%s: %d values, %d grads", v.name, len(v.value), len(v.grad))
		}
		scale := 0.0
		for _, g := range v.grad {
			scale = max(scale, math.Abs(float64(g)))
		}
		coords := make([]int, len(v.value))
		for i := range coords {
			coords[i] = i
		}
		if len(coords) > o.maxCoords {
			rng.Shuffle(len(coords), func(i, j int) { coords[i], coords[j] = coords[j], coords[i] })
			coords = coords[:o.maxCoords]
		}
		bad := 0
		for _, j := range coords {
			x := v.value[j]
			xp, xm := x+float32(o.h), x-float32(o.h)
			v.value[j] = xp
			lp := loss()
			buf = pattern(buf[:0])
			kink := !bytes.Equal(buf, base)
			v.value[j] = xm
			lm := loss()
			buf = pattern(buf[:0])
			kink = kink || !bytes.Equal(buf, base)
			v.value[j] = x
			if kink {
				skipped++
				continue
			}
			checked++
			num := (lp - lm) / (float64(xp) - float64(xm))
			a := float64(v.grad[j])
			if d := math.Abs(a - num); d > o.rtol*max(math.Abs(a), math.Abs(num))+o.atol*scale+1e-9 {
				if bad < 5 {
					t.Errorf("%s[%d]: analytic %.6g, numeric %.6g (scale %.3g)", v.name, j, a, num, scale)
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d coordinates off", v.name, bad, len(coords))
		}
	}
	loss() // leave the state of the unperturbed point
	if checked == 0 || skipped*10 > checked+skipped {
		t.Errorf("checked %d coordinates, skipped %d on kinks", checked, skipped)
	}
}

// pattern appends the discrete state of a layer: ReLU masks and max-pool
// choices.
func pattern(dst []byte, l Layer) []byte {
	mask := func(dst []byte, y *tensor.Tensor) []byte {
		for _, v := range y.Data {
			if v > 0 {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
		}
		return dst
	}
	idx := func(dst []byte, idx []int32) []byte {
		for _, i := range idx {
			dst = fmt.Appendf(dst, "%d,", i)
		}
		return dst
	}
	switch l := l.(type) {
	case *Sequential:
		for _, s := range l.Layers {
			dst = pattern(dst, s)
		}
	case *Linear:
		if l.relu {
			dst = mask(dst, l.y)
		}
	case *Conv2D:
		if l.relu {
			dst = mask(dst, l.y)
		}
	case *BatchNorm:
		if l.relu {
			dst = mask(dst, l.y)
		}
	case *ReLU:
		dst = mask(dst, l.y)
	case *MaxPool2D:
		dst = idx(dst, l.idx)
	case *GlobalMaxPool:
		dst = idx(dst, l.idx)
	}
	return dst
}

// freezeDropout makes every Dropout in ls draw the same mask on each
// Forward from now on, and returns the function that rewinds them.
func freezeDropout(ls []Layer) func() {
	var ds []*Dropout
	var saved []rand.PCG
	var walk func([]Layer)
	walk = func(ls []Layer) {
		for _, l := range ls {
			switch l := l.(type) {
			case *Sequential:
				walk(l.Layers)
			case *Dropout:
				ds = append(ds, l)
				saved = append(saved, *l.src)
			}
		}
	}
	walk(ls)
	return func() {
		for i, d := range ds {
			*d.src = saved[i]
		}
	}
}

func randTensor(rng *rand.Rand, scale float64, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(rng.NormFloat64() * scale)
	}
	return t
}

func randParams(rng *rand.Rand, ps []*Param) {
	for _, p := range ps {
		for i := range p.Value.Data {
			p.Value.Data[i] += float32(rng.NormFloat64() * 0.3)
		}
	}
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// checkLayer gradient-checks a layer's input gradient and every parameter
// gradient in the given mode, with L = Σ r·Forward(x).
func checkLayer(t *testing.T, l Layer, x *tensor.Tensor, train bool, o checkOpts) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	rewind := freezeDropout([]Layer{l})
	y := l.Forward(x, train)
	r := randTensor(rng, 1, y.Shape...)
	dx := l.Backward(r)
	if dx == nil {
		t.Fatal("no input gradient")
	}
	tensor.MustShape("input gradient", dx, x.Shape...)
	vars := []checkVar{{name: "x", value: x.Data, grad: append([]float32(nil), dx.Data...)}}
	for _, p := range l.Params() {
		vars = append(vars, checkVar{name: p.Name, value: p.Value.Data, grad: append([]float32(nil), p.Grad.Data...)})
	}
	loss := func() float64 {
		rewind()
		return dot(l.Forward(x, train).Data, r.Data)
	}
	gradCheck(t, loss, func(d []byte) []byte { return pattern(d, l) }, vars, o)
}

func TestGradLayers(t *testing.T) {
	rng := NewRNG(1)
	type tc struct {
		name  string
		layer func() Layer
		shape []int
		train bool
	}
	cases := []tc{
		{"linear", func() Layer { return NewLinear(7, 5, rng) }, []int{4, 7}, true},
		{"linear-relu", func() Layer { return NewLinear(7, 5, rng).WithReLU() }, []int{4, 7}, true},
		{"linear-nobias", func() Layer { return NewLinear(6, 3, rng).WithoutBias() }, []int{3, 6}, true},
		{"linear-batch1", func() Layer { return NewLinear(5, 4, rng) }, []int{1, 5}, true},
		{"conv", func() Layer { return NewConv2D(3, 4, rng) }, []int{2, 5, 6, 3}, true},
		{"conv-relu", func() Layer { return NewConv2D(2, 5, rng).WithReLU() }, []int{2, 4, 3, 2}, true},
		{"conv-nobias-eval", func() Layer { return NewConv2D(1, 3, rng).WithoutBias() }, []int{3, 5, 5, 1}, false},
		{"conv-1x1-image", func() Layer { return NewConv2D(2, 2, rng) }, []int{2, 1, 1, 2}, true},
		{"relu", func() Layer { return NewReLU() }, []int{3, 4, 5}, true},
		{"maxpool-even", func() Layer { return NewMaxPool2D() }, []int{2, 4, 6, 3}, true},
		{"maxpool-odd", func() Layer { return NewMaxPool2D() }, []int{2, 5, 7, 2}, true},
		{"globalmaxpool", func() Layer { return NewGlobalMaxPool() }, []int{3, 3, 5, 4}, true},
		{"flatten", func() Layer { return NewFlatten() }, []int{2, 3, 4, 2}, true},
		{"bn-dense-train", func() Layer { return NewBatchNorm(5) }, []int{6, 5}, true},
		{"bn-dense-eval", func() Layer { return NewBatchNorm(5) }, []int{6, 5}, false},
		{"bn-nhwc-train", func() Layer { return NewBatchNorm(3) }, []int{2, 3, 4, 3}, true},
		{"bn-nhwc-relu-train", func() Layer { return NewBatchNorm(3).WithReLU() }, []int{2, 3, 3, 3}, true},
		{"bn-relu-eval", func() Layer { return NewBatchNorm(4).WithReLU() }, []int{3, 4}, false},
		{"dropout-train", func() Layer { return NewDropout(0.4, rng) }, []int{5, 8}, true},
		{"dropout-eval", func() Layer { return NewDropout(0.4, rng) }, []int{5, 8}, false},
		{"sequential", func() Layer {
			return NewSequential(NewConv2D(2, 3, rng).WithoutBias(), NewBatchNorm(3).WithReLU(), NewMaxPool2D(),
				NewConv2D(3, 4, rng).WithReLU(), NewGlobalMaxPool(), NewDropout(0.3, rng), NewLinear(4, 3, rng))
		}, []int{3, 5, 5, 2}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := c.layer()
			randParams(rng, l.Params())
			if bn, ok := l.(*BatchNorm); ok {
				for j := range bn.C { // away from the defaults, so eval mode is not the identity
					bn.RunningMean[j] = float32(rng.NormFloat64())
					bn.RunningVar[j] = float32(0.5 + rng.Float64())
				}
			}
			x := randTensor(rng, 1, c.shape...)
			checkLayer(t, l, x, c.train, defaultCheck)
		})
	}
}

// TestGradConvChunks checks the convolution when its work is split into
// several im2col chunks, with the columns kept and recomputed, and that the
// two give the same bits.
func TestGradConvChunks(t *testing.T) {
	defer func(r, k, wg int) { convChunkFloats, convKeepFloats, convAlgo = r, k, wg }(convChunkFloats, convKeepFloats, convAlgo)
	convChunkFloats = 2 * 4 * 5 * 9 * 3 // two images of 4×5×3 per chunk, for a batch of 5
	convAlgo = algoIm2col
	grads := map[string][]float32{}
	for _, keep := range []int{1 << 20, 0} {
		t.Run(fmt.Sprint("keep=", keep), func(t *testing.T) {
			convKeepFloats = keep
			rng := NewRNG(5)
			l := NewConv2D(3, 4, rng).WithReLU()
			randParams(rng, l.Params())
			x := randTensor(rng, 1, 5, 4, 5, 3)
			checkLayer(t, l, x, true, defaultCheck)
			if l.kept != (keep > 0) {
				t.Errorf("kept = %v with budget %d", l.kept, keep)
			}
			l.Forward(x, true)
			dx := l.Backward(randTensor(rand.New(rand.NewPCG(1, 1)), 1, 5, 4, 5, 4))
			grads[t.Name()] = append(append(append([]float32(nil), dx.Data...), l.Weight.Grad.Data...), l.Bias.Grad.Data...)
		})
	}
	var ref []float32
	for _, g := range grads {
		if ref != nil && !equalBits(ref, g) {
			t.Error("kept and recomputed columns give different gradients")
		}
		ref = g
	}
}

var algoNames = map[int]string{algoIm2col: "im2col", algoWinograd: "winograd", algoTaps: "taps"}

// TestGradConvAlgorithms checks the convolution's gradients with each
// algorithm forced, at sizes where the automatic choice would take the
// other one (odd sizes, a half-empty last Winograd tile, one channel).
func TestGradConvAlgorithms(t *testing.T) {
	defer func(wg int) { convAlgo = wg }(convAlgo)
	cases := []struct {
		name  string
		layer func(rng *rand.Rand) *Conv2D
		shape []int
		train bool
	}{
		{"relu", func(rng *rand.Rand) *Conv2D { return NewConv2D(3, 4, rng).WithReLU() }, []int{2, 5, 6, 3}, true},
		{"nobias", func(rng *rand.Rand) *Conv2D { return NewConv2D(2, 3, rng).WithoutBias() }, []int{3, 3, 3, 2}, true},
		{"one-channel-eval", func(rng *rand.Rand) *Conv2D { return NewConv2D(1, 3, rng) }, []int{2, 4, 5, 1}, false},
		{"1x2-image", func(rng *rand.Rand) *Conv2D { return NewConv2D(2, 2, rng).WithReLU() }, []int{3, 1, 2, 2}, true},
		{"vector-channels", func(rng *rand.Rand) *Conv2D { return NewConv2D(8, 16, rng) }, []int{2, 6, 7, 8}, true},
	}
	for _, algo := range []int{algoIm2col, algoWinograd, algoTaps} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%s", algoNames[algo], c.name), func(t *testing.T) {
				convAlgo = algo
				rng := NewRNG(8)
				l := c.layer(rng)
				randParams(rng, l.Params())
				x := randTensor(rng, 1, c.shape...)
				checkLayer(t, l, x, c.train, defaultCheck)
				if l.algo != algo {
					t.Errorf("algo = %d", l.algo)
				}
			})
		}
	}
}

func equalBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestGradLoss(t *testing.T) {
	for _, eps := range []float32{0, 0.1} {
		t.Run(fmt.Sprint("smoothing=", eps), func(t *testing.T) {
			rng := NewRNG(9)
			logits := randTensor(rng, 2, 6, 5)
			labels := []uint8{0, 4, 2, 2, 1, 3}
			l := &SoftmaxCrossEntropy{Smoothing: eps}
			_, _, g := l.Forward(logits, labels)
			vars := []checkVar{{name: "logits", value: logits.Data, grad: append([]float32(nil), g.Data...)}}
			loss := func() float64 { v, _ := l.Eval(logits, labels); return v }
			gradCheck(t, loss, func(d []byte) []byte { return d }, vars, checkOpts{h: 1e-2, rtol: 1e-3, atol: 1e-4, maxCoords: 100})
		})
	}
}

// checkModel gradient-checks every parameter of a model through the real
// loss, in training mode (batch statistics, a frozen dropout mask).
func checkModel(t *testing.T, m *Model, x *tensor.Tensor, labels []uint8, o checkOpts) {
	t.Helper()
	rng := NewRNG(11)
	randParams(rng, m.Params())
	rewind := freezeDropout(m.layers)
	lf := &SoftmaxCrossEntropy{Smoothing: 0.05}
	_, _, dl := lf.Forward(m.Forward(x, true), labels)
	m.Backward(dl)
	var vars []checkVar
	for _, p := range m.Params() {
		vars = append(vars, checkVar{name: p.Name, value: p.Value.Data, grad: append([]float32(nil), p.Grad.Data...)})
	}
	loss := func() float64 {
		rewind()
		v, _ := lf.Eval(m.Forward(x, true), labels)
		return v
	}
	pat := func(d []byte) []byte {
		for _, l := range m.layers {
			d = pattern(d, l)
		}
		return d
	}
	gradCheck(t, loss, pat, vars, o)
}

func TestGradModels(t *testing.T) {
	cases := []struct {
		name  string
		spec  Spec
		shape []int
	}{
		{"mlp", Spec{Kind: "mlp", In: 12, Hidden: []int{8, 6}, Classes: 4}, []int{5, 12}},
		{"mlp-bn-dropout", Spec{Kind: "mlp", In: 12, Hidden: []int{8, 6}, BatchNorm: true, Dropout: 0.25, Classes: 4}, []int{5, 3, 4, 1}},
		{"cnn-odd-pools", Spec{Kind: "cnn", Widths: []int{3, 4, 5}, PoolAfter: []int{0, 1}, Classes: 4}, []int{3, 9, 9, 1}},
		{"cnn-bn-odd-pools-dropout", Spec{Kind: "cnn", In: 2, Widths: []int{3, 4, 5}, PoolAfter: []int{0, 1}, BatchNorm: true, Dropout: 0.2, Classes: 4}, []int{3, 7, 9, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := MustBuild(c.spec, 3)
			rng := NewRNG(4)
			x := randTensor(rng, 1, c.shape...)
			labels := make([]uint8, c.shape[0])
			for i := range labels {
				labels[i] = uint8(rng.IntN(c.spec.Classes))
			}
			checkModel(t, m, x, labels, checkOpts{h: 1e-3, rtol: 1e-2, atol: 2e-3, maxCoords: 150})
		})
	}
}
