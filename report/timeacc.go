package report

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// TimedRun is one training run timed to accuracy: its validation accuracy
// (a fraction) at the end of each epoch, against the wall seconds from the
// start of its training to that end (validation included).
type TimedRun struct {
	Name    string
	Seconds []float64
	ValAcc  []float64
}

// runColors tell up to six runs apart (Tableau 10; readable in grey).
var runColors = []color.Color{
	trainColor, valColor,
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
}

// TimeToAccuracy draws the validation accuracy of runs against wall time in
// one plot, with each of marks (fractions) as a dotted line across it, and
// returns the drawing as "png" or "svg". The accuracy axis starts three
// points under the lowest mark (or at the lowest accuracy, if higher), so
// that the first epochs of a run, far below every mark, do not flatten the
// part that matters; the curve leaves the plot at its bottom edge there. The
// time axis is in seconds, or minutes when the longest run passes ten.
// The same runs and marks always give the same bytes.
func TimeToAccuracy(runs []TimedRun, marks []float64, format string) ([]byte, error) {
	if format != "png" && format != "svg" {
		return nil, fmt.Errorf("report: time to accuracy: format %q: want png or svg", format)
	}
	if len(runs) == 0 {
		return nil, errors.New("report: time to accuracy: no runs")
	}
	if len(runs) > len(runColors) {
		return nil, fmt.Errorf("report: time to accuracy: %d runs, at most %d", len(runs), len(runColors))
	}
	lo, hi, last := math.Inf(1), math.Inf(-1), 0.0
	for _, r := range runs {
		if len(r.Seconds) == 0 || len(r.Seconds) != len(r.ValAcc) {
			return nil, fmt.Errorf("report: time to accuracy: run %q has %d times and %d accuracies", r.Name, len(r.Seconds), len(r.ValAcc))
		}
		prev := 0.0
		for i, s := range r.Seconds {
			a := r.ValAcc[i]
			if !(s >= prev) || math.IsInf(s, 0) || !(a >= 0 && a <= 1) {
				return nil, fmt.Errorf("report: time to accuracy: run %q, epoch %d: %v s, accuracy %v (want times that grow and accuracies in [0, 1])",
					r.Name, i+1, s, a)
			}
			prev = s
			lo, hi = min(lo, a), max(hi, a)
		}
		last = max(last, prev)
	}
	for _, m := range marks {
		if !(m > 0 && m <= 1) {
			return nil, fmt.Errorf("report: time to accuracy: mark %v out of (0, 1]", m)
		}
	}
	unit, scale := "s", 1.0
	if last > 600 {
		unit, scale = "min", 1.0/60
	}
	p := newPlot("Validation accuracy against wall time", "wall time from the start of training ("+unit+")", "validation accuracy (%)")
	p.X.Tick.Marker = plainTicks{}
	p.Y.Tick.Marker = plainTicks{}
	p.Add(plotter.NewGrid())
	var names []string
	if len(marks) > 0 {
		ms := slices.Sorted(slices.Values(marks))
		lo = max(lo, ms[0]-0.03)
		hi = max(hi, ms[len(ms)-1])
		style := draw.LineStyle{Color: bestColor, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}
		var text []string
		for _, m := range ms {
			p.Add(rule{100 * m, true, style})
			text = append(text, fmt.Sprintf("%.4g", 100*m))
		}
		names = append(names, "marks: "+strings.Join(text, ", ")+"%")
		p.Legend.Add(names[0], rule{horizontal: true, style: style}) // one entry for all
	}
	for i, r := range runs {
		xy := make(plotter.XYs, len(r.Seconds))
		for k := range r.Seconds {
			xy[k] = plotter.XY{X: r.Seconds[k] * scale, Y: 100 * r.ValAcc[k]}
		}
		line, points, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, fmt.Errorf("report: time to accuracy: %s: %w", r.Name, err)
		}
		line.Color, line.Width = runColors[i], vg.Points(1.5)
		if i%2 == 1 {
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		points.Color, points.Radius, points.Shape = runColors[i], vg.Points(2), draw.CircleGlyph{}
		p.Add(line, points)
		p.Legend.Add(r.Name, line, points)
		names = append(names, r.Name)
	}
	// After the curves, which stretch the axes to their data when added.
	p.Y.Min, p.Y.Max = 100*lo-0.25, 100*hi+0.25
	p.X.Min, p.X.Max = 0, last*scale*1.02
	// Accuracy rises over time: the bottom right is where the curves are not.
	p.Legend.XOffs, p.Legend.YOffs = -vg.Millimeter*4, vg.Millimeter
	leg := boxedLegend{p.Legend, names}
	p.Legend = plot.NewLegend()
	f := figure{w: 8 * vg.Inch, h: 4.5 * vg.Inch, draw: func(dc draw.Canvas) {
		c := draw.Crop(dc, vg.Millimeter*2, -vg.Millimeter*4, vg.Millimeter*2, -vg.Millimeter*2)
		p.Draw(c)
		leg.draw(p.DataCanvas(c))
	}}
	if format == "png" {
		return f.png()
	}
	return f.svg()
}
