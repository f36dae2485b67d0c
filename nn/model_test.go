package nn

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/internal/alloctest"
	"github.com/fmnist/fmnist/tensor"
)

func TestSpecNormalize(t *testing.T) {
	cases := []struct {
		name string
		in   Spec
		want Spec
		err  string
	}{
		{"mlp defaults", Spec{Kind: "mlp"}, Spec{Kind: "mlp", In: 784, Hidden: []int{512, 256}, Classes: 10}, ""},
		{"cnn defaults", Spec{Kind: "cnn"},
			Spec{Kind: "cnn", In: 1, Widths: []int{32, 64, 128, 256, 256}, PoolAfter: []int{1, 2, 3}, Classes: 10}, ""},
		{"cnn widths without pools", Spec{Kind: "cnn", Widths: []int{4, 8}},
			Spec{Kind: "cnn", In: 1, Widths: []int{4, 8}, Classes: 10}, ""},
		{"cnn default widths, no pools", Spec{Kind: "cnn", PoolAfter: []int{}},
			Spec{Kind: "cnn", In: 1, Widths: []int{32, 64, 128, 256, 256}, Classes: 10}, ""},
		{"pools sorted", Spec{Kind: "cnn", Widths: []int{4, 8, 8}, PoolAfter: []int{2, 0}, BatchNorm: true, Dropout: 0.5},
			Spec{Kind: "cnn", In: 1, Widths: []int{4, 8, 8}, PoolAfter: []int{0, 2}, BatchNorm: true, Dropout: 0.5, Classes: 10}, ""},
		{"unknown kind", Spec{Kind: "x"}, Spec{}, `nn: unknown model kind "x"`},
		{"empty kind", Spec{}, Spec{}, `nn: unknown model kind ""`},
		{"negative in", Spec{Kind: "mlp", In: -1}, Spec{}, "nn: mlp input size -1"},
		{"hidden zero", Spec{Kind: "mlp", Hidden: []int{5, 0}}, Spec{}, "nn: mlp: hidden size 0 at index 1"},
		{"mlp with widths", Spec{Kind: "mlp", Widths: []int{3}}, Spec{}, "nn: mlp: widths and pool_after are for a cnn"},
		{"cnn with hidden", Spec{Kind: "cnn", Hidden: []int{3}}, Spec{}, "nn: cnn: hidden and input_dropout are for an mlp"},
		{"width zero", Spec{Kind: "cnn", Widths: []int{4, -2}}, Spec{}, "nn: cnn: width -2 at index 1"},
		{"pool out of range", Spec{Kind: "cnn", Widths: []int{4, 4}, PoolAfter: []int{2}}, Spec{},
			"nn: cnn: pool_after index 2 out of range for 2 convs"},
		{"pool negative", Spec{Kind: "cnn", PoolAfter: []int{-1}}, Spec{}, "nn: cnn: pool_after index -1 out of range"},
		{"pool repeated", Spec{Kind: "cnn", PoolAfter: []int{1, 1}}, Spec{}, "nn: cnn: pool_after index 1 repeated"},
		{"dropout 1", Spec{Kind: "mlp", Dropout: 1}, Spec{}, "nn: dropout 1 out of [0, 1)"},
		{"dropout NaN", Spec{Kind: "mlp", Dropout: math.NaN()}, Spec{}, "nn: dropout NaN out of [0, 1)"},
		{"input dropout 1", Spec{Kind: "mlp", InputDropout: 1}, Spec{}, "nn: input_dropout 1 out of [0, 1)"},
		{"input dropout cnn", Spec{Kind: "cnn", InputDropout: 0.1}, Spec{}, "nn: cnn: hidden and input_dropout are for an mlp"},
		{"one class", Spec{Kind: "mlp", Classes: 1}, Spec{}, "nn: 1 classes: want 2 to 256"},
		{"too many classes", Spec{Kind: "mlp", Classes: 300}, Spec{}, "nn: 300 classes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.in.Normalize()
			if c.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), c.err) || !errors.Is(err, ErrSpec) {
					t.Fatalf("err = %v, want %q wrapping ErrSpec", err, c.err)
				}
				if _, berr := Build(c.in, 0); berr == nil || berr.Error() != err.Error() {
					t.Errorf("Build err = %v, Normalize err = %v", berr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			// A built model's Spec survives JSON and rebuilds the same model.
			b, _ := json.Marshal(got)
			var back Spec
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if again, err := back.Normalize(); err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("after JSON %s: %+v, %v", b, again, err)
			}
		})
	}
}

func TestRefSpecs(t *testing.T) {
	counts := map[string]int{
		"mlp-ref":    784*512 + 512 + 512*256 + 256 + 256*10 + 10,
		"cnn-ref":    9*1*32 + 32 + 9*32*64 + 64 + 9*64*128 + 128 + 9*128*256 + 256 + 9*256*256 + 256 + 256*10 + 10,
		"cnn-ref-bn": 9*1*32 + 2*32 + 9*32*64 + 2*64 + 9*64*128 + 2*128 + 9*128*256 + 2*256 + 9*256*256 + 2*256 + 256*10 + 10,
	}
	for name, want := range counts {
		s, err := RefSpec(name)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, p := range MustBuild(s, 0).Params() {
			n += p.Value.Len()
		}
		if n != want {
			t.Errorf("%s: %d parameters, want %d", name, n, want)
		}
	}
	if _, err := RefSpec("resnet"); !errors.Is(err, ErrSpec) {
		t.Errorf("RefSpec(resnet) = %v", err)
	}
}

// step runs forward, loss and backward, then plain SGD.
func step(m *Model, lf *SoftmaxCrossEntropy, x *tensor.Tensor, labels []uint8, lr float32) (float64, int) {
	loss, correct, dl := lf.Forward(m.Forward(x, true), labels)
	m.Backward(dl)
	for _, p := range m.Params() {
		for i, g := range p.Grad.Data {
			p.Value.Data[i] -= lr * g
		}
	}
	return loss, correct
}

func synthetic(seed uint64, classes int, shape ...int) (*tensor.Tensor, []uint8) {
	rng := NewRNG(seed)
	x := randTensor(rng, 1, shape...)
	labels := make([]uint8, shape[0])
	for i := range labels {
		labels[i] = uint8(rng.IntN(classes))
	}
	return x, labels
}

var smallSpecs = []struct {
	name  string
	spec  Spec
	shape []int
}{
	{"mlp-bn-dropout", Spec{Kind: "mlp", In: 64, Hidden: []int{32, 16}, BatchNorm: true, Dropout: 0.2, Classes: 10}, []int{32, 8, 8, 1}},
	{"mlp-input-dropout", Spec{Kind: "mlp", In: 64, Hidden: []int{32}, InputDropout: 0.1, Dropout: 0.2, Classes: 10}, []int{32, 8, 8, 1}},
	{"cnn", Spec{Kind: "cnn", Widths: []int{8, 16}, PoolAfter: []int{0}, Dropout: 0.1, Classes: 10}, []int{32, 8, 8, 1}},
	{"cnn-bn", Spec{Kind: "cnn", Widths: []int{8, 16}, PoolAfter: []int{0, 1}, BatchNorm: true, Classes: 10}, []int{32, 9, 9, 1}},
}

func stateBits(sd []Named) []uint32 {
	var b []uint32
	for _, n := range sd {
		for _, v := range n.Data {
			b = append(b, math.Float32bits(v))
		}
	}
	return b
}

// TestDeterminism: the same seed gives the same bits, at build and after
// training steps with dropout and batch norm; another seed does not.
func TestDeterminism(t *testing.T) {
	for _, c := range smallSpecs {
		t.Run(c.name, func(t *testing.T) {
			x, labels := synthetic(1, 10, c.shape...)
			run := func(seed uint64) ([]uint32, []uint32, []uint32) {
				m := MustBuild(c.spec, seed)
				init := stateBits(m.StateDict())
				lf := &SoftmaxCrossEntropy{Smoothing: 0.1}
				for range 3 {
					step(m, lf, x, labels, 0.05)
				}
				var logits []uint32
				for _, v := range m.Forward(x, false).Data {
					logits = append(logits, math.Float32bits(v))
				}
				return init, stateBits(m.StateDict()), logits
			}
			i1, s1, l1 := run(7)
			i2, s2, l2 := run(7)
			if !slices.Equal(i1, i2) || !slices.Equal(s1, s2) || !slices.Equal(l1, l2) {
				t.Error("same seed, different bits")
			}
			i3, _, _ := run(8)
			if slices.Equal(i1, i3) {
				t.Error("seeds 7 and 8 give the same weights")
			}
		})
	}
}

// TestOverfit: a tiny model learns random labels of a few dozen random
// images by heart.
func TestOverfit(t *testing.T) {
	for _, c := range smallSpecs {
		t.Run(c.name, func(t *testing.T) {
			m := MustBuild(c.spec, 1)
			x, labels := synthetic(2, 10, c.shape...)
			lf := &SoftmaxCrossEntropy{}
			for i := range 300 {
				step(m, lf, x, labels, 0.05)
				if i%10 == 9 {
					if _, correct := lf.Eval(m.Forward(x, false), labels); correct == len(labels) {
						return
					}
				}
			}
			loss, correct := lf.Eval(m.Forward(x, false), labels)
			t.Errorf("after 300 steps: %d of %d right, loss %.4f", correct, len(labels), loss)
		})
	}
}

// TestNoAllocs: a training step in steady state allocates nothing, on the
// serial path (testing.AllocsPerRun runs with GOMAXPROCS 1) and on the
// parallel one (allocsParallel). The last two specs are large enough for
// the kernels to split their work (see internal/kernels parMinWork).
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	specs := append(slices.Clone(smallSpecs), []struct {
		name  string
		spec  Spec
		shape []int
	}{
		{"mlp-wide", Spec{Kind: "mlp", In: 784, Hidden: []int{256}, BatchNorm: true, Classes: 10}, []int{128, 28, 28, 1}},
		{"cnn-28", Spec{Kind: "cnn", Widths: []int{8, 16}, PoolAfter: []int{0, 1}, BatchNorm: true, Classes: 10}, []int{16, 28, 28, 1}},
	}...)
	for _, c := range specs {
		t.Run(c.name, func(t *testing.T) {
			m := MustBuild(c.spec, 1)
			x, labels := synthetic(3, 10, c.shape...)
			lf := &SoftmaxCrossEntropy{}
			f := func() {
				_, _, dl := lf.Forward(m.Forward(x, true), labels)
				m.Backward(dl)
			}
			infer := func() { m.Forward(x, false) }
			f()
			infer()
			if n := testing.AllocsPerRun(5, f); n != 0 {
				t.Errorf("training step, serial: %v allocations", n)
			}
			if n := testing.AllocsPerRun(5, infer); n != 0 {
				t.Errorf("inference, serial: %v allocations", n)
			}
			if n, site := allocsParallel(20, f); n != 0 {
				t.Errorf("training step, parallel: %d allocations in 20 steps, one at %s", n, site)
			}
			if n, site := allocsParallel(20, infer); n != 0 {
				t.Errorf("inference, parallel: %d allocations in 20 passes, one at %s", n, site)
			}
		})
	}
}

// allocsParallel is testing.AllocsPerRun without its GOMAXPROCS 1, under
// which the kernels never split work over goroutines: at least 2, even on
// one CPU. The GC is off during the count, so that it cannot empty a
// sync.Pool under the loop. As in AllocsPerRun, the mean is rounded down:
// a rare allocation of the runtime's is forgiven, one per call is not.
func allocsParallel(runs int, f func()) (int64, string) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	return alloctest.Count(runs, f)
}

// TestStateDictRoundTrip: loading a trained model's state dict into a
// model built from another seed gives the same logits, bit for bit.
func TestStateDictRoundTrip(t *testing.T) {
	for _, c := range smallSpecs {
		t.Run(c.name, func(t *testing.T) {
			a := MustBuild(c.spec, 1)
			x, labels := synthetic(4, 10, c.shape...)
			lf := &SoftmaxCrossEntropy{}
			for range 2 {
				step(a, lf, x, labels, 0.05)
			}
			b := MustBuild(c.spec, 2)
			sd := a.StateDict()
			if err := b.LoadStateDict(sd); err != nil {
				t.Fatal(err)
			}
			la := slices.Clone(a.Forward(x, false).Data)
			if !equalBits(la, b.Forward(x, false).Data) {
				t.Error("logits differ after LoadStateDict")
			}
			if !slices.Equal(stateBits(sd), stateBits(b.StateDict())) {
				t.Error("state dicts differ after LoadStateDict")
			}
			sd[0].Data[0]++ // a copy, not a view
			if equalBits(sd[0].Data, b.StateDict()[0].Data) {
				t.Error("StateDict shares storage with the model")
			}
		})
	}
}

func TestLoadStateDictStrict(t *testing.T) {
	spec := Spec{Kind: "cnn", Widths: []int{2, 3}, BatchNorm: true, Classes: 4}
	m := MustBuild(spec, 1)
	good := m.StateDict()
	edit := func(f func(sd []Named) []Named) []Named {
		sd := MustBuild(spec, 2).StateDict()
		return f(sd)
	}
	cases := []struct {
		name string
		sd   []Named
		err  string
	}{
		{"missing", edit(func(sd []Named) []Named { return slices.Delete(sd, 1, 2) }),
			`nn: state dict: missing "backbone.1.weight"`},
		{"unexpected", edit(func(sd []Named) []Named {
			return append(sd, Named{Name: "backbone.9.weight", Shape: []int{1}, Data: []float32{0}})
		}), `nn: state dict: unexpected "backbone.9.weight"`},
		{"shape", edit(func(sd []Named) []Named { sd[0].Shape = []int{2, 1, 9}; return sd }),
			`nn: state dict: "backbone.0.weight": shape (2, 1, 9), want (2, 1, 3, 3)`},
		{"data length", edit(func(sd []Named) []Named { sd[len(sd)-1].Data = sd[len(sd)-1].Data[:3]; return sd }),
			`nn: state dict: "head.bias": 3 values for shape (4,)`},
		{"twice", edit(func(sd []Named) []Named { return append(sd, sd[0]) }),
			`nn: state dict: "backbone.0.weight": given twice`},
		{"bad count", edit(func(sd []Named) []Named { sd[5].Data = []float32{-1}; return sd }),
			`nn: state dict: "backbone.1.num_batches_tracked": -1 is not a count`},
		{"several", edit(func(sd []Named) []Named {
			sd[0].Name = "conv.weight"
			return sd[:len(sd)-1]
		}), `nn: state dict: missing "backbone.0.weight", "head.bias"; unexpected "conv.weight"`},
		{"empty", nil, `nn: state dict: missing "backbone.0.weight", "backbone.1.weight"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := m.LoadStateDict(c.sd)
			if err == nil || !strings.HasPrefix(err.Error(), c.err) || !errors.Is(err, ErrStateDict) {
				t.Fatalf("err = %v, want %q wrapping ErrStateDict", err, c.err)
			}
			if !slices.Equal(stateBits(good), stateBits(m.StateDict())) {
				t.Error("a failed load changed the model")
			}
		})
	}
}

// TestFeatures: the backbone output is what the head reads, in eval mode.
func TestFeatures(t *testing.T) {
	for _, c := range smallSpecs {
		t.Run(c.name, func(t *testing.T) {
			m := MustBuild(c.spec, 1)
			x, labels := synthetic(5, 10, c.shape...)
			step(m, &SoftmaxCrossEntropy{}, x, labels, 0.05)
			f := m.Features(x)
			head := m.layers[len(m.layers)-1].(*Linear)
			tensor.MustShape("features", f, c.shape[0], head.In)
			feat := slices.Clone(f.Data)
			want := slices.Clone(m.Forward(x, false).Data)
			got := head.Forward(tensor.FromData(feat, c.shape[0], head.In), false)
			if !equalBits(got.Data, want) {
				t.Error("head(Features(x)) != Forward(x, eval)")
			}
		})
	}
}

func TestParamsMetadata(t *testing.T) {
	m := MustBuild(Spec{Kind: "cnn", Widths: []int{2, 3}, BatchNorm: true, Classes: 4}, 0)
	var got []string
	for _, p := range m.Params() {
		got = append(got, fmt.Sprintf("%s %v %v", p.Name, p.Value.Shape, p.Decay))
	}
	want := []string{
		"backbone.0.weight [9 2] true", "backbone.1.weight [2] false", "backbone.1.bias [2] false",
		"backbone.3.weight [18 3] true", "backbone.4.weight [3] false", "backbone.4.bias [3] false",
		"head.weight [3 4] true", "head.bias [4] false",
	}
	if !slices.Equal(got, want) {
		t.Errorf("params:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDeterminismProcs: one thread or two, a training step gives the same
// bits (the shapes are large enough for the kernels to split their work).
func TestDeterminismProcs(t *testing.T) {
	spec := Spec{Kind: "cnn", Widths: []int{16, 32}, PoolAfter: []int{0}, BatchNorm: true, Dropout: 0.2, Classes: 10}
	x, labels := synthetic(6, 10, 8, 28, 28, 1)
	run := func(procs int) []uint32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		m := MustBuild(spec, 3)
		lf := &SoftmaxCrossEntropy{}
		for range 2 {
			step(m, lf, x, labels, 0.05)
		}
		return stateBits(m.StateDict())
	}
	if !slices.Equal(run(1), run(2)) {
		t.Error("GOMAXPROCS 1 and 2 give different bits")
	}
}

// TestInputDropoutNames: the input dropout is module 1 of the PyTorch
// Sequential, so the Linear layers are numbered from 2.
func TestInputDropoutNames(t *testing.T) {
	m, err := Build(Spec{Kind: "mlp", In: 16, Hidden: []int{8}, InputDropout: 0.2, Dropout: 0.1, Classes: 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range m.StateDict() {
		names = append(names, n.Name)
	}
	want := []string{"2.weight", "2.bias", "5.weight", "5.bias"}
	if !slices.Equal(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
}
