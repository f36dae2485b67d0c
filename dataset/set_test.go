package dataset

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestNewSet(t *testing.T) {
	for _, tc := range []struct {
		name   string
		images int
		labels []uint8
		want   error // nil: valid
	}{
		{"empty", 0, nil, nil},
		{"two", 2 * Pixels, []uint8{0, 9}, nil},
		{"count", 2 * Pixels, []uint8{0}, ErrCountMismatch},
		{"partial image", Pixels + 1, []uint8{0}, errAny},
		{"label 10", Pixels, []uint8{10}, ErrLabelRange},
	} {
		s, err := NewSet(make([]uint8, tc.images), tc.labels)
		switch {
		case tc.want == nil && (err != nil || s.Len() != len(tc.labels)):
			t.Errorf("%s: set %v, err %v", tc.name, s, err)
		case tc.want == errAny && err == nil, tc.want != nil && tc.want != errAny && !errors.Is(err, tc.want):
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// errAny marks a table row where any error will do.
var errAny = errors.New("any error")

func TestSetViews(t *testing.T) {
	s := synth(5, false)
	if got := fmt.Sprint(s.ImageShape(), s.LabelShape()); got != "[5 28 28] [5]" {
		t.Errorf("shapes %s", got)
	}
	if id(s.Image(3)) != 3 || len(s.Image(3)) != Pixels || cap(s.Image(3)) != Pixels {
		t.Errorf("Image(3): id %d len %d cap %d", id(s.Image(3)), len(s.Image(3)), cap(s.Image(3)))
	}
	sub := s.Subset(2)
	if sub.Len() != 2 || &sub.Images[0] != &s.Images[0] || len(sub.Images) != 2*Pixels {
		t.Errorf("Subset(2) does not share the first two items")
	}
	if s.Subset(99).Len() != 5 || s.Subset(-1).Len() != 0 {
		t.Errorf("Subset does not clamp")
	}
	if c := synth(25, false).ClassCounts(); c != [Classes]int{3, 3, 3, 3, 3, 2, 2, 2, 2, 2} {
		t.Errorf("ClassCounts %v", c)
	}
}

func TestStratify(t *testing.T) {
	for _, tc := range []struct {
		counts [Classes]int
		nVal   int
		want   [Classes]int
	}{
		{[Classes]int{6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000}, 10000, [Classes]int{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}},
		{[Classes]int{6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000}, 5, [Classes]int{1, 1, 1, 1, 1}},
		{[Classes]int{10, 20, 30, 40}, 10, [Classes]int{1, 2, 3, 4}},
		{[Classes]int{1, 1, 1}, 2, [Classes]int{1, 1, 0}},
		{[Classes]int{1, 0, 5}, 6, [Classes]int{1, 0, 5}},
		{[Classes]int{3, 3, 4}, 5, [Classes]int{2, 1, 2}}, // shares 1.5, 1.5, 2: the tie goes to class 0
		{[Classes]int{}, 0, [Classes]int{}},
	} {
		got := stratify(tc.counts, tc.nVal)
		sum := 0
		for c := range got {
			sum += got[c]
			if got[c] > tc.counts[c] {
				t.Errorf("stratify(%v, %d): class %d gets %d of %d", tc.counts, tc.nVal, c, got[c], tc.counts[c])
			}
		}
		if sum != tc.nVal {
			t.Errorf("stratify(%v, %d) = %v, sums to %d", tc.counts, tc.nVal, got, sum)
		}
		if got != tc.want {
			t.Errorf("stratify(%v, %d) = %v, want %v", tc.counts, tc.nVal, got, tc.want)
		}
	}
}

func TestSplit(t *testing.T) {
	s := synth(1000, true)
	counts := s.ClassCounts()
	train, val, err := Split(s, 200, 7)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 800 || val.Len() != 200 || len(train.Images) != 800*Pixels || len(val.Images) != 200*Pixels {
		t.Fatalf("sizes %d/%d", train.Len(), val.Len())
	}
	// Every item lands in exactly one part, in the original order, with
	// its own label.
	var seen []int
	for _, part := range []*Set{train, val} {
		prev := -1
		for i := range part.Len() {
			k := id(part.Image(i))
			if k <= prev || part.Labels[i] != s.Labels[k] || !slices.Equal(part.Image(i), s.Image(k)) {
				t.Fatalf("item %d (id %d) out of order or changed", i, k)
			}
			prev = k
			seen = append(seen, k)
		}
	}
	slices.Sort(seen)
	for i, k := range seen {
		if i != k {
			t.Fatalf("item %d missing or repeated", i)
		}
	}
	// Stratified: each class within one item of its share.
	vc := val.ClassCounts()
	for c := range Classes {
		share := float64(200*counts[c]) / 1000
		if math.Abs(float64(vc[c])-share) >= 1 {
			t.Errorf("class %d: %d in val, share %.1f", c, vc[c], share)
		}
	}
	// Copies, not views.
	k := id(val.Image(0))
	val.Images[Pixels-1]++
	if s.Images[k*Pixels+Pixels-1] == val.Images[Pixels-1] {
		t.Error("val shares storage with the input")
	}
}

func TestSplitSeeds(t *testing.T) {
	s := synth(500, false)
	ids := func(seed uint64) []int {
		_, val, err := Split(s, 100, seed)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]int, val.Len())
		for i := range out {
			out[i] = id(val.Image(i))
		}
		return out
	}
	a, b, c := ids(1), ids(1), ids(2)
	if !slices.Equal(a, b) {
		t.Error("the same seed gives different splits")
	}
	if slices.Equal(a, c) {
		t.Error("seeds 1 and 2 give the same split")
	}
	// Pinned: the split must not change with the machine or Go version.
	if got := fmt.Sprint(a[:8]); got != pinnedSplit {
		t.Errorf("seed 1 split starts %s, pinned %s", got, pinnedSplit)
	}
}

// pinnedSplit is the first validation ids of synth(500) split 400/100 with
// seed 1. Changing it changes every user's validation set.
const pinnedSplit = "[3 7 16 20 26 48 52 54]"

func TestSplitErrors(t *testing.T) {
	s := synth(10, false)
	for _, tc := range []struct {
		set  *Set
		nVal int
		want error
	}{
		{s, -1, errAny},
		{s, 11, errAny},
		{&Set{Images: make([]uint8, Pixels), Labels: []uint8{1, 2}}, 1, ErrCountMismatch},
		{&Set{Images: make([]uint8, Pixels), Labels: []uint8{11}}, 0, ErrLabelRange},
	} {
		_, _, err := Split(tc.set, tc.nVal, 1)
		if err == nil || (tc.want != errAny && !errors.Is(err, tc.want)) {
			t.Errorf("Split(n=%d, val=%d): err = %v, want %v", tc.set.Len(), tc.nVal, err, tc.want)
		}
	}
	for _, nVal := range []int{0, 10} {
		train, val, err := Split(s, nVal, 1)
		if err != nil || train.Len()+val.Len() != 10 || val.Len() != nVal {
			t.Errorf("Split(val=%d): %v", nVal, err)
		}
	}
}

func TestStats(t *testing.T) {
	for _, s := range []*Set{synth(7, false), {Images: []uint8{0, 255, 0, 255}}, {}} {
		var sum, ss float64
		for _, p := range s.Images {
			sum += float64(p) / 255
		}
		n := float64(len(s.Images))
		mean := sum / max(n, 1)
		for _, p := range s.Images {
			d := float64(p)/255 - mean
			ss += d * d
		}
		std := math.Sqrt(ss / max(n, 1))
		m, sd := Stats(s)
		if math.Abs(m-mean) > 1e-12 || math.Abs(sd-std) > 1e-12 {
			t.Errorf("Stats = %v, %v; naive %v, %v", m, sd, mean, std)
		}
	}
	if m, sd := Stats(&Set{Images: []uint8{0, 255, 0, 255}}); m != 0.5 || sd != 0.5 {
		t.Errorf("Stats(0,255,0,255) = %v, %v; want 0.5, 0.5", m, sd)
	}
}
