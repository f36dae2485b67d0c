package optim

import (
	"math"
	"testing"
)

func TestScheduleKeySteps(t *testing.T) {
	// cos(π/2) = 0, so a cosine midpoint is the mean of its ends.
	tests := []struct {
		name string
		s    Schedule
		at   []int
		want []float64
	}{
		{"constant", Constant{0.1}, []int{0, 50, 1e9}, []float64{0.1, 0.1, 0.1}},
		{"step", Step{Base: 1, Every: 10, Gamma: 0.5}, []int{0, 9, 10, 25, 30}, []float64{1, 1, 0.5, 0.25, 0.125}},
		{"step never", Step{Base: 1, Gamma: 0.5}, []int{0, 100}, []float64{1, 1}},
		// Warmup 10: 0.01 at step 0, 0.1 at step 9 (warmup end) and 10,
		// then a cosine over 90 steps: midpoint at step 55, 0 at 100.
		{"cosine warmup", Cosine{Base: 0.1, Total: 100, Warmup: 10}, []int{0, 4, 9, 10, 55, 99, 100, 150},
			[]float64{0.01, 0.05, 0.1, 0.1, 0.05, 0.1 * (1 + math.Cos(math.Pi*89/90)) / 2, 0, 0}},
		{"cosine min", Cosine{Base: 0.1, Total: 20, Min: 0.02}, []int{0, 10, 20}, []float64{0.1, 0.06, 0.02}},
		{"cosine degenerate", Cosine{Base: 0.1}, []int{0, 5}, []float64{0.1, 0.1}},
		// Total 100: peak at step 29 = 0.3·100-1; final step 99 is
		// 0.1/25/1e4; the descent's midpoint is step 64 = (29+99)/2.
		{"onecycle", OneCycle{Max: 0.1, Total: 100}, []int{-5, 0, 29, 64, 99, 1000},
			[]float64{0.004, 0.004, 0.1, (0.1 + 4e-7) / 2, 4e-7, 4e-7}},
		{"onecycle rise midpoint", OneCycle{Max: 1, Total: 202, PctStart: 0.5, DivFactor: 10, FinalDiv: 1}, []int{0, 50, 100},
			[]float64{0.1, 0.55, 1}},
		{"onecycle one step", OneCycle{Max: 0.1, Total: 1}, []int{0, 3}, []float64{0.004, 0.004}},
	}
	for _, tc := range tests {
		for i, step := range tc.at {
			if got := tc.s.LR(step); math.Abs(got-tc.want[i]) > 1e-12 {
				t.Errorf("%s: LR(%d) = %.15g, want %.15g", tc.name, step, got, tc.want[i])
			}
		}
	}
}

func TestTorchSchedules(t *testing.T) {
	for _, tc := range torchOneCycle {
		for step, want := range tc.want {
			if got := tc.s.LR(step); math.Abs(got-want) > 1e-12*math.Max(1, want) {
				t.Errorf("%#v: LR(%d) = %.17g, torch %.17g", tc.s, step, got, want)
			}
		}
	}
}

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		name          string
		lr            float64
		total, warmup int
		want          Schedule
		err           bool
	}{
		{"constant", 0.1, 100, 0, Constant{0.1}, false},
		{"step", 0.1, 90, 0, Step{Base: 0.1, Every: 30, Gamma: 0.1}, false},
		{"step", 0.1, 10, 0, Step{Base: 0.1, Every: 4, Gamma: 0.1}, false},
		{"cosine", 0.1, 100, 5, Cosine{Base: 0.1, Total: 100, Warmup: 5}, false},
		{"onecycle", 0.1, 100, 0, OneCycle{Max: 0.1, Total: 100}, false},
		{"onecycle", 0.1, 100, 20, OneCycle{Max: 0.1, Total: 100, PctStart: 0.2}, false},
		{"cosine", 0.1, 100, 100, Cosine{Base: 0.1, Total: 100, Warmup: 100}, false},
		{"linear", 0.1, 100, 0, nil, true},
		{"", 0.1, 100, 0, nil, true},
		{"constant", 0, 100, 0, nil, true},
		{"constant", -1, 100, 0, nil, true},
		{"constant", math.NaN(), 100, 0, nil, true},
		{"constant", math.Inf(1), 100, 0, nil, true},
		{"cosine", 0.1, 0, 0, nil, true},
		{"cosine", 0.1, 100, -1, nil, true},
		{"cosine", 0.1, 100, 101, nil, true},
	}
	for _, tc := range tests {
		got, err := ParseSchedule(tc.name, tc.lr, tc.total, tc.warmup)
		if (err != nil) != tc.err {
			t.Errorf("ParseSchedule(%q, %v, %d, %d) error %v, want error %v", tc.name, tc.lr, tc.total, tc.warmup, err, tc.err)
			continue
		}
		if err == nil && got != tc.want {
			t.Errorf("ParseSchedule(%q, %v, %d, %d) = %#v, want %#v", tc.name, tc.lr, tc.total, tc.warmup, got, tc.want)
		}
		if err != nil && err.Error()[:7] != "optim: " {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
}

// The step schedule decays twice over a run of 5 steps or more.
func TestParseStepDecaysTwice(t *testing.T) {
	for total := 1; total < 50; total++ {
		s, err := ParseSchedule("step", 1, total, 0)
		if err != nil {
			t.Fatal(err)
		}
		if last := s.LR(total - 1); total >= 5 && math.Abs(last-0.01) > 1e-15 {
			t.Errorf("total %d: last LR %v, want 0.01", total, last)
		}
	}
}
