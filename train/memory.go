package train

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
		return fmt.Errorf("train: %s: %w: needs about %s to %s at batch %d (weights %s, activations %s, scratch %s, data %s), the budget is %s (--mem-budget)",
			what, ErrMemory, Bytes(need), how, batch, Bytes(m.Params), Bytes(m.Activations), Bytes(m.Scratch), Bytes(extra), Bytes(b))
	}
	return nil
}

// dataBytes is what a run holds besides the models: the 70,000 images as
// bytes, and for the head the features of every image, twice (raw and a
// batch's copy), in float32.
func dataBytes(featureDim int) float64 {
	const images = 70000
	return images*784 + 2*4*images*float64(featureDim)
}

// CheckMemory checks each stage of c against the memory budget: training
// at its batch size, and evaluation at EvalBatch. Call it after Validate.
func (c RunConfig) CheckMemory() error {
	cnn, err := c.CNN.Spec.Normalize()
	if err != nil {
		return err
	}
	head := c.Head.Spec
	if w := cnn.Widths; len(w) > 0 {
		head.In = w[len(w)-1]
	}
	for _, s := range []struct {
		name  string
		spec  nn.Spec
		batch int
		dim   int
	}{{"mlp", c.MLP.Spec, c.MLP.Train.Batch, 0}, {"cnn", c.CNN.Spec, c.CNN.Train.Batch, 0}, {"head", head, c.Head.Train.Batch, head.In}} {
		if err := CheckMemory(s.name, s.spec, s.batch, true, dataBytes(s.dim)); err != nil {
			return err
		}
		if err := CheckMemory(s.name, s.spec, EvalBatch, false, dataBytes(s.dim)); err != nil {
			return err
		}
	}
	if c.Head.Augment != (Stage{}).Augment {
		// The head's augmented features go through the backbone each step.
		if err := CheckMemory("head's backbone", c.CNN.Spec, c.Head.Train.Batch, false, dataBytes(head.In)); err != nil {
			return err
		}
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
