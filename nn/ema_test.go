package nn

import (
	"math"
	"testing"
)

// The average follows avg = d·avg + (1-d)·w entry by entry, in PyTorch's
// layout as well as the model's; counters are the model's own; Swap twice is
// the identity; a state dict of the average loads back to the same average.
func TestEMA(t *testing.T) {
	m := MustBuild(Spec{Kind: "cnn", Widths: []int{3, 4}, PoolAfter: []int{0}, BatchNorm: true, Classes: 10}, 1)
	w0 := m.StateDict()
	e := NewEMA(m)
	// Move every float of the model by +1, then average with decay 0.75.
	sd := m.StateDict()
	for i := range sd {
		if isCounter(sd[i].Name) {
			sd[i].Data[0] = 7
			continue
		}
		for j := range sd[i].Data {
			sd[i].Data[j] += 1
		}
	}
	if err := m.LoadStateDict(sd); err != nil {
		t.Fatal(err)
	}
	e.Update(0.75)
	got := e.StateDict()
	for i := range got {
		for j, v := range got[i].Data {
			want := w0[i].Data[j] + 0.25
			if isCounter(got[i].Name) {
				want = 7
			}
			if math.Abs(float64(v-want)) > 1e-6 {
				t.Fatalf("%s[%d] = %v, want %v", got[i].Name, j, v, want)
			}
		}
	}
	// The model itself is untouched by Update and by StateDict.
	after := m.StateDict()
	for i := range after {
		for j := range after[i].Data {
			if after[i].Data[j] != sd[i].Data[j] {
				t.Fatalf("model %s[%d] changed to %v", after[i].Name, j, after[i].Data[j])
			}
		}
	}
	e.Swap()
	swapped := m.StateDict()
	e.Swap()
	twice := m.StateDict()
	for i := range swapped {
		for j := range swapped[i].Data {
			if !isCounter(got[i].Name) && swapped[i].Data[j] != got[i].Data[j] {
				t.Fatalf("swapped-in %s[%d] = %v, want the average %v", got[i].Name, j, swapped[i].Data[j], got[i].Data[j])
			}
			if twice[i].Data[j] != sd[i].Data[j] {
				t.Fatalf("after two swaps %s[%d] = %v, want %v", got[i].Name, j, twice[i].Data[j], sd[i].Data[j])
			}
		}
	}
	e2 := NewEMA(m)
	if err := e2.LoadStateDict(got); err != nil {
		t.Fatal(err)
	}
	back := e2.StateDict()
	for i := range back {
		for j := range back[i].Data {
			if back[i].Data[j] != got[i].Data[j] {
				t.Fatalf("loaded average %s[%d] = %v, want %v", got[i].Name, j, back[i].Data[j], got[i].Data[j])
			}
		}
	}
	if err := e2.LoadStateDict(got[1:]); err == nil {
		t.Error("a state dict missing a tensor loaded into the average")
	}
}

func isCounter(name string) bool {
	return len(name) > 19 && name[len(name)-19:] == "num_batches_tracked"
}
