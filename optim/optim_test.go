package optim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/tensor"
)

func param(name string, decay bool, values ...float32) *nn.Param {
	return &nn.Param{Name: name, Value: tensor.FromData(append([]float32(nil), values...), len(values)),
		Grad: tensor.New(len(values)), Decay: decay}
}

func TestHandComputed(t *testing.T) {
	// One weight p=1 with grad 0.5 at every step, lr 0.1; wants worked out
	// on paper from the formulas in the type docs.
	tests := []struct {
		name  string
		opt   Optimizer
		decay bool
		want  []float64 // p after steps 1, 2
	}{
		{"plain", NewSGD(0, 0, false), true, []float64{0.95, 0.9}},
		// buf 0.5 then 0.9·0.5+0.5 = 0.95.
		{"momentum", NewSGD(0.9, 0, false), true, []float64{0.95, 0.855}},
		// step 1: d = 0.5+0.9·0.5 = 0.95; step 2: buf 0.95, d = 0.5+0.855.
		{"nesterov", NewSGD(0.9, 0, true), true, []float64{0.905, 0.7695}},
		// g = 0.5+0.1·1 = 0.6, p = 0.94; g = 0.5+0.094, p = 0.94-0.0594.
		{"weight decay", NewSGD(0, 0.1, false), true, []float64{0.94, 0.8806}},
		{"weight decay, Decay false", NewSGD(0, 0.1, false), false, []float64{0.95, 0.9}},
		// Step 1 of Adam moves by lr·g/(|g|+eps): bias correction makes
		// m̂ = g and v̂ = g². Step 2 with the same g: the same again.
		{"adam", NewAdam(0.9, 0.999, 1e-8, 0, false), true, []float64{0.9, 0.8}},
		// L2 makes g 0.6, then 0.59: m = 0.113, v = 0.00070774, so
		// m̂ = 0.113/0.19, v̂ = 0.00070774/0.001999 and
		// p = 0.9 - 0.1·m̂/sqrt(v̂) = 0.80004734.
		{"adam l2", NewAdam(0.9, 0.999, 1e-8, 0.1, false), true, []float64{0.9, 0.80004734}},
		// AdamW shrinks p by 1-lr·wd = 0.99 first: 0.99-0.1, 0.89·0.99-0.1.
		{"adamw", NewAdam(0.9, 0.999, 1e-8, 0.1, true), true, []float64{0.89, 0.7811}},
		{"adamw, Decay false", NewAdam(0.9, 0.999, 1e-8, 0.1, true), false, []float64{0.9, 0.8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := param("w", tc.decay, 1)
			for k, want := range tc.want {
				p.Grad.Data[0] = 0.5
				tc.opt.Step([]*nn.Param{p}, 0.1)
				if got := float64(p.Value.Data[0]); math.Abs(got-want) > 2e-6 {
					t.Errorf("step %d: p = %.8g, want %.8g", k+1, got, want)
				}
			}
		})
	}
}

// ref64 is the torch update rule again, in float64, written from the torch
// 1.13 sources independently of the float32 kernels.
type ref64 struct {
	sgd                 bool
	mom, wd             float64
	nesterov, decoupled bool
	b1, b2, eps         float64
	buf, m, v           [][]float64
	steps               []int
	params              [][]float64
	decays              []bool
}

func (r *ref64) step(grads [][]float64, lr float64) {
	for i, p := range r.params {
		if grads[i] == nil {
			continue
		}
		wd := 0.0
		if r.decays[i] {
			wd = r.wd
		}
		if r.sgd {
			for j := range p {
				g := grads[i][j] + wd*p[j]
				if r.mom != 0 {
					r.buf[i][j] = r.mom*r.buf[i][j] + g
					if r.nesterov {
						g += r.mom * r.buf[i][j]
					} else {
						g = r.buf[i][j]
					}
				}
				p[j] -= lr * g
			}
			continue
		}
		r.steps[i]++
		t := float64(r.steps[i])
		for j := range p {
			g := grads[i][j]
			if r.decoupled {
				p[j] *= 1 - lr*wd
			} else {
				g += wd * p[j]
			}
			r.m[i][j] = r.b1*r.m[i][j] + (1-r.b1)*g
			r.v[i][j] = r.b2*r.v[i][j] + (1-r.b2)*g*g
			mhat := r.m[i][j] / (1 - math.Pow(r.b1, t))
			den := math.Sqrt(r.v[i][j])/math.Sqrt(1-math.Pow(r.b2, t)) + r.eps
			p[j] -= lr * mhat / den
		}
	}
}

func newRef(o Optimizer, params []*nn.Param) *ref64 {
	r := &ref64{}
	switch o := o.(type) {
	case *SGD:
		r.sgd, r.mom, r.wd, r.nesterov = true, o.Momentum, o.WeightDecay, o.Nesterov
	case *Adam:
		r.b1, r.b2, r.eps, r.wd, r.decoupled = o.Beta1, o.Beta2, o.Eps, o.WeightDecay, o.Decoupled
	}
	for _, p := range params {
		n := len(p.Value.Data)
		v := make([]float64, n)
		for j, x := range p.Value.Data {
			v[j] = float64(x)
		}
		r.params = append(r.params, v)
		r.decays = append(r.decays, p.Decay)
		r.buf = append(r.buf, make([]float64, n))
		r.m = append(r.m, make([]float64, n))
		r.v = append(r.v, make([]float64, n))
		r.steps = append(r.steps, 0)
	}
	return r
}

var configs = []struct {
	name string
	make func() Optimizer
}{
	{"sgd", func() Optimizer { return NewSGD(0, 0, false) }},
	{"sgd wd", func() Optimizer { return NewSGD(0, 1e-2, false) }},
	{"momentum", func() Optimizer { return NewSGD(0.9, 0, false) }},
	{"momentum wd", func() Optimizer { return NewSGD(0.9, 5e-4, false) }},
	{"nesterov", func() Optimizer { return NewSGD(0.9, 0, true) }},
	{"nesterov wd", func() Optimizer { return NewSGD(0.95, 1e-3, true) }},
	{"adam", func() Optimizer { return NewAdam(0.9, 0.999, 1e-8, 0, false) }},
	{"adam l2", func() Optimizer { return NewAdam(0.9, 0.999, 1e-8, 0.1, false) }},
	{"adamw", func() Optimizer { return NewAdam(0.9, 0.999, 1e-8, 0.05, true) }},
	{"adamw betas", func() Optimizer { return NewAdam(0.8, 0.99, 1e-6, 0.3, true) }},
}

// model is a weight with decay, a bias without, and a third param whose
// Grad is nil every other step, to check skipping.
func model(rng *rand.Rand) []*nn.Param {
	w := param("fc.weight", true, make([]float32, 37)...)
	b := param("fc.bias", false, make([]float32, 5)...)
	s := param("skip.weight", true, make([]float32, 3)...)
	for _, p := range []*nn.Param{w, b, s} {
		for j := range p.Value.Data {
			p.Value.Data[j] = float32(rng.NormFloat64())
		}
	}
	return []*nn.Param{w, b, s}
}

func fillGrads(rng *rand.Rand, params []*nn.Param, k int, grads []*tensor.Tensor) [][]float64 {
	g64 := make([][]float64, len(params))
	for i, p := range params {
		p.Grad = grads[i]
		if i == 2 && k%2 == 1 {
			p.Grad = nil
			continue
		}
		g64[i] = make([]float64, len(p.Grad.Data))
		for j := range p.Grad.Data {
			p.Grad.Data[j] = float32(rng.NormFloat64())
			g64[i][j] = float64(p.Grad.Data[j])
		}
	}
	return g64
}

func TestFloat64Reference(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			params := model(rng)
			grads := []*tensor.Tensor{params[0].Grad, params[1].Grad, params[2].Grad}
			opt := c.make()
			ref := newRef(opt, params)
			var worst float64
			for k := 0; k < 30; k++ {
				lr := 0.05 / (1 + 0.1*float64(k))
				g64 := fillGrads(rng, params, k, grads)
				opt.Step(params, lr)
				ref.step(g64, lr)
				for i, p := range params {
					for j, got := range p.Value.Data {
						want := ref.params[i][j]
						// float32 rounding accumulates over 30 steps.
						d := math.Abs(float64(got)-want) / math.Max(1, math.Abs(want))
						worst = max(worst, d)
						if d > 2e-5 {
							t.Fatalf("step %d %s[%d] = %.9g, want %.9g", k+1, p.Name, j, got, want)
						}
					}
				}
			}
			t.Logf("worst relative difference from float64 %.2g", worst)
			if a, ok := opt.(*Adam); ok {
				if s := a.State(); s[2].Data[0] != 30 || s[8].Data[0] != 15 {
					t.Errorf("step counts %v and %v, want 30 and 15 (nil grads skipped)", s[2].Data, s[8].Data)
				}
			}
		})
	}
}

type torchCase struct {
	name string
	make func() Optimizer
	base float64
	want []uint32 // float32 bits of w (6) then b (3) after 5 steps
	big  string   // SHA-256 of the float32 bytes after the bigger run
}

type torchSchedule struct {
	s    Schedule
	want []float64 // LR at steps 0, 1, ...
}

// TestTorch replays testdata/torch_ref.py. The kernels round and fuse as
// torch's CPU kernels do, so the results are bit-identical; the small case
// reports ulps when they are not, the bigger one (5120 values, 20 steps)
// compares a hash.
func TestTorch(t *testing.T) {
	lrAt := func(base float64, k int) float64 { return base / (1 + 0.5*float64(k)) }
	for _, tc := range torchCases {
		t.Run(tc.name, func(t *testing.T) {
			w := param("w", true, 0.5, -1.25, 2.0, 0.0, 3.5, -0.75)
			b := param("b", false, 0.1, -0.2, 0.3)
			opt := tc.make()
			for k := 0; k < 5; k++ {
				for i := range w.Grad.Data {
					w.Grad.Data[i] = float32((i*7+k*3)%11-5) / 4
				}
				for i := range b.Grad.Data {
					b.Grad.Data[i] = float32((i*7+k*3+4)%11-5) / 4
				}
				opt.Step([]*nn.Param{w, b}, lrAt(tc.base, k))
			}
			for i, g := range append(append([]float32(nil), w.Value.Data...), b.Value.Data...) {
				if want := math.Float32frombits(tc.want[i]); g != want {
					t.Errorf("value %d = %.9g, torch %.9g (%d ulps)", i, g, want, ulps(g, want))
				}
			}

			const n = 4096
			w = param("w", true, make([]float32, n)...)
			b = param("b", false, make([]float32, n/4)...)
			for i := range w.Value.Data {
				w.Value.Data[i] = float32((i*97)%2001-1000) / 512
			}
			for i := range b.Value.Data {
				b.Value.Data[i] = float32((i*31)%201-100) / 256
			}
			opt = tc.make()
			for k := int64(0); k < 20; k++ {
				for i := range w.Grad.Data {
					w.Grad.Data[i] = float32((int64(i)*2654435761+k*40503)%1024-512) / 256
				}
				for i := range b.Grad.Data {
					b.Grad.Data[i] = float32((int64(i)*40503+k*2654435761)%1024-512) / 256
				}
				opt.Step([]*nn.Param{w, b}, lrAt(tc.base, int(k)))
			}
			h := sha256.New()
			for _, p := range []*nn.Param{w, b} {
				for _, x := range p.Value.Data {
					h.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(x)))
				}
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != tc.big {
				t.Errorf("bigger run differs from torch: SHA-256 %s, want %s", got, tc.big)
			}
		})
	}
}

func ulps(a, b float32) int64 {
	key := func(x float32) int64 {
		u := int64(math.Float32bits(x))
		if u&(1<<31) != 0 {
			return -(u &^ (1 << 31))
		}
		return u
	}
	d := key(a) - key(b)
	if d < 0 {
		d = -d
	}
	return d
}

func TestZeroAllocs(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			params := model(rng)
			opt := c.make()
			opt.Step(params, 0.01) // allocates the state
			if n := testing.AllocsPerRun(20, func() { opt.Step(params, 0.01) }); n != 0 {
				t.Errorf("%v allocations per Step, want 0", n)
			}
		})
	}
}

func TestStateRoundTrip(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			a := model(rng)
			grads := []*tensor.Tensor{a[0].Grad, a[1].Grad, a[2].Grad}
			optA := c.make()
			for k := 0; k < 3; k++ {
				fillGrads(rng, a, k, grads)
				optA.Step(a, 0.02)
			}
			state := optA.State()
			// The copy must not follow later steps.
			before := fmt.Sprint(state)
			// Resume: a fresh model with A's weights, a fresh optimiser.
			b := make([]*nn.Param, len(a))
			for i, p := range a {
				b[i] = param(p.Name, p.Decay, p.Value.Data...)
			}
			optB := c.make()
			optB.Init(b)
			if err := optB.SetState(state); err != nil {
				t.Fatal(err)
			}
			for k := 3; k < 7; k++ {
				fillGrads(rng, a, k, grads)
				for i := range b {
					if a[i].Grad == nil {
						b[i].Grad = nil
					} else {
						b[i].Grad = tensor.FromData(append([]float32(nil), a[i].Grad.Data...), a[i].Grad.Len())
					}
				}
				optA.Step(a, 0.02)
				optB.Step(b, 0.02)
			}
			for i := range a {
				for j := range a[i].Value.Data {
					if x, y := a[i].Value.Data[j], b[i].Value.Data[j]; math.Float32bits(x) != math.Float32bits(y) {
						t.Fatalf("%s[%d]: %v after the uninterrupted run, %v after resume", a[i].Name, j, x, y)
					}
				}
			}
			if fmt.Sprint(state) != before {
				t.Error("State's result changed with later steps: it must be a copy")
			}
		})
	}
}

func TestStateNames(t *testing.T) {
	params := model(rand.New(rand.NewPCG(7, 8)))
	tests := []struct {
		opt  Optimizer
		want []string
	}{
		{NewSGD(0, 0.1, false), nil},
		{NewSGD(0.9, 0, false), []string{"momentum/fc.weight", "momentum/fc.bias", "momentum/skip.weight"}},
		{NewAdam(0.9, 0.999, 1e-8, 0, false), []string{
			"exp_avg/fc.weight", "exp_avg_sq/fc.weight", "step/fc.weight",
			"exp_avg/fc.bias", "exp_avg_sq/fc.bias", "step/fc.bias",
			"exp_avg/skip.weight", "exp_avg_sq/skip.weight", "step/skip.weight"}},
	}
	for _, tc := range tests {
		tc.opt.Init(params)
		var got []string
		for _, s := range tc.opt.State() {
			got = append(got, s.Name)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%T names %q, want %q", tc.opt, got, tc.want)
		}
	}
}

func TestSetStateErrors(t *testing.T) {
	params := model(rand.New(rand.NewPCG(9, 10)))
	good := func() []Slot {
		o := NewAdam(0.9, 0.999, 1e-8, 0, false)
		o.Init(params)
		return o.State()
	}
	tests := []struct {
		name   string
		noInit bool
		edit   func(s []Slot) []Slot
		err    error
	}{
		{"ok", false, func(s []Slot) []Slot { return s }, nil},
		{"before init", true, func(s []Slot) []Slot { return s }, ErrState},
		{"one missing", false, func(s []Slot) []Slot { return s[1:] }, ErrState},
		{"one extra", false, func(s []Slot) []Slot { return append(s, Slot{"x", nil}) }, ErrState},
		{"renamed", false, func(s []Slot) []Slot { s[3].Name = "exp_avg/other"; return s }, ErrState},
		{"swapped", false, func(s []Slot) []Slot { s[0], s[1] = s[1], s[0]; return s }, ErrState},
		{"short", false, func(s []Slot) []Slot { s[4].Data = s[4].Data[:4]; return s }, ErrState},
		{"negative step", false, func(s []Slot) []Slot { s[2].Data[0] = -1; return s }, ErrState},
		{"fractional step", false, func(s []Slot) []Slot { s[2].Data[0] = 1.5; return s }, ErrState},
		{"NaN step", false, func(s []Slot) []Slot { s[2].Data[0] = float32(math.NaN()); return s }, ErrState},
		{"huge step", false, func(s []Slot) []Slot { s[2].Data[0] = 1 << 25; return s }, ErrState},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := NewAdam(0.9, 0.999, 1e-8, 0, false)
			if !tc.noInit {
				o.Init(params)
			}
			slots := tc.edit(good())
			for _, s := range slots {
				for j := range s.Data {
					if s.Data[j] == 0 {
						s.Data[j] = 7 // so that a partial copy would show
					}
				}
			}
			err := o.SetState(slots)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil && !tc.noInit {
				for _, s := range o.State() {
					for _, x := range s.Data {
						if x != 0 {
							t.Fatalf("failed SetState changed %s", s.Name)
						}
					}
				}
			}
		})
	}
	// SGD without momentum has no state, and takes only none.
	o := NewSGD(0, 0, false)
	o.Init(params)
	if err := o.SetState(nil); err != nil {
		t.Error(err)
	}
	if err := o.SetState([]Slot{{"momentum/fc.weight", make([]float32, 37)}}); !errors.Is(err, ErrState) {
		t.Errorf("err = %v, want ErrState", err)
	}
}

func TestStepPanicsOnOtherParams(t *testing.T) {
	params := model(rand.New(rand.NewPCG(11, 12)))
	for _, c := range configs[2:] { // those with state
		o := c.make()
		o.Step(params, 0.1)
		for name, ps := range map[string][]*nn.Param{
			"fewer":  params[:2],
			"bigger": {params[0], param("fc.bias", false, 1, 2, 3, 4, 5, 6), params[2]},
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s: Step with %s params did not panic", c.name, name)
					}
				}()
				o.Step(ps, 0.1)
			}()
		}
	}
}

func BenchmarkStep(b *testing.B) {
	const n = 1 << 20
	for _, c := range []struct {
		name string
		opt  Optimizer
	}{
		{"sgd", NewSGD(0, 5e-4, false)},
		{"momentum", NewSGD(0.9, 5e-4, false)},
		{"nesterov", NewSGD(0.9, 5e-4, true)},
		{"adam", NewAdam(0.9, 0.999, 1e-8, 5e-4, false)},
		{"adamw", NewAdam(0.9, 0.999, 1e-8, 5e-4, true)},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := param("w", true, make([]float32, n)...)
			for j := range p.Grad.Data {
				p.Grad.Data[j] = float32(j%13) - 6
			}
			ps := []*nn.Param{p}
			c.opt.Step(ps, 1e-3)
			b.SetBytes(n * 4)
			b.ReportAllocs()
			for b.Loop() {
				c.opt.Step(ps, 1e-3)
			}
		})
	}
}
