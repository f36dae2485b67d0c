package optim

import (
	"errors"
	"fmt"

	"github.com/fmnist/fmnist/nn"
)

// Optimizer updates params in place from their gradients.
type Optimizer interface {
	// Init sizes the state for params. Step calls it on first use; call it
	// yourself before SetState when resuming.
	Init(params []*nn.Param)
	// Step applies one update with learning rate lr from the current
	// Grads. Params whose Grad is nil are skipped, as torch skips a None
	// grad. params must be the same slice layout on every call.
	Step(params []*nn.Param, lr float64)
	// State returns a copy of the state, in a fixed order, for checkpoints.
	State() []Slot
	// SetState restores what State returned. It is strict: the slots must
	// have the names and sizes that State would give now.
	SetState(slots []Slot) error
}

// Slot is one named piece of optimiser state, such as
// "momentum/backbone.0.weight".
type Slot struct {
	Name string
	Data []float32
}

// ErrState is wrapped by the errors of SetState.
var ErrState = errors.New("optim: state does not match")

// slotSet is the per-param state shared by the optimisers: kinds[k] names
// the k-th buffer of every param ("momentum", "exp_avg", ...), which has the
// param's size, or one value when scalar[k].
type slotSet struct {
	kinds  []string
	scalar []bool
	names  []string      // param names at Init
	bufs   [][][]float32 // bufs[param][kind]
}

// init allocates zeroed buffers the first time and checks the layout after.
func (s *slotSet) init(who string, params []*nn.Param) {
	if s.bufs != nil {
		s.check(who, params)
		return
	}
	s.names = make([]string, len(params))
	s.bufs = make([][][]float32, len(params))
	for i, p := range params {
		s.names[i] = p.Name
		s.bufs[i] = make([][]float32, len(s.kinds))
		for k := range s.kinds {
			n := len(p.Value.Data)
			if s.scalar != nil && s.scalar[k] {
				n = 1
			}
			s.bufs[i][k] = make([]float32, n)
		}
	}
}

// check panics when params do not have the layout the state was made for:
// that is a programming error, and silently updating with another param's
// momentum would be worse.
func (s *slotSet) check(who string, params []*nn.Param) {
	if len(params) != len(s.bufs) {
		panic(fmt.Sprintf("optim: %s: Step with %d params, state is for %d", who, len(params), len(s.bufs)))
	}
	for i, p := range params {
		if len(s.kinds) > 0 && len(p.Value.Data) != len(s.bufs[i][0]) {
			panic(fmt.Sprintf("optim: %s: param %d (%s) has %d values, state has %d",
				who, i, p.Name, len(p.Value.Data), len(s.bufs[i][0])))
		}
	}
}

func (s *slotSet) state() []Slot {
	out := make([]Slot, 0, len(s.bufs)*len(s.kinds))
	for i, b := range s.bufs {
		for k, kind := range s.kinds {
			out = append(out, Slot{Name: kind + "/" + s.names[i], Data: append([]float32(nil), b[k]...)})
		}
	}
	return out
}

// setState copies slots in after checking every name and size, so that a
// mismatch leaves the state unchanged.
func (s *slotSet) setState(who string, slots []Slot) error {
	if s.bufs == nil {
		return fmt.Errorf("%w: %s: SetState before Init or Step", ErrState, who)
	}
	if want := len(s.bufs) * len(s.kinds); len(slots) != want {
		return fmt.Errorf("%w: %s: %d slots, want %d", ErrState, who, len(slots), want)
	}
	for j, sl := range slots {
		i, k := j/len(s.kinds), j%len(s.kinds)
		if name := s.kinds[k] + "/" + s.names[i]; sl.Name != name {
			return fmt.Errorf("%w: %s: slot %d is %q, want %q", ErrState, who, j, sl.Name, name)
		}
		if len(sl.Data) != len(s.bufs[i][k]) {
			return fmt.Errorf("%w: %s: slot %q has %d values, want %d", ErrState, who, sl.Name, len(sl.Data), len(s.bufs[i][k]))
		}
	}
	for j, sl := range slots {
		copy(s.bufs[j/len(s.kinds)][j%len(s.kinds)], sl.Data)
	}
	return nil
}
