package report

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

func timedRuns() []TimedRun {
	return []TimedRun{
		{Name: "fmnist cnn, seed 1", Seconds: []float64{47, 95, 142, 189}, ValAcc: []float64{0.8712, 0.8935, 0.9018, 0.9157}},
		{Name: "pytorch 1.13 cnn, seed 1", Seconds: []float64{148, 255, 369}, ValAcc: []float64{0.7702, 0.8939, 0.9144}},
	}
}

// The plot is a PNG of the figure's size or an SVG that names every run
// and the marks, the same bytes each time.
func TestTimeToAccuracy(t *testing.T) {
	runs := timedRuns()
	b, err := TimeToAccuracy(runs, []float64{0.89, 0.88, 0.90}, "png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() != 8*dpi || r.Dy() != 9*dpi/2 {
		t.Errorf("png is %v, want %dx%d", r, 8*dpi, 9*dpi/2)
	}
	again, _ := TimeToAccuracy(runs, []float64{0.89, 0.88, 0.90}, "png")
	if !bytes.Equal(b, again) {
		t.Error("the same runs gave other bytes")
	}
	svg, err := TimeToAccuracy(runs, []float64{0.88, 0.89, 0.90}, "svg")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", runs[0].Name, runs[1].Name, "marks: 88, 89, 90%", "wall time from the start of training (s)"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("svg lacks %q", want)
		}
	}
	// Over ten minutes, the time axis is in minutes.
	long := []TimedRun{{Name: "long", Seconds: []float64{300, 700}, ValAcc: []float64{0.9, 0.95}}}
	if svg, err = TimeToAccuracy(long, nil, "svg"); err != nil || !strings.Contains(string(svg), "training (min)") {
		t.Errorf("err %v, or no minutes on the time axis", err)
	}
}

func TestTimeToAccuracyErrors(t *testing.T) {
	ok := timedRuns()
	six := make([]TimedRun, 7)
	for i := range six {
		six[i] = ok[0]
	}
	for _, c := range []struct {
		runs   []TimedRun
		marks  []float64
		format string
		want   string
	}{
		{ok, nil, "jpg", `format "jpg"`},
		{nil, nil, "png", "no runs"},
		{six, nil, "png", "7 runs, at most 6"},
		{[]TimedRun{{Name: "x", Seconds: []float64{1, 2}, ValAcc: []float64{0.5}}}, nil, "png", `run "x" has 2 times and 1 accuracies`},
		{[]TimedRun{{Name: "x"}}, nil, "png", `run "x" has 0 times`},
		{[]TimedRun{{Name: "x", Seconds: []float64{2, 1}, ValAcc: []float64{0.5, 0.6}}}, nil, "png", "epoch 2: 1 s"},
		{[]TimedRun{{Name: "x", Seconds: []float64{1}, ValAcc: []float64{93}}}, nil, "png", "accuracy 93"},
		{ok, []float64{93}, "svg", "mark 93 out of (0, 1]"},
	} {
		_, err := TimeToAccuracy(c.runs, c.marks, c.format)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err %v, want %q", c.want, err, c.want)
		}
	}
}
