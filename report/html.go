package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/png"
	"math"
	"path/filepath"
	"strconv"
)

// The page's data. Everything is preformatted text so the template stays
// free of logic.
type pageData struct {
	Title   string
	Dir     string
	Config  string
	Summary string // the run's size, in a sentence
	Short   string // why its figures are not a full training's, or ""
	Models  []string
	Results []resultRow
	Notes   []string
	Section []section
}

type resultRow struct {
	Model, Params, BestEpoch, Epochs, TrainTime, ValAcc, TestAcc, TestLoss string
	Best                                                                   bool
}

type section struct {
	Model      string
	Notes      []string
	Curves     template.URL // data: URIs; empty when there is nothing to draw
	Confusion  template.URL
	Errors     template.URL
	ErrorsText string
	Classes    []classRow
	Macro      classRow
	Accuracy   string
	Epochs     []epochRow
}

type classRow struct {
	Name, Precision, Recall, F1, Support, Predicted string
	Bar                                             int // F1 as a bar width in pixels
	Worst                                           bool
}

type epochRow struct {
	Epoch, TrainLoss, TrainAcc, ValLoss, ValAcc, LR, ImgPerS, Seconds string
	Best                                                              bool
}

func dataURI(mime string, data []byte) template.URL {
	return template.URL("data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data))
}

// page renders every figure to the plots folder and gathers the page data.
func (b *builder) page() (*pageData, error) {
	run := b.run
	p := &pageData{
		Title:  "fmnist report: " + filepath.Base(filepath.Clean(run.Dir)),
		Dir:    run.Dir,
		Config: run.Config,
		Models: run.Models,
	}
	cfg := parseRunConfig(run.Config)
	p.Summary = summary(cfg, run.Models, run.Results)
	p.Short = shortRun(cfg, run.Models, b.opt.ReferenceEpochs)
	for _, f := range run.Missing {
		p.Notes = append(p.Notes, "There is no "+f+" in the run folder: the run did not finish, or was stopped.")
	}
	if len(run.Models) == 0 {
		p.Notes = append(p.Notes, "The run folder names no model: metrics.csv, results.json and predictions.csv are empty.")
	}
	bestAcc := -1.0
	for _, m := range run.Models {
		r, ok := run.Results[m]
		if !ok {
			p.Results = append(p.Results, resultRow{Model: m, Params: "–", BestEpoch: "–", Epochs: "–",
				TrainTime: "–", ValAcc: "–", TestAcc: "not in results.json", TestLoss: "–"})
			continue
		}
		p.Results = append(p.Results, resultRow{
			Model:     m,
			Params:    thousands(r.Params),
			BestEpoch: strconv.Itoa(r.BestEpoch),
			Epochs:    strconv.Itoa(r.Epochs),
			TrainTime: duration(r.TrainS),
			ValAcc:    pct(r.ValAcc),
			TestAcc:   pct(r.TestAcc),
			TestLoss:  fmt.Sprintf("%.4f", r.TestLoss),
		})
		bestAcc = math.Max(bestAcc, r.TestAcc)
	}
	for i := range p.Results {
		if r, ok := run.Results[p.Results[i].Model]; ok && r.TestAcc == bestAcc && len(run.Results) > 1 {
			p.Results[i].Best = true
			break
		}
	}
	for _, m := range run.Models {
		s, err := b.section(m)
		if err != nil {
			return nil, err
		}
		p.Section = append(p.Section, s)
	}
	return p, nil
}

func (b *builder) section(m string) (section, error) {
	run := b.run
	s := section{Model: m}
	res, hasRes := run.Results[m]

	if eps := run.Metrics[m]; len(eps) > 0 {
		best := 0
		if hasRes {
			best = res.BestEpoch
		}
		f, err := curvesFigure(m, eps, best, lossNote(parseRunConfig(run.Config), m))
		if err != nil {
			return s, err
		}
		img, err := b.figure(m+"_curves", f)
		if err != nil {
			return s, err
		}
		s.Curves = dataURI("image/png", img)
		for _, e := range eps {
			s.Epochs = append(s.Epochs, epochRow{
				Epoch: strconv.Itoa(e.Epoch), TrainLoss: fmt.Sprintf("%.4f", e.TrainLoss), TrainAcc: pct(e.TrainAcc),
				ValLoss: fmt.Sprintf("%.4f", e.ValLoss), ValAcc: pct(e.ValAcc), LR: strconv.FormatFloat(e.LR, 'g', 4, 64),
				ImgPerS: fmt.Sprintf("%.0f", e.ImgPerS), Seconds: fmt.Sprintf("%.1f", e.Seconds), Best: e.Epoch == best,
			})
			if !run.Timing {
				last := &s.Epochs[len(s.Epochs)-1]
				last.ImgPerS, last.Seconds = "–", "–"
			}
		}
	} else {
		s.Notes = append(s.Notes, "No rows in metrics.csv: no training curves.")
	}

	preds := run.Predictions[m]
	if len(preds) == 0 {
		s.Notes = append(s.Notes, "No rows in predictions.csv: no confusion matrix, per-class scores or mistakes.")
		return s, nil
	}
	c := NewConfusion(preds, NumClasses)
	s.Accuracy = pct(c.Accuracy())
	if hasRes && math.Abs(c.Accuracy()-res.TestAcc) > 0.5/float64(c.Total())+1e-9 {
		s.Notes = append(s.Notes, fmt.Sprintf("predictions.csv gives a test accuracy of %s over %d images; results.json says %s.",
			pct(c.Accuracy()), c.Total(), pct(res.TestAcc)))
	}
	f, err := confusionFigure(m, c, b.names)
	if err != nil {
		return s, err
	}
	img, err := b.figure(m+"_confusion", f)
	if err != nil {
		return s, err
	}
	s.Confusion = dataURI("image/png", img)

	scores := c.PerClass()
	worst := 0
	for k, sc := range scores {
		if sc.F1 < scores[worst].F1 {
			worst = k
		}
	}
	row := func(name string, sc ClassScore) classRow {
		return classRow{Name: name, Precision: fmt.Sprintf("%.3f", sc.Precision), Recall: fmt.Sprintf("%.3f", sc.Recall),
			F1: fmt.Sprintf("%.3f", sc.F1), Support: strconv.Itoa(sc.Support), Predicted: strconv.Itoa(sc.Predicted),
			Bar: int(math.Round(60 * sc.F1))}
	}
	for k, sc := range scores {
		r := row(b.names[k], sc)
		r.Worst = k == worst
		s.Classes = append(s.Classes, r)
	}
	s.Macro = row("macro average", MacroAverage(scores))

	all := Mistakes(preds, -1)
	switch {
	case len(all) == 0:
		s.ErrorsText = "No mistakes on the test set."
	case b.opt.Images == nil:
		s.ErrorsText = fmt.Sprintf("%d mistakes; the test images were not given, so they are not shown.", len(all))
	default:
		n := b.opt.Mistakes
		if n == 0 {
			n = DefaultMistakes
		}
		shown := all[:min(n, len(all))]
		title := fmt.Sprintf("%s: the %d most confident mistakes of %d (p = probability of the predicted class)", m, len(shown), len(all))
		var buf bytes.Buffer
		if err := png.Encode(&buf, errorGrid(title, shown, b.opt.Images, b.names, 6)); err != nil {
			return s, fmt.Errorf("report: encode png: %w", err)
		}
		if err := b.write(filepath.Join(PlotsDir, m+"_errors.png"), buf.Bytes()); err != nil {
			return s, err
		}
		s.Errors = dataURI("image/png", buf.Bytes())
		s.ErrorsText = fmt.Sprintf("The %d most confident of %d mistakes (%.2f%% of %d test images), most confident first. "+
			"Under each image: its true class, the class predicted, the probability p the model gave that class, "+
			"and the image's place in the test set (test image #0 is the first).",
			len(shown), len(all), 100*float64(len(all))/float64(len(preds)), len(preds))
	}
	return s, nil
}

// thousands formats n with comma separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// duration formats seconds for people: 12.5 s, 3 min 20 s, 1 h 02 min.
func duration(sec float64) string {
	switch {
	case sec < 60:
		return fmt.Sprintf("%.1f s", sec)
	case sec < 3600:
		t := int(math.Round(sec))
		return fmt.Sprintf("%d min %02d s", t/60, t%60)
	default:
		t := int(math.Round(sec / 60))
		return fmt.Sprintf("%d h %02d min", t/60, t%60)
	}
}

// pageTemplate is kept XHTML-compatible (void elements closed, no named
// entities) so tests can check the page with encoding/xml.
var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>{{.Title}}</title>
<style>
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", sans-serif; color: #1d1d1f; margin: 0; background: #f4f5f7; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 12px; padding-top: 12px; border-top: 2px solid #e3e5e8; }
h3 { font-size: 16px; margin: 22px 0 8px; color: #333; }
nav a { margin-right: 14px; }
a { color: #1f5fb4; }
.muted { color: #666; font-size: 13px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 6px 0; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e3e5e8; text-align: right; white-space: nowrap; }
th { background: #f0f2f5; font-weight: 600; }
th:first-child, td:first-child { text-align: left; }
tr.best td { background: #e8f4ea; font-weight: 600; }
tr.worst td { background: #fdecec; }
tr.macro td { border-top: 2px solid #bbb; font-weight: 600; }
.bar { display: inline-block; height: 9px; background: #1f77b4; margin-left: 8px; vertical-align: middle; }
img { max-width: 100%; height: auto; display: block; }
.pair { display: grid; grid-template-columns: minmax(0, 720px) auto; gap: 24px; align-items: start; justify-content: start; }
@media (max-width: 1100px) { .pair { grid-template-columns: minmax(0, 720px); } }
.summary { font-size: 15px; margin: 6px 0; }
.banner { background: #fdecec; border: 1px solid #e5a0a0; border-left: 6px solid #c01c28; padding: 10px 14px; margin: 12px 0; font-size: 15px; }
.note { background: #fff6e0; border-left: 4px solid #e0a800; padding: 6px 12px; margin: 8px 0; }
pre { background: #f6f8fa; padding: 10px 14px; overflow: auto; max-height: 360px; font-size: 13px; }
details summary { cursor: pointer; color: #1f5fb4; margin: 8px 0; }
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p class="muted">Run folder: <code>{{.Dir}}</code></p>
{{if .Summary}}<p class="summary" id="run-summary">{{.Summary}}</p>
{{end}}{{if .Short}}<p class="banner" id="short-run" role="alert"><strong>Not a full result.</strong> {{.Short}}</p>
{{end}}{{if .Models}}<nav>Models: {{range .Models}}<a href="#model-{{.}}">{{.}}</a>{{end}}</nav>{{end}}
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}
<h2 id="results">Results</h2>
<table id="results-table">
<thead><tr><th>model</th><th>params</th><th>best epoch</th><th>epochs</th><th>train time</th><th>val acc</th><th>test acc</th><th>test loss</th></tr></thead>
<tbody>
{{range .Results}}<tr{{if .Best}} class="best"{{end}}><td><a href="#model-{{.Model}}">{{.Model}}</a></td><td>{{.Params}}</td><td>{{.BestEpoch}}</td><td>{{.Epochs}}</td><td>{{.TrainTime}}</td><td>{{.ValAcc}}</td><td>{{.TestAcc}}</td><td>{{.TestLoss}}</td></tr>
{{end}}</tbody>
</table>
<p class="muted">Accuracies are on the validation split (at the best epoch) and on the official 10,000-image test set. The best test accuracy is highlighted.</p>
<details>
<summary>Configuration (config.json)</summary>
<pre>{{.Config}}</pre>
</details>
{{range .Section}}
<section id="model-{{.Model}}">
<h2>{{.Model}}</h2>
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}
{{if .Curves}}<h3>Training curves</h3>
<img src="{{.Curves}}" alt="{{.Model}}: loss and accuracy per epoch" width="1056" height="408" />
<details>
<summary>Per-epoch metrics</summary>
<table>
<thead><tr><th>epoch</th><th>train loss</th><th>train acc</th><th>val loss</th><th>val acc</th><th>lr</th><th>train img/s</th><th>epoch s</th></tr></thead>
<tbody>
{{range .Epochs}}<tr{{if .Best}} class="best"{{end}}><td>{{.Epoch}}</td><td>{{.TrainLoss}}</td><td>{{.TrainAcc}}</td><td>{{.ValLoss}}</td><td>{{.ValAcc}}</td><td>{{.LR}}</td><td>{{.ImgPerS}}</td><td>{{.Seconds}}</td></tr>
{{end}}</tbody>
</table>
<p class="muted">Accuracies in percent. Train img/s counts the training steps only; epoch s is the whole epoch, validation included.</p>
</details>
{{end}}
{{if .Confusion}}<h3>Test set: confusion matrix and per-class scores (accuracy {{.Accuracy}})</h3>
<div class="pair">
<div>
<img src="{{.Confusion}}" alt="{{.Model}}: confusion matrix" width="720" height="672" />
<p class="muted">Rows are the true class, columns the prediction. Shade: share of the true class, square-root scale.</p>
</div>
<table class="per-class">
<thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th><th>predicted</th></tr></thead>
<tbody>
{{range .Classes}}<tr{{if .Worst}} class="worst"{{end}}><td>{{.Name}}</td><td>{{.Precision}}</td><td>{{.Recall}}</td><td>{{.F1}}<span class="bar" style="width: {{.Bar}}px"></span></td><td>{{.Support}}</td><td>{{.Predicted}}</td></tr>
{{end}}<tr class="macro"><td>{{.Macro.Name}}</td><td>{{.Macro.Precision}}</td><td>{{.Macro.Recall}}</td><td>{{.Macro.F1}}<span class="bar" style="width: {{.Macro.Bar}}px"></span></td><td>{{.Macro.Support}}</td><td>{{.Macro.Predicted}}</td></tr>
</tbody>
</table>
</div>
{{end}}
{{if .ErrorsText}}<h3>Mistakes</h3>
<p>{{.ErrorsText}}</p>
{{if .Errors}}<img src="{{.Errors}}" alt="{{.Model}}: most confident mistakes" />{{end}}
{{end}}
</section>
{{end}}
<p class="muted">Built by fmnist report from the files in the run folder; plots are also in plots/ as PNG and SVG, the per-class scores in per_class.csv.</p>
</main>
</body>
</html>
`))
