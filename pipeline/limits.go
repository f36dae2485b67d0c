package pipeline

import (
	"fmt"
	"slices"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/nn"
)

// minTrainBatch is the smallest batch s can train on. Batch norm in
// training mode needs two values per channel to have a variance: for an
// MLP that is two images; for a CNN one image is enough unless a conv
// layer sees a 1×1 map.
func minTrainBatch(s nn.Spec) int {
	if !s.BatchNorm {
		return 1
	}
	if s.Kind != "cnn" {
		return 2
	}
	side := dataset.Rows
	for k := range s.Widths {
		if side*side < 2 {
			return 2
		}
		if slices.Contains(s.PoolAfter, k) {
			side /= 2
		}
	}
	return 1
}

// dropLast says whether a loader of n items in batches of batch drops its
// last batch: only when that batch is too small for s to train on (a batch
// of one through batch norm). The other images still train in later
// epochs, as the order is shuffled every epoch.
func dropLast(s nn.Spec, n, batch int) bool {
	r := n % batch
	return r != 0 && r < minTrainBatch(s)
}

// checkTrainSize refuses a training set that s cannot train on at all.
func checkTrainSize(name string, s nn.Spec, batch, n int) error {
	m := minTrainBatch(s)
	switch {
	case batch < m:
		return fmt.Errorf("pipeline: %s: batch %d: batch norm needs batches of at least %d", name, batch, m)
	case n < m:
		return fmt.Errorf("pipeline: %s: %d training images: batch norm needs at least %d", name, n, m)
	}
	return nil
}
