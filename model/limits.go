package model

import (
	"errors"
	"fmt"
	"slices"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/nn"
)

// Limits on a model spec, so that a typo is refused rather than crashing
// the run when the memory runs out.
const (
	MaxParams = 1 << 27 // weights, 512 MiB of float32
	maxWidth  = 1 << 16 // a layer's size
	maxLayers = 64
)

// CheckSpec checks s as Build would, and also that it is of a size that
// can run: each layer at most 65,536 wide, at most 64 layers and 2^27
// weights, and for a cnn an image that the pools do not shrink to nothing.
// It allocates nothing.
func CheckSpec(s nn.Spec) error {
	if err := CheckLimits(s); err != nil {
		if errors.Is(err, nn.ErrSpec) {
			return err
		}
		return fmt.Errorf("model: %s: %w", s.Kind, err)
	}
	return nil
}

// CheckLimits is CheckSpec with its errors unprefixed, for a caller that
// names the model itself.
func CheckLimits(s nn.Spec) error {
	s, err := s.Normalize()
	if err != nil {
		return err
	}
	if len(s.Hidden) > maxLayers || len(s.Widths) > maxLayers {
		return fmt.Errorf("more than %d layers", maxLayers)
	}
	k := 1
	if s.Kind == "cnn" {
		k = 9
	}
	n, c := 0, s.In
	for i, w := range append(slices.Clone(s.Hidden), s.Widths...) {
		if w > maxWidth || c > maxWidth {
			return fmt.Errorf("layer %d is %d wide, the limit is %d", i, max(w, c), maxWidth)
		}
		n += k*c*w + 4*w
		c = w
		if n > MaxParams {
			return fmt.Errorf("more than %d weights", MaxParams)
		}
	}
	if n += c*s.Classes + s.Classes; n > MaxParams {
		return fmt.Errorf("more than %d weights", MaxParams)
	}
	side := dataset.Rows
	for range s.PoolAfter {
		if side /= 2; side == 0 {
			return fmt.Errorf("%d pools shrink a %d×%d image to nothing", len(s.PoolAfter), dataset.Rows, dataset.Cols)
		}
	}
	return nil
}
