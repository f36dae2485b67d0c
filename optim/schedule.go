package optim

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate of each step, counted from 0. It is a
// pure function, so a resumed run needs only the step number.
type Schedule interface {
	LR(step int) float64
}

// Constant is a fixed learning rate.
type Constant struct{ Base float64 }

// LR implements Schedule.
func (c Constant) LR(int) float64 { return c.Base }

// Step multiplies the rate by Gamma every Every steps, like torch's StepLR:
// Base·Gamma^⌊step/Every⌋. Every ≤ 0 means never.
type Step struct {
	Base  float64
	Every int
	Gamma float64
}

// LR implements Schedule.
func (s Step) LR(step int) float64 {
	if s.Every <= 0 || step < 0 {
		return s.Base
	}
	return s.Base * math.Pow(s.Gamma, float64(step/s.Every))
}

// Cosine warms up linearly over the first Warmup steps, reaching Base at
// step Warmup-1 (step 0 gets Base/Warmup, so no step is wasted at zero),
// then anneals from Base at step Warmup to Min at step Total, like torch's
// CosineAnnealingLR with T_max = Total-Warmup. Past Total it stays at Min.
type Cosine struct {
	Base          float64
	Total, Warmup int
	Min           float64
}

// LR implements Schedule.
func (c Cosine) LR(step int) float64 {
	step = max(step, 0)
	if step < c.Warmup {
		return c.Base * float64(step+1) / float64(c.Warmup)
	}
	span := c.Total - c.Warmup
	if span <= 0 {
		return c.Base
	}
	pct := min(float64(step-c.Warmup)/float64(span), 1)
	return c.Min + (c.Base-c.Min)*(1+math.Cos(math.Pi*pct))/2
}

// OneCycle is torch.optim.lr_scheduler.OneCycleLR with its defaults
// (anneal_strategy "cos", three_phase false): a cosine rise from Max/DivFactor
// to Max over the first PctStart of Total steps, then a cosine fall to
// Max/DivFactor/FinalDiv at step Total-1. Zero fields take torch's defaults
// 0.3, 25 and 1e4. Steps outside [0, Total-1] are clamped. torch also cycles
// the momentum inversely; a Schedule gives only the rate.
type OneCycle struct {
	Max                           float64
	Total                         int
	PctStart, DivFactor, FinalDiv float64
}

// LR implements Schedule.
func (o OneCycle) LR(step int) float64 {
	pctStart, div, final := o.PctStart, o.DivFactor, o.FinalDiv
	if pctStart == 0 {
		pctStart = 0.3
	}
	if div == 0 {
		div = 25
	}
	if final == 0 {
		final = 1e4
	}
	initial := o.Max / div
	minLR := initial / final
	last := float64(o.Total - 1)
	s := math.Max(0, math.Min(float64(step), last))
	// torch's phase boundary is a float: pct_start·total - 1.
	peak := pctStart*float64(o.Total) - 1
	anneal := func(from, to, pct float64) float64 { return to + (from-to)/2*(math.Cos(math.Pi*pct)+1) }
	switch {
	case last <= 0:
		return initial
	case s <= peak:
		if peak <= 0 {
			return o.Max
		}
		return anneal(initial, o.Max, s/peak)
	case last <= peak:
		return o.Max
	default:
		return anneal(o.Max, minLR, (s-peak)/(last-peak))
	}
}

// ParseSchedule builds a schedule by name for a run of total steps with a
// base (or, for onecycle, peak) rate lr:
//
//	constant  lr throughout
//	step      ×0.1 every ⌈total/3⌉ steps (twice, for 5 steps or more)
//	cosine    warmup steps of linear warmup, then cosine to 0
//	onecycle  torch's OneCycleLR; warmup, when > 0, sets the rising part
func ParseSchedule(name string, lr float64, total, warmup int) (Schedule, error) {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("optim: learning rate %v, want > 0", lr)
	}
	if total <= 0 {
		return nil, fmt.Errorf("optim: %d total steps, want > 0", total)
	}
	if warmup < 0 || warmup > total {
		return nil, fmt.Errorf("optim: %d warmup steps, want 0 to %d (the total)", warmup, total)
	}
	switch name {
	case "constant":
		return Constant{lr}, nil
	case "step":
		return Step{Base: lr, Every: (total + 2) / 3, Gamma: 0.1}, nil
	case "cosine":
		return Cosine{Base: lr, Total: total, Warmup: warmup}, nil
	case "onecycle":
		oc := OneCycle{Max: lr, Total: total}
		if warmup > 0 {
			oc.PctStart = float64(warmup) / float64(total)
		}
		return oc, nil
	}
	return nil, fmt.Errorf("optim: unknown schedule %q (want constant, step, cosine or onecycle)", name)
}
