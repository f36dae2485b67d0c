package model

import (
	"errors"
	"fmt"

	"github.com/fmnist/fmnist/internal/sysmem"
	"github.com/fmnist/fmnist/nn"
)

// MemoryBudget is the most memory, in bytes, that a run's models or a
// loaded model may need by nn.Spec.MemoryBytes; 0 means
// DefaultMemoryBudget. The command line sets it from --mem-budget.
var MemoryBudget float64

// ErrMemory marks a model refused for the memory it would need.
var ErrMemory = errors.New("over the memory budget")

// EvalBatch is the batch of evaluation and prediction.
const EvalBatch = 500

// DefaultMemoryBudget is 60% of the memory this process can count on
// (physical memory, lowered by a cgroup limit or ulimit -v), or 4 GiB when
// the system does not say: the rest is for the data, the Go runtime and
// the other programs of the machine.
func DefaultMemoryBudget() float64 {
	if l := sysmem.Limit(); l > 0 {
		return 0.6 * float64(l)
	}
	return 4 << 30
}

func budget() float64 {
	if MemoryBudget > 0 {
		return MemoryBudget
	}
	return DefaultMemoryBudget()
}

// CheckMemory refuses a model of spec s that would need more than the
// budget to train (train set) or run on batches of batch items, plus extra
// bytes (data the caller holds besides). what names the model in the error.
func CheckMemory(what string, s nn.Spec, batch int, train bool, extra float64) error {
	m, err := s.MemoryBytes(batch, train)
	if err != nil {
		return err
	}
	if need, b := m.Total()+extra, budget(); need > b {
		how := "run"
		if train {
			how = "train"
		}
		return fmt.Errorf("model: %s: %w: needs about %s to %s at batch %d (weights %s, activations %s, scratch %s, data %s), the budget is %s (--mem-budget)",
			what, ErrMemory, Bytes(need), how, batch, Bytes(m.Params), Bytes(m.Activations), Bytes(m.Scratch), Bytes(extra), Bytes(b))
	}
	return nil
}

// Bytes formats a byte count for people: 1.5 GiB.
func Bytes(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", n)
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}
