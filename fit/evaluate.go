package fit

import (
	"math"

	"github.com/fmnist/fmnist/internal/kernels"
	"github.com/fmnist/fmnist/nn"
)

// Score is the outcome of Evaluate.
type Score struct {
	Loss float64
	Acc  float64
	N    int
}

// Evaluate runs m over one pass of src (epoch 0, which a
// non-shuffling source serves in order) and returns the mean loss and
// accuracy. When pred is non-nil it is called for each item with its label,
// predicted class and the softmax probability of that class.
func Evaluate(m nn.Predictor, src Batches, pred func(i int, label, class uint8, prob float32)) Score {
	src.Epoch(0)
	var lossSum float64
	var hits, seen int
	for {
		x, y, ok := src.Next()
		if !ok {
			break
		}
		logits := m.Predict(x)
		n, classes := logits.Shape[0], logits.Shape[1]
		loss, correct := kernels.SoftmaxCrossEntropy(nil, logits.Data, y, n, classes, 0)
		lossSum += loss * float64(n)
		hits += correct
		if pred != nil {
			for i := 0; i < n; i++ {
				c, p := argmaxProb(logits.Data[i*classes : (i+1)*classes])
				pred(seen+i, y[i], uint8(c), p)
			}
		}
		seen += n
	}
	if seen == 0 {
		return Score{}
	}
	return Score{Loss: lossSum / float64(seen), Acc: float64(hits) / float64(seen), N: seen}
}

// argmaxProb returns the first maximal index of a row of logits and its
// softmax probability.
func argmaxProb(row []float32) (int, float32) {
	arg := 0
	for j, v := range row {
		if v > row[arg] {
			arg = j
		}
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v - row[arg]))
	}
	return arg, float32(1 / s)
}

// Reached is when a model's validation accuracy first reached Mark: after
// Epoch epochs (0 if never) and Seconds of its Fit, validation included.
type Reached struct {
	Mark    float64 `json:"mark"`
	Epoch   int     `json:"epoch"`
	Seconds float64 `json:"seconds"`
}

// TimeToAccuracy reads, from the epoch records of a run, when model first
// reached each mark of validation accuracy: the time to accuracy by which
// a recipe is judged, rather than images per second.
func TimeToAccuracy(recs []Record, model string, marks []float64) []Reached {
	out := make([]Reached, len(marks))
	for i, m := range marks {
		out[i].Mark = m
	}
	var secs float64
	for _, r := range recs {
		if r.Model != model {
			continue
		}
		secs += r.Seconds
		for i := range out {
			if out[i].Epoch == 0 && r.ValAcc >= out[i].Mark {
				out[i].Epoch, out[i].Seconds = r.Epoch, secs
			}
		}
	}
	return out
}
