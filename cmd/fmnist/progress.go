package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"fmnist/train"
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

// bar draws a one-line progress bar for training steps, at most ten times a
// second, on a terminal; elsewhere (a log file, a pipe) it prints a plain
// line every `every`, or never when every is 0.
type bar struct {
	w     io.Writer
	on    bool
	every time.Duration
	last  time.Time
}

func newBar(w io.Writer, every time.Duration) *bar {
	return &bar{w: w, on: isTerminal(w), every: every, last: time.Now()}
}

func (b *bar) progress(p train.Progress) {
	rate := float64(p.Images) / max(p.Elapsed.Seconds(), 1e-9)
	if !b.on {
		if b.every <= 0 || time.Since(b.last) < b.every {
			return
		}
		b.last = time.Now()
		fmt.Fprintf(b.w, "%s epoch %d step %d/%d  loss %.4f acc %.4f  %.0f img/s\n",
			p.Model, p.Epoch, p.Step, p.Steps, p.RunningLoss, p.RunningAcc, rate)
		return
	}
	if p.Step != p.Steps && time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	const width = 30
	done := width * p.Step / max(p.Steps, 1)
	eta := time.Duration(float64(p.Elapsed) * float64(p.Steps-p.Step) / float64(max(p.Step, 1)))
	fmt.Fprintf(b.w, "\r%-7s epoch %2d [%s%s] %4d/%d  loss %.4f acc %.4f  %6.0f img/s  ETA %s \x1b[K",
		p.Model, p.Epoch, strings.Repeat("=", done), strings.Repeat(" ", width-done), p.Step, p.Steps,
		p.RunningLoss, p.RunningAcc, rate, eta.Round(time.Second))
}

// clear erases the bar before a normal line is printed.
func (b *bar) clear() {
	if b.on {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
}
