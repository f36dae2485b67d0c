package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fmnist/fmnist/fit"
)

// isTerminal reports whether w is a character device, where a redrawn
// progress bar makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// termWidth is the width of w's terminal: asked of the terminal itself,
// else $COLUMNS, else 80. It is asked at every redraw, so that a resized
// window gets a bar that fits.
func termWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if n := ttyWidth(f); n > 0 {
			return n
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 80
}

// bar shows where a run is. On a terminal it redraws one line, fitted to
// the width, at most ten times a second; every other line (epoch results,
// notes, the signal's) is printed above it through line, so that the bar
// never leaves a stale copy and a message never starts mid-line; a line
// wider than the terminal is broken between its fields, not mid-number.
// Elsewhere
// (a log file, a pipe) it prints a plain progress line every `every`
// within a stage, or never when every is 0.
type bar struct {
	mu     sync.Mutex
	w      io.Writer
	on     bool
	every  time.Duration
	width  func() int
	last   time.Time // of the last redraw, or of the last plain line or stage start
	shown  string    // the bar on the screen now, "" when none
	eta    *runETA
	stage  string // the model of the last Progress
	legend bool   // the epoch lines' legend is printed
}

func newBar(w io.Writer, every time.Duration, eta *runETA) *bar {
	return &bar{w: w, on: isTerminal(w), every: every, width: func() int { return termWidth(w) }, last: time.Now(),
		eta: eta}
}

func (b *bar) progress(p fit.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.eta.observe(p)
	if p.Model != b.stage {
		b.stage = p.Model
		b.last = time.Now() // a plain line after `every` of this stage, not at once
		b.println(stageHeader(p, b.eta))
	}
	left, guess, known := b.eta.left(p)
	if !b.on {
		if p.Phase != "" || b.every <= 0 || time.Since(b.last) < b.every {
			return
		}
		b.last = time.Now()
		fmt.Fprintf(b.w, "%s epoch %d/%d step %d/%d  loss %.4f acc %.2f%%  %.0f img/s%s\n", p.Model, p.Epoch, p.Epochs,
			p.Step, p.Steps, p.RunningLoss, 100*p.RunningAcc, imgPerS(p), etaText("  ", left, guess, known))
		return
	}
	if p.Phase == "" && p.Step != p.Steps && time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	b.shown = renderBar(b.width(), p, left, guess, known)
	fmt.Fprint(b.w, "\r"+b.shown+"\x1b[K")
}

// line prints s on a line of its own, above the bar.
func (b *bar) line(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.println(s)
}

func (b *bar) println(s string) {
	if !b.on {
		fmt.Fprintln(b.w, s)
		return
	}
	// The bar is not drawn again below the line: what it showed may be
	// over (a test pass, before the next stage's note), and the next step
	// draws it anew within a tenth of a second.
	if b.shown != "" {
		fmt.Fprint(b.w, "\r\x1b[K")
		b.shown = ""
	}
	fmt.Fprintln(b.w, wrapFields(s, b.width()))
}

// clear erases the bar, for good, before the program prints anything else.
func (b *bar) clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.shown != "" {
		fmt.Fprint(b.w, "\r\x1b[K")
		b.shown = ""
	}
}

// epoch prints an epoch's results, after a legend the first time.
func (b *bar) epoch(r fit.Record) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.legend {
		b.legend = true
		b.println("(train loss: the epoch's running mean, with dropout and label smoothing on, so it can sit above " +
			"the val loss, plain cross-entropy in eval mode after the epoch; img/s: the training steps; " +
			"seconds: the whole epoch, validation included)")
	}
	left, guess, known := b.eta.afterEpoch(r)
	b.println(epochLine(r, b.eta.epochs(r.Model)) + etaText("  ", left, guess, known))
}

func imgPerS(p fit.Progress) float64 { return float64(p.Images) / max(p.Elapsed.Seconds(), 1e-9) }

// stageNames are the stages as the user reads them.
var stageNames = map[string]string{"mlp": "MLP", "cnn": "CNN", "cnn_mlp": "cnn_mlp"}

func stageName(model string) string {
	if s, ok := stageNames[model]; ok {
		return s
	}
	return model
}

// stageLabel is "CNN 2/3", or "CNN" outside a pipeline of several stages.
func stageLabel(p fit.Progress) string {
	if p.Stages > 1 {
		return fmt.Sprintf("%s %d/%d", stageName(p.Model), p.Stage, p.Stages)
	}
	return stageName(p.Model)
}

func stageHeader(p fit.Progress, e *runETA) string {
	s := "== " + stageName(p.Model)
	if p.Stages > 1 {
		s += fmt.Sprintf(", stage %d of %d", p.Stage, p.Stages)
	}
	if sp := e.plan(p.Model); sp != nil {
		s += fmt.Sprintf(": %s of %s", plural(sp.epochs, "epoch"), plural(sp.steps, "step"))
	}
	left, guess, known := e.left(p)
	return s + etaText("; ", left, guess, known)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// etaText is " run ETA 14m02s" after sep, "~" when part of it is guessed
// from another model's speed, or "" when nothing is measured yet.
func etaText(sep string, left time.Duration, guess, known bool) string {
	if !known {
		return ""
	}
	t := "run ETA " + fmtDur(left)
	if guess {
		t = "run ETA ~" + fmtDur(left)
	}
	return sep + t
}

// fmtDur is a duration to the second, shortest first: 42s, 14m02s, 1h05m.
func fmtDur(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s/60%60)
}

// renderBar is the bar line for p at a terminal width: never wider than
// width-1 (a line that fills the last column makes some terminals wrap),
// dropping the least useful parts first: the speed, the running loss and
// accuracy, then the bar itself.
func renderBar(width int, p fit.Progress, left time.Duration, guess, known bool) string {
	lim := width - 1
	head := stageLabel(p)
	eta := etaText("", left, guess, known)
	if p.Phase != "" {
		what := map[string]string{fit.PhaseValidate: "validating", fit.PhaseFeatures: "extracting the CNN's features",
			fit.PhaseTest: "testing"}[p.Phase]
		if p.Phase == fit.PhaseValidate {
			head += fmt.Sprintf(" epoch %d/%d", p.Epoch, p.Epochs)
		}
		return fitWidth(lim, head, what+"...", eta)
	}
	head += fmt.Sprintf(" epoch %d/%d", p.Epoch, p.Epochs)
	count := fmt.Sprintf("%d/%d", p.Step, p.Steps)
	stats := fmt.Sprintf("loss %.4f acc %.2f%%", p.RunningLoss, 100*p.RunningAcc)
	speed := fmt.Sprintf("%.0f img/s", imgPerS(p))
	for _, parts := range [][]string{{stats, speed}, {stats}, nil} {
		// The bar takes what is left, up to 30 columns, and is worth
		// showing from 8.
		fixed := len(head) + 2 + len(count)
		for _, s := range append(parts, eta) {
			if s != "" {
				fixed += 2 + len(s)
			}
		}
		room := lim - fixed - 3 // " [" and "]"
		if room >= 8 {
			n := min(room, 30)
			done := n * p.Step / max(p.Steps, 1)
			bar := " [" + strings.Repeat("=", done) + strings.Repeat(" ", n-done) + "]"
			return fitWidth(lim, append([]string{head + bar, count}, append(parts, eta)...)...)
		}
	}
	return fitWidth(lim, head, count, eta)
}

// fitWidth joins the non-empty parts with two spaces and cuts the result to
// width columns (the parts are ASCII).
func fitWidth(width int, parts ...string) string {
	var keep []string
	for _, s := range parts {
		if s != "" {
			keep = append(keep, s)
		}
	}
	s := strings.Join(keep, "  ")
	if len(s) > width {
		s = s[:max(width, 0)]
	}
	return s
}

// wrapFields breaks a line wider than width at its double spaces (and,
// for a word longer than a line, anywhere), so that a terminal never
// splits a number; the lines after the first are indented.
func wrapFields(s string, width int) string {
	const indent = "    "
	if len(s) < width || width < 20 {
		return s
	}
	var b strings.Builder
	col := 0
	for i, f := range strings.Split(s, "  ") {
		for _, w := range splitLong(f, width-1-len(indent)) {
			switch {
			case i == 0 && col == 0:
			case col+2+len(w) < width:
				b.WriteString("  ")
				col += 2
			default:
				b.WriteString("\n" + indent)
				col = len(indent)
			}
			b.WriteString(w)
			col += len(w)
		}
	}
	return b.String()
}

// splitLong splits a field longer than n at its spaces, words in order.
func splitLong(f string, n int) []string {
	if len(f) <= n {
		return []string{f}
	}
	var out []string
	cur := ""
	for _, w := range strings.Fields(f) {
		if cur != "" && len(cur)+1+len(w) > n {
			out = append(out, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

func epochLine(r fit.Record, epochs int) string {
	ep := fmt.Sprintf("epoch %d", r.Epoch)
	if epochs > 0 {
		ep = fmt.Sprintf("epoch %d/%d", r.Epoch, epochs)
	}
	return fmt.Sprintf("%-7s %s  train loss %.4f acc %.2f%%  val loss %.4f acc %.2f%%  lr %.4g  %.0f img/s  %.1fs with val",
		r.Model, ep, r.TrainLoss, 100*r.TrainAcc, r.ValLoss, 100*r.ValAcc, r.LR, r.ImgPerS, r.Seconds)
}
