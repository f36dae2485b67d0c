package report_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/fmnist/fmnist/report"
)

// predsOf expands a confusion matrix into predictions, one per count.
func predsOf(c [][]int) []report.Prediction {
	var out []report.Prediction
	for i, row := range c {
		for j, n := range row {
			for range n {
				out = append(out, report.Prediction{Index: len(out), Label: uint8(i), Pred: uint8(j), Prob: 0.5})
			}
		}
	}
	return out
}

func TestPerClass(t *testing.T) {
	// Class 1 is never predicted: its precision is 0/0, reported as 0.
	m := [][]int{
		{5, 0, 1},
		{2, 0, 1},
		{1, 0, 3},
	}
	c := report.NewConfusion(predsOf(m), 3)
	if !slices.EqualFunc(c, m, slices.Equal) {
		t.Fatalf("NewConfusion = %v, want %v", c, m)
	}
	if got := c.Total(); got != 13 {
		t.Errorf("Total = %d, want 13", got)
	}
	if got, want := c.Accuracy(), 8.0/13; math.Abs(got-want) > 1e-15 {
		t.Errorf("Accuracy = %v, want %v", got, want)
	}
	want := []report.ClassScore{
		// P = 5/8, R = 5/6, F1 = 2PR/(P+R) = 5/7
		{Precision: 5.0 / 8, Recall: 5.0 / 6, F1: 5.0 / 7, Support: 6, Predicted: 8},
		{Precision: 0, Recall: 0, F1: 0, Support: 3, Predicted: 0},
		// P = 3/5, R = 3/4, F1 = 2/3
		{Precision: 3.0 / 5, Recall: 3.0 / 4, F1: 2.0 / 3, Support: 4, Predicted: 5},
	}
	got := c.PerClass()
	for k := range want {
		if !scoreEq(got[k], want[k]) {
			t.Errorf("class %d: %+v, want %+v", k, got[k], want[k])
		}
	}
	macro := report.MacroAverage(got)
	wantMacro := report.ClassScore{Precision: (5.0/8 + 3.0/5) / 3, Recall: (5.0/6 + 3.0/4) / 3, F1: (5.0/7 + 2.0/3) / 3,
		Support: 6 + 3 + 4, Predicted: 8 + 0 + 5}
	if !scoreEq(macro, wantMacro) {
		t.Errorf("macro %+v, want %+v", macro, wantMacro)
	}
}

func scoreEq(a, b report.ClassScore) bool {
	eq := func(x, y float64) bool { return !math.IsNaN(x) && math.Abs(x-y) <= 1e-12 }
	return eq(a.Precision, b.Precision) && eq(a.Recall, b.Recall) && eq(a.F1, b.F1) &&
		a.Support == b.Support && a.Predicted == b.Predicted
}

// Degenerate matrices give zeros, never NaN.
func TestPerClassEmpty(t *testing.T) {
	for _, tc := range []struct {
		name  string
		preds []report.Prediction
		k     int
	}{
		{"no predictions", nil, 10},
		{"zero classes", nil, 0},
		{"one class only", predsOf([][]int{{0, 0}, {0, 4}}), 2},
	} {
		c := report.NewConfusion(tc.preds, tc.k)
		if a := c.Accuracy(); math.IsNaN(a) {
			t.Errorf("%s: accuracy NaN", tc.name)
		}
		scores := c.PerClass()
		for _, s := range append(scores, report.MacroAverage(scores)) {
			if math.IsNaN(s.Precision) || math.IsNaN(s.Recall) || math.IsNaN(s.F1) {
				t.Errorf("%s: NaN in %+v", tc.name, s)
			}
		}
	}
}

func TestMistakes(t *testing.T) {
	preds := []report.Prediction{
		{Index: 0, Label: 1, Pred: 1, Prob: 0.99}, // right: never listed
		{Index: 1, Label: 1, Pred: 2, Prob: 0.60},
		{Index: 2, Label: 3, Pred: 4, Prob: 0.90},
		{Index: 3, Label: 5, Pred: 6, Prob: 0.60}, // tie with 1: lower index first
		{Index: 4, Label: 7, Pred: 8, Prob: 0.95},
	}
	idx := func(ps []report.Prediction) []int {
		var out []int
		for _, p := range ps {
			out = append(out, p.Index)
		}
		return out
	}
	for _, tc := range []struct {
		n    int
		want []int
	}{
		{-1, []int{4, 2, 1, 3}},
		{10, []int{4, 2, 1, 3}},
		{2, []int{4, 2}},
		{0, nil},
	} {
		if got := idx(report.Mistakes(preds, tc.n)); !slices.Equal(got, tc.want) {
			t.Errorf("Mistakes(n=%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func ExampleConfusion_PerClass() {
	preds := []report.Prediction{
		{Label: 0, Pred: 0}, {Label: 0, Pred: 0}, {Label: 0, Pred: 1},
		{Label: 1, Pred: 1}, {Label: 1, Pred: 0},
		{Label: 2, Pred: 0},
	}
	c := report.NewConfusion(preds, 3)
	fmt.Println(c)
	for k, s := range c.PerClass() {
		fmt.Printf("class %d: precision %.3f recall %.3f F1 %.3f support %d\n", k, s.Precision, s.Recall, s.F1, s.Support)
	}
	// Output:
	// [[2 1 0] [1 1 0] [1 0 0]]
	// class 0: precision 0.500 recall 0.667 F1 0.571 support 3
	// class 1: precision 0.500 recall 0.500 F1 0.500 support 2
	// class 2: precision 0.000 recall 0.000 F1 0.000 support 1
}
