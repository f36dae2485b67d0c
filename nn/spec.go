package nn

import (
	"errors"
	"fmt"
	"slices"
)

// Spec describes a model. It is JSON-serialisable and goes into a model
// file's metadata, so that the file alone rebuilds its model.
type Spec struct {
	Kind string `json:"kind"` // "mlp" or "cnn"
	// In is, for an mlp, the number of input features (784 on pixels, the
	// backbone width on CNN features; default 784) and, for a cnn, the
	// number of input channels (default 1).
	In int `json:"in"`
	// Hidden are the mlp's hidden sizes; nil or empty means 512, 256.
	Hidden []int `json:"hidden,omitempty"`
	// Widths are the cnn's conv widths; nil or empty means 32, 64, 128,
	// 256, 256.
	Widths []int `json:"widths,omitempty"`
	// PoolAfter are the 0-based conv indices followed by a 2×2 max-pool.
	// When both PoolAfter and Widths are nil it means 1, 2, 3; otherwise
	// it is taken as given, so that a built model's Spec (which has every
	// default filled in) rebuilds the same model after a JSON round trip.
	PoolAfter []int `json:"pool_after,omitempty"`
	// BatchNorm puts a batch norm between each conv (or hidden linear)
	// and its ReLU; the conv or linear then has no bias.
	BatchNorm bool `json:"batch_norm"`
	// Dropout is the drop probability: mlp, after each hidden ReLU; cnn,
	// on the features, before the head.
	Dropout float64 `json:"dropout"`
	// InputDropout is the drop probability of the mlp's input pixels
	// (after Flatten, before the first Linear).
	InputDropout float64 `json:"input_dropout"`
	Classes      int     `json:"classes"` // default 10
}

// ErrSpec is wrapped by every error about an invalid Spec.
var ErrSpec = errors.New("nn: invalid model spec")

type specError struct{ msg string }

func (e *specError) Error() string        { return e.msg }
func (e *specError) Is(target error) bool { return target == ErrSpec }

func specErrorf(format string, args ...any) error {
	return &specError{fmt.Sprintf("nn: "+format, args...)}
}

// RefSpec returns the Spec of one of the reference models that
// /work/shared/bench/torch_ref.py defines and the benchmark times:
// "mlp-ref", "cnn-ref" or "cnn-ref-bn".
func RefSpec(name string) (Spec, error) {
	switch name {
	case "mlp-ref":
		return Spec{Kind: "mlp", In: 784, Hidden: []int{512, 256}, Classes: 10}, nil
	case "cnn-ref", "cnn-ref-bn":
		return Spec{Kind: "cnn", In: 1, Widths: []int{32, 64, 128, 256, 256}, PoolAfter: []int{1, 2, 3},
			BatchNorm: name == "cnn-ref-bn", Classes: 10}, nil
	}
	return Spec{}, specErrorf("unknown reference model %q (want mlp-ref, cnn-ref or cnn-ref-bn)", name)
}

// Normalize returns s with its defaults filled in and its slices copied,
// or an error saying what is wrong with it.
func (s Spec) Normalize() (Spec, error) {
	s.Hidden = slices.Clone(s.Hidden)
	s.Widths = slices.Clone(s.Widths)
	s.PoolAfter = slices.Clone(s.PoolAfter)
	if s.Classes == 0 {
		s.Classes = 10
	}
	if s.Classes < 2 || s.Classes > 256 {
		return s, specErrorf("%d classes: want 2 to 256 (labels are bytes)", s.Classes)
	}
	if !(s.Dropout >= 0 && s.Dropout < 1) {
		return s, specErrorf("dropout %v out of [0, 1)", s.Dropout)
	}
	if !(s.InputDropout >= 0 && s.InputDropout < 1) {
		return s, specErrorf("input_dropout %v out of [0, 1)", s.InputDropout)
	}
	if s.In < 0 {
		return s, specErrorf("%s input size %d", s.Kind, s.In)
	}
	switch s.Kind {
	case "mlp":
		if len(s.Widths) > 0 || len(s.PoolAfter) > 0 {
			return s, specErrorf("mlp: widths and pool_after are for a cnn")
		}
		if s.In == 0 {
			s.In = 784
		}
		if len(s.Hidden) == 0 {
			s.Hidden = []int{512, 256}
		}
		for i, h := range s.Hidden {
			if h <= 0 {
				return s, specErrorf("mlp: hidden size %d at index %d", h, i)
			}
		}
	case "cnn":
		if len(s.Hidden) > 0 || s.InputDropout > 0 {
			return s, specErrorf("cnn: hidden and input_dropout are for an mlp")
		}
		if s.In == 0 {
			s.In = 1
		}
		if len(s.Widths) == 0 {
			if s.PoolAfter == nil {
				s.PoolAfter = []int{1, 2, 3}
			}
			s.Widths = []int{32, 64, 128, 256, 256}
		}
		for i, w := range s.Widths {
			if w <= 0 {
				return s, specErrorf("cnn: width %d at index %d", w, i)
			}
		}
		slices.Sort(s.PoolAfter)
		for i, p := range s.PoolAfter {
			if p < 0 || p >= len(s.Widths) {
				return s, specErrorf("cnn: pool_after index %d out of range for %d convs", p, len(s.Widths))
			}
			if i > 0 && s.PoolAfter[i-1] == p {
				return s, specErrorf("cnn: pool_after index %d repeated", p)
			}
		}
		if len(s.PoolAfter) == 0 {
			s.PoolAfter = nil
		}
	default:
		return s, specErrorf("unknown model kind %q", s.Kind)
	}
	return s, nil
}
