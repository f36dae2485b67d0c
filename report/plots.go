package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// dpi of the PNGs: 96 makes one CSS pixel one image pixel in the page.
const dpi = 96

// figure is a drawing of a fixed size, rendered once per output format.
type figure struct {
	w, h vg.Length
	draw func(dc draw.Canvas)
}

func (f figure) png() ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(f.w, f.h), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	f.draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("report: encode png: %w", err)
	}
	return buf.Bytes(), nil
}

func (f figure) svg() ([]byte, error) {
	c := vgsvg.New(f.w, f.h)
	f.draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("report: encode svg: %w", err)
	}
	return buf.Bytes(), nil
}

// Colors: train solid blue, validation dashed orange (Tableau 10), readable
// in grey and by the colour-blind.
var (
	trainColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	valColor   = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	bestColor  = color.RGBA{R: 0x70, G: 0x70, B: 0x70, A: 0xff}
)

// newPlot returns a plot whose text is sans-serif: the default serif face
// reads poorly at tick size, and SVG viewers without Liberation fall back
// to a sans face anyway.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, s := range []*text.Style{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle,
		&p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle} {
		s.Font.Variant = "Sans"
	}
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.Padding = vg.Points(6)
	return p
}

// epochTicks labels whole epochs only, at a 1-2-5 step that gives at most
// ten labels, with unlabelled marks on the other epochs when they fit.
type epochTicks struct{}

func (epochTicks) Ticks(lo, hi float64) []plot.Tick {
	first, last := math.Ceil(lo), math.Floor(hi)
	if !(last >= first) || last-first > 1e6 {
		return nil
	}
	step := 1.0
	for _, s := range []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000} {
		step = s
		if (last-first)/s <= 10 {
			break
		}
	}
	var ticks []plot.Tick
	for v := first; v <= last; v++ {
		switch {
		case math.Mod(v, step) == 0:
			ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprint(v)})
		case last-first <= 100:
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}

// plainTicks are gonum's default ticks labelled without trailing zeros:
// 87.5 rather than 87.50.
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', 10, 64)
		}
	}
	return ticks
}

// rule marks a value across the whole data area: an epoch (a vertical
// line) or an accuracy (horizontal). It has no data range, so it never
// stretches the axes.
type rule struct {
	at         float64
	horizontal bool
	style      draw.LineStyle
}

func (r rule) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	if r.horizontal {
		if y := trY(r.at); y >= c.Min.Y && y <= c.Max.Y {
			c.StrokeLine2(r.style, c.Min.X, y, c.Max.X, y)
		}
		return
	}
	if x := trX(r.at); x >= c.Min.X && x <= c.Max.X {
		c.StrokeLine2(r.style, x, c.Min.Y, x, c.Max.Y)
	}
}

func (r rule) Thumbnail(c *draw.Canvas) {
	if r.horizontal {
		y := (c.Min.Y + c.Max.Y) / 2
		c.StrokeLine2(r.style, c.Min.X, y, c.Max.X, y)
		return
	}
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(r.style, x, c.Min.Y, x, c.Max.Y)
}

// series adds one curve, skipping the points whose value is not finite (a
// diverged loss) so the rest still shows.
func series(p *plot.Plot, name string, eps []Epoch, val func(Epoch) float64, clr color.Color, dashed bool) error {
	var xy plotter.XYs
	for _, e := range eps {
		v := val(e)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		xy = append(xy, plotter.XY{X: float64(e.Epoch), Y: v})
	}
	if len(xy) == 0 {
		return nil
	}
	line, points, err := plotter.NewLinePoints(xy)
	if err != nil {
		return fmt.Errorf("report: %s curve: %w", name, err)
	}
	line.Color = clr
	line.Width = vg.Points(1.5)
	if dashed {
		line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	points.Color = clr
	points.Radius = vg.Points(2)
	points.Shape = draw.CircleGlyph{}
	p.Add(line, points)
	p.Legend.Add(name, line, points)
	return nil
}

// curvesFigure draws loss and accuracy per epoch side by side, with note
// as a caption under them. best, when positive, marks the epoch whose
// weights were kept.
func curvesFigure(model string, eps []Epoch, best int, note string) (figure, error) {
	loss := newPlot(model+": loss per epoch", "epoch", "cross-entropy loss")
	acc := newPlot(model+": accuracy per epoch", "epoch", "accuracy (%)")
	names := map[*plot.Plot][]string{}
	pct := func(f func(Epoch) float64) func(Epoch) float64 {
		return func(e Epoch) float64 { return 100 * f(e) }
	}
	for _, s := range []struct {
		p      *plot.Plot
		name   string
		val    func(Epoch) float64
		clr    color.Color
		dashed bool
	}{
		{loss, "train (running mean)", func(e Epoch) float64 { return e.TrainLoss }, trainColor, false},
		{loss, "validation", func(e Epoch) float64 { return e.ValLoss }, valColor, true},
		{acc, "train", pct(func(e Epoch) float64 { return e.TrainAcc }), trainColor, false},
		{acc, "validation", pct(func(e Epoch) float64 { return e.ValAcc }), valColor, true},
	} {
		if err := series(s.p, s.name, eps, s.val, s.clr, s.dashed); err != nil {
			return figure{}, err
		}
		names[s.p] = append(names[s.p], s.name)
	}
	for _, p := range []*plot.Plot{loss, acc} {
		p.X.Tick.Marker = epochTicks{}
		p.Y.Tick.Marker = plainTicks{}
		p.Add(plotter.NewGrid())
		if best > 0 {
			m := rule{float64(best), false, draw.LineStyle{Color: bestColor, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}}
			p.Add(m)
			name := fmt.Sprintf("best epoch (%d)", best)
			p.Legend.Add(name, m)
			names[p] = append(names[p], name)
		}
	}
	// Loss falls and accuracy rises: the top right of one and the bottom
	// right of the other are where the curves are not. The offset keeps the
	// legend off a best-epoch mark on the last epoch.
	loss.Legend.Top = true
	for _, p := range []*plot.Plot{loss, acc} {
		p.Legend.XOffs = -vg.Millimeter * 4
		p.Legend.YOffs = -vg.Millimeter
	}
	acc.Legend.YOffs = vg.Millimeter
	legs := []boxedLegend{{loss.Legend, names[loss]}, {acc.Legend, names[acc]}}
	for _, p := range []*plot.Plot{loss, acc} {
		p.Legend = plot.NewLegend() // drawn by boxedLegend, over a background
	}
	caption := text.Style{Font: font.From(plot.DefaultFont, vg.Points(10)), Handler: plot.DefaultTextHandler,
		Color: color.Gray{Y: 0x44}, XAlign: draw.XLeft, YAlign: draw.YBottom}
	caption.Font.Variant = "Sans"
	captionH := vg.Inch / 4
	return figure{
		w: 11 * vg.Inch,
		h: 4*vg.Inch + captionH,
		draw: func(dc draw.Canvas) {
			if note != "" {
				dc.FillText(caption, vg.Point{X: dc.Min.X + vg.Millimeter*4, Y: dc.Min.Y + vg.Millimeter*2}, note)
			}
			t := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 12, PadTop: vg.Millimeter * 2,
				PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
			cs := plot.Align([][]*plot.Plot{{loss, acc}}, t, draw.Crop(dc, 0, 0, captionH, 0))
			for i, p := range []*plot.Plot{loss, acc} {
				p.Draw(cs[0][i])
				legs[i].draw(p.DataCanvas(cs[0][i]))
			}
		},
	}, nil
}

// boxedLegend is a legend drawn over a white, framed box, so that the grid
// lines and curves under it do not cross its text.
type boxedLegend struct {
	leg   plot.Legend
	names []string
}

func (b boxedLegend) draw(c draw.Canvas) {
	if len(b.names) == 0 {
		return
	}
	l := b.leg
	var textW, entH vg.Length
	for _, n := range b.names {
		r := l.TextStyle.Rectangle(n)
		textW, entH = max(textW, r.Max.X-r.Min.X), max(entH, r.Max.Y)
	}
	em := l.TextStyle.Rectangle(" ").Max.X
	descent := l.TextStyle.FontExtents().Descent
	n := vg.Length(len(b.names))
	height := n*entH + (n-1)*l.Padding
	// Where Legend.Draw puts the entries: against the right edge (or the
	// left, with Left), from the top (with Top) or the bottom, moved by
	// the offsets.
	var box vg.Rectangle
	if l.Left {
		box.Min.X = c.Min.X + l.XOffs
		box.Max.X = box.Min.X + l.ThumbnailWidth + em + textW
	} else {
		box.Max.X = c.Max.X + l.XOffs
		box.Min.X = box.Max.X - l.ThumbnailWidth - em - textW
	}
	// The text of an entry rises a descent above its slot.
	if l.Top {
		box.Max.Y = c.Max.Y + l.YOffs
		box.Min.Y = box.Max.Y - height - descent
	} else {
		box.Min.Y = c.Min.Y + l.YOffs
		box.Max.Y = box.Min.Y + height + descent
	}
	pad := vg.Points(4)
	box.Min.X, box.Min.Y, box.Max.X, box.Max.Y = box.Min.X-2*pad, box.Min.Y-pad/2, box.Max.X+pad, box.Max.Y+pad/2
	c.SetColor(color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xe6})
	c.Fill(box.Path())
	c.StrokeLines(draw.LineStyle{Color: color.Gray{Y: 0xc0}, Width: vg.Points(0.75)},
		[]vg.Point{box.Min, {X: box.Max.X, Y: box.Min.Y}, box.Max, {X: box.Min.X, Y: box.Max.Y}, box.Min})
	b.leg.Draw(c)
}

// confusionGrid is the heat map's data: row 0 of the plot is the last true
// class, so the matrix reads top to bottom as printed.
type confusionGrid struct {
	shade [][]float64 // [true][pred]
}

func (g confusionGrid) Dims() (c, r int)   { return len(g.shade), len(g.shade) }
func (g confusionGrid) Z(c, r int) float64 { return g.shade[len(g.shade)-1-r][c] }
func (g confusionGrid) X(c int) float64    { return float64(c) }
func (g confusionGrid) Y(r int) float64    { return float64(r) }

// blues runs from white to a dark blue.
type blues struct{ n int }

func (b blues) Colors() []color.Color {
	out := make([]color.Color, b.n)
	for i := range out {
		t := float64(i) / float64(b.n-1)
		mix := func(a, z float64) uint8 { return uint8(math.Round(a + (z-a)*t)) }
		out[i] = color.RGBA{R: mix(0xf7, 0x08), G: mix(0xfb, 0x30), B: mix(0xff, 0x6b), A: 0xff}
	}
	return out
}

// confusionShade is the cell's share of its true class on a square-root
// scale: the diagonal holds about 90% and the mistakes a few percent, and a
// linear scale would leave every mistake white.
func confusionShade(c Confusion) [][]float64 {
	s := make([][]float64, len(c))
	for i, row := range c {
		sum := 0
		for _, v := range row {
			sum += v
		}
		s[i] = make([]float64, len(row))
		for j, v := range row {
			s[i][j] = math.Sqrt(ratio(v, sum))
		}
	}
	return s
}

// digitFont writes the counts in the cells: at 9 points the thin stems of
// the sans "1" fell between pixels ("113" read "ıı3"). The monospace "1"
// has a foot and a flag, every digit takes the same width, and bold at 11
// points gives each stem at least a pixel.
var digitFont = func() font.Font {
	f := font.From(plot.DefaultFont, vg.Points(11))
	f.Variant, f.Weight = "Mono", xfont.WeightBold
	return f
}()

// confusionFigure draws c as a labelled heat map with the counts in the cells.
func confusionFigure(model string, c Confusion, names []string) (figure, error) {
	k := len(c)
	title := fmt.Sprintf("%s: confusion matrix (test, %d images, accuracy %s)", model, c.Total(), pct(c.Accuracy()))
	p := newPlot(title, "predicted class", "true class")
	p.Title.TextStyle.Font.Size = vg.Points(12)
	shade := confusionShade(c)
	hm := plotter.NewHeatMap(confusionGrid{shade}, blues{256})
	hm.Min, hm.Max = 0, 1
	p.Add(hm)

	var xys plotter.XYs
	var labels []string
	var styles []text.Style
	for i := range k {
		for j := range k {
			xys = append(xys, plotter.XY{X: float64(j), Y: float64(k - 1 - i)})
			labels = append(labels, fmt.Sprint(c[i][j]))
			st := text.Style{
				Font:    digitFont,
				Handler: plot.DefaultTextHandler,
				XAlign:  draw.XCenter,
				YAlign:  draw.YCenter,
				Color:   color.Black,
			}
			if shade[i][j] > 0.6 {
				st.Color = color.White
			}
			if c[i][j] == 0 {
				st.Color = color.Gray{Y: 0xb0}
			}
			styles = append(styles, st)
		}
	}
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return figure{}, fmt.Errorf("report: confusion labels: %w", err)
	}
	lab.TextStyle = styles
	p.Add(lab)

	rev := make([]string, k)
	for i := range k {
		rev[i] = names[k-1-i]
	}
	p.NominalX(names[:k]...)
	p.NominalY(rev...)
	// The page shows the figure at about four fifths of its size.
	p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = vg.Points(11), vg.Points(11)
	p.X.Label.TextStyle.Font.Size, p.Y.Label.TextStyle.Font.Size = vg.Points(13), vg.Points(13)
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YTop
	p.X.Padding, p.Y.Padding = 0, 0
	return figure{w: 7.5 * vg.Inch, h: 7 * vg.Inch, draw: func(dc draw.Canvas) {
		p.Draw(draw.Crop(dc, vg.Millimeter*2, -vg.Millimeter*4, vg.Millimeter*2, -vg.Millimeter*2))
	}}, nil
}

// pct formats a fraction as a percentage with two decimals.
func pct(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }
