package nn

import (
	"fmt"

	"github.com/fmnist/fmnist/internal/kernels"
)

// EMA is an exponential moving average of a model's weights and batch-norm
// running statistics, kept in the model's own layout so that an update is
// one pass over memory and allocates nothing. Evaluating the average rather
// than the last weights smooths out the noise of the final steps of SGD.
// Counters (num_batches_tracked) are not averaged: the model's own value is
// kept.
type EMA struct {
	m   *Model
	avg [][]float32 // per state entry; nil for a counter
}

// NewEMA starts an average at m's current state.
func NewEMA(m *Model) *EMA {
	e := &EMA{m: m, avg: make([][]float32, len(m.state))}
	for i, s := range m.state {
		if s.data != nil {
			e.avg[i] = append([]float32(nil), s.data...)
		}
	}
	return e
}

// Update moves the average towards the model: avg = decay·avg + (1-decay)·w.
func (e *EMA) Update(decay float32) {
	for i, s := range e.m.state {
		if a := e.avg[i]; a != nil {
			kernels.Scale(a, decay)
			kernels.Axpy(a, s.data, 1-decay)
		}
	}
}

// Swap exchanges the model's state with the average; a second Swap undoes
// the first. It is how the average is evaluated or saved without a copy.
func (e *EMA) Swap() {
	for i, s := range e.m.state {
		a := e.avg[i]
		for j := range a {
			a[j], s.data[j] = s.data[j], a[j]
		}
	}
}

// StateDict returns a copy of the average with PyTorch's names and layouts,
// the model's counters included.
func (e *EMA) StateDict() []Named {
	e.Swap()
	defer e.Swap()
	return e.m.StateDict()
}

// LoadStateDict replaces the average by sd, checked as Model.LoadStateDict
// checks it; the model's own state is left as it was.
func (e *EMA) LoadStateDict(sd []Named) error {
	cur := e.m.StateDict()
	if err := e.m.LoadStateDict(sd); err != nil {
		return fmt.Errorf("nn: EMA: %w", err)
	}
	for i, s := range e.m.state {
		if e.avg[i] != nil {
			copy(e.avg[i], s.data)
		}
	}
	if err := e.m.LoadStateDict(cur); err != nil {
		panic(err) // its own state dict always loads
	}
	return nil
}
