package report

import (
	"cmp"
	"slices"
)

// Confusion counts predictions by true class (row) and predicted class
// (column). It is square.
type Confusion [][]int

// NewConfusion counts preds into a k×k matrix. Labels and predictions
// outside 0..k-1 are ignored (Load never returns them).
func NewConfusion(preds []Prediction, k int) Confusion {
	c := make(Confusion, k)
	cells := make([]int, k*k)
	for i := range c {
		c[i] = cells[i*k : (i+1)*k : (i+1)*k]
	}
	for _, p := range preds {
		if int(p.Label) < k && int(p.Pred) < k {
			c[p.Label][p.Pred]++
		}
	}
	return c
}

// Total is the number of counted predictions.
func (c Confusion) Total() int {
	n := 0
	for _, row := range c {
		for _, v := range row {
			n += v
		}
	}
	return n
}

// Accuracy is the share of the diagonal, 0 for an empty matrix.
func (c Confusion) Accuracy() float64 {
	n, d := c.Total(), 0
	for i := range c {
		d += c[i][i]
	}
	return ratio(d, n)
}

// ClassScore is one class's row of the per-class table.
type ClassScore struct {
	Precision float64 // of the images predicted as this class, the share that are
	Recall    float64 // of the images of this class, the share predicted so
	F1        float64 // harmonic mean of precision and recall
	Support   int     // images of this class
	Predicted int     // images predicted as this class
}

// ratio is a/b, and 0 when b is 0: a class never predicted has precision 0
// rather than NaN, as in scikit-learn's zero_division=0.
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// PerClass returns precision, recall and F1 for each class.
func (c Confusion) PerClass() []ClassScore {
	out := make([]ClassScore, len(c))
	for k := range c {
		s := &out[k]
		for j := range c {
			s.Support += c[k][j]
			s.Predicted += c[j][k]
		}
		s.Precision = ratio(c[k][k], s.Predicted)
		s.Recall = ratio(c[k][k], s.Support)
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
	}
	return out
}

// MacroAverage is the unweighted mean of the scores, with the supports and
// predictions summed.
func MacroAverage(scores []ClassScore) ClassScore {
	var m ClassScore
	if len(scores) == 0 {
		return m
	}
	for _, s := range scores {
		m.Precision += s.Precision
		m.Recall += s.Recall
		m.F1 += s.F1
		m.Support += s.Support
		m.Predicted += s.Predicted
	}
	n := float64(len(scores))
	m.Precision /= n
	m.Recall /= n
	m.F1 /= n
	return m
}

// Mistakes returns the wrong predictions, most confident first (ties by
// test index), at most n of them (all when n < 0).
func Mistakes(preds []Prediction, n int) []Prediction {
	var out []Prediction
	for _, p := range preds {
		if p.Pred != p.Label {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Prediction) int {
		if c := cmp.Compare(b.Prob, a.Prob); c != 0 {
			return c
		}
		return cmp.Compare(a.Index, b.Index)
	})
	if n >= 0 && len(out) > n {
		out = out[:n]
	}
	return out
}
