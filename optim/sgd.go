package optim

import (
	"github.com/fmnist/fmnist/internal/kernels"
	"github.com/fmnist/fmnist/nn"
)

// SGD is torch.optim.SGD without dampening:
//
//	g = grad + wd·p           (wd only when p.Decay)
//	buf = momentum·buf + g    (buf = g on the first step)
//	g = g + momentum·buf if nesterov, else g = buf
//	p = p - lr·g
//
// The buffer starts at zero rather than at g: momentum·0 + g is g exactly,
// so the first step is the same and no "first step" flag is needed.
type SGD struct {
	Momentum, WeightDecay float64
	Nesterov              bool
	s                     slotSet
}

// NewSGD returns an SGD optimiser. momentum 0 keeps no state.
func NewSGD(momentum, weightDecay float64, nesterov bool) *SGD {
	o := &SGD{Momentum: momentum, WeightDecay: weightDecay, Nesterov: nesterov}
	if momentum != 0 {
		o.s.kinds = []string{"momentum"}
	}
	return o
}

// Init implements Optimizer.
func (o *SGD) Init(params []*nn.Param) { o.s.init("SGD", params) }

// State implements Optimizer: one "momentum/<param>" slot per param, none
// without momentum.
func (o *SGD) State() []Slot { return o.s.state() }

// SetState implements Optimizer.
func (o *SGD) SetState(slots []Slot) error { return o.s.setState("SGD", slots) }

// Step implements Optimizer.
func (o *SGD) Step(params []*nn.Param, lr float64) {
	o.Init(params)
	lr32, mom := float32(lr), float32(o.Momentum)
	for i, p := range params {
		if p.Grad == nil {
			continue
		}
		w, g := p.Value.Data, p.Grad.Data
		if len(g) != len(w) {
			panic("optim: SGD: " + p.Name + ": grad and value sizes differ")
		}
		var wd float32
		if p.Decay {
			wd = float32(o.WeightDecay)
		}
		switch {
		case o.Momentum == 0:
			sgdPlain(w, g, lr32, wd)
		case o.Nesterov:
			sgdNesterov(w, g, o.s.bufs[i][0], lr32, wd, mom)
		default:
			sgdMomentum(w, g, o.s.bufs[i][0], lr32, wd, mom)
		}
	}
}

// The kernels skip the decay term when wd is 0 rather than adding 0·p,
// which saves a multiply and keeps an overflowed weight at ±Inf as torch's
// no-decay param group does. They round where torch rounds: fma32 where
// torch fuses, and float32(a*b) where it does not (the conversion stops Go
// from fusing on arm64).

func sgdPlain(w, g []float32, lr, wd float32) {
	g = g[:len(w)]
	if wd == 0 {
		for j, x := range w {
			w[j] = fma32(-lr, g[j], x)
		}
		return
	}
	for j, x := range w {
		w[j] = fma32(-lr, fma32(wd, x, g[j]), x)
	}
}

// sgdMomentum is kernels.SGDMomentum, the same arithmetic in AVX2 and in
// parallel: the training step of the benchmarks' models runs it.
func sgdMomentum(w, g, buf []float32, lr, wd, mom float32) {
	kernels.SGDMomentum(w, g, buf, lr, wd, mom)
}

func sgdNesterov(w, g, buf []float32, lr, wd, mom float32) {
	g, buf = g[:len(w)], buf[:len(w)]
	for j, x := range w {
		d := g[j]
		if wd != 0 {
			d = fma32(wd, x, d)
		}
		b := float32(mom*buf[j]) + d
		buf[j] = b
		w[j] = fma32(-lr, fma32(mom, b, d), x)
	}
}

// fma32 is a·b+c rounded once, as torch's CPU add(x, alpha=a) computes it
// (a vectorised fused multiply-add). The float32 product is exact in
// float64, so only the rare double rounding of the sum can differ from a
// true fused float32 operation.
func fma32(a, b, c float32) float32 { return float32(float64(a)*float64(b) + float64(c)) }
