package optim

import (
	"fmt"
	"math"

	"github.com/fmnist/fmnist/nn"
)

// Adam is torch.optim.Adam, or torch.optim.AdamW when Decoupled:
//
//	t = t + 1
//	Adam:  g = grad + wd·p            AdamW: p = p·(1 - lr·wd)
//	m = β1·m + (1-β1)·g
//	v = β2·v + (1-β2)·g²
//	p = p - lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps)
//
// wd applies only to params with Decay set. Like torch, each param keeps
// its own step count t (a param with a nil Grad does not advance).
type Adam struct {
	Beta1, Beta2, Eps, WeightDecay float64
	Decoupled                      bool
	s                              slotSet
}

// maxStep is the largest step count a float32 slot holds exactly; torch
// keeps the count in a float32 tensor too.
const maxStep = 1 << 24

// NewAdam returns Adam, or AdamW when decoupled is true. torch's defaults
// are 0.9, 0.999, 1e-8, with weightDecay 0 for Adam and 0.01 for AdamW.
func NewAdam(beta1, beta2, eps, weightDecay float64, decoupled bool) *Adam {
	return &Adam{Beta1: beta1, Beta2: beta2, Eps: eps, WeightDecay: weightDecay, Decoupled: decoupled,
		s: slotSet{kinds: []string{"exp_avg", "exp_avg_sq", "step"}, scalar: []bool{false, false, true}}}
}

// Init implements Optimizer.
func (o *Adam) Init(params []*nn.Param) { o.s.init("Adam", params) }

// State implements Optimizer: per param, in param order, the slots
// "exp_avg/<param>", "exp_avg_sq/<param>" and "step/<param>" (one value, the
// step count).
func (o *Adam) State() []Slot { return o.s.state() }

// SetState implements Optimizer. Step counts must be whole numbers in
// [0, 2^24].
func (o *Adam) SetState(slots []Slot) error {
	for _, sl := range slots {
		if len(sl.Name) > 5 && sl.Name[:5] == "step/" && len(sl.Data) == 1 {
			if t := sl.Data[0]; !(t >= 0 && t <= maxStep && t == float32(math.Trunc(float64(t)))) {
				return fmt.Errorf("%w: Adam: slot %q: step %v is not a count", ErrState, sl.Name, t)
			}
		}
	}
	return o.s.setState("Adam", slots)
}

// Step implements Optimizer.
func (o *Adam) Step(params []*nn.Param, lr float64) {
	o.Init(params)
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	c1, c2 := float32(1-o.Beta1), float32(1-o.Beta2)
	eps := float32(o.Eps)
	for i, p := range params {
		if p.Grad == nil {
			continue
		}
		w, g := p.Value.Data, p.Grad.Data
		if len(g) != len(w) {
			panic("optim: Adam: " + p.Name + ": grad and value sizes differ")
		}
		bufs := o.s.bufs[i]
		if bufs[2][0] >= maxStep {
			panic("optim: Adam: " + p.Name + ": step count past 2^24")
		}
		bufs[2][0]++
		t := float64(bufs[2][0])
		// torch does this scalar arithmetic in float64 and rounds once when
		// the kernel takes it as a float32 argument.
		stepSize := float32(lr / (1 - math.Pow(o.Beta1, t)))
		bc2 := float32(math.Sqrt(1 - math.Pow(o.Beta2, t)))
		var l2 float32
		if p.Decay && o.WeightDecay != 0 {
			if o.Decoupled {
				scale(w, float32(1-lr*o.WeightDecay))
			} else {
				l2 = float32(o.WeightDecay)
			}
		}
		adamKernel(w, g, bufs[0], bufs[1], b1, b2, c1, c2, eps, stepSize, bc2, l2)
	}
}

func scale(w []float32, s float32) {
	for j := range w {
		w[j] *= s
	}
}

// adamKernel does one Adam update with the operations, roundings and fused
// multiply-adds of torch's CPU kernels (add with alpha, addcmul, addcdiv),
// which makes it bit-identical to torch 1.13 on amd64 in our tests. l2 is
// Adam's (coupled) weight decay.
func adamKernel(w, g, m, v []float32, b1, b2, c1, c2, eps, stepSize, bc2, l2 float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for j, x := range w {
		d := g[j]
		if l2 != 0 {
			d = fma32(l2, x, d)
		}
		mj := fma32(c1, d, m[j]*b1)
		vj := fma32(c2*d, d, v[j]*b2)
		m[j], v[j] = mj, vj
		den := float32(math.Sqrt(float64(vj)))/bc2 + eps
		w[j] = x + (-stepSize*mj)/den
	}
}
