package main

import (
	"bytes"
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/pipeline"
)

// A step of a CNN, the second of three stages, in epoch 13 of 30.
var cnnStep = fit.Progress{Model: "cnn", Epoch: 13, Epochs: 30, Step: 312, Steps: 390, Images: 312 * 128,
	Elapsed: 26 * time.Second, RunningLoss: 0.3123, RunningAcc: 0.8912, Stage: 2, Stages: 3}

// The bar never reaches the last column, keeps the stage, epoch and ETA
// down to 60 columns, and drops the speed, then the running numbers, then
// the bar itself as the terminal narrows.
func TestRenderBar(t *testing.T) {
	eta := 14*time.Minute + 2*time.Second
	for _, tc := range []struct {
		width      int
		p          fit.Progress
		want, lack []string
	}{
		{200, cnnStep, []string{"CNN 2/3 epoch 13/30 [", "312/390", "loss 0.3123 acc 89.12%", "1536 img/s", "run ETA 14m02s"}, nil},
		{120, cnnStep, []string{"CNN 2/3 epoch 13/30 [", "]  312/390", "loss 0.3123", "img/s", "run ETA 14m02s"}, nil},
		{80, cnnStep, []string{"CNN 2/3 epoch 13/30 [", "loss 0.3123", "run ETA 14m02s"}, []string{"img/s"}},
		{70, cnnStep, []string{"CNN 2/3 epoch 13/30 [", "312/390", "run ETA 14m02s"}, []string{"img/s", "loss"}},
		{60, cnnStep, []string{"CNN 2/3 epoch 13/30 [", "312/390", "run ETA 14m02s"}, []string{"img/s", "loss"}},
		{45, cnnStep, []string{"CNN 2/3 epoch 13/30  312/390  run ETA 14m02s"}, []string{"["}},
		{20, cnnStep, []string{"CNN 2/3 epoch 13/30"}, nil},
		{1, cnnStep, nil, nil},
		{0, cnnStep, nil, nil},
		{70, fit.Progress{Model: "cnn", Epoch: 13, Epochs: 30, Stage: 2, Stages: 3, Phase: fit.PhaseValidate},
			[]string{"CNN 2/3 epoch 13/30  validating...  run ETA 14m02s"}, nil},
		{70, fit.Progress{Model: "cnn_mlp", Stage: 3, Stages: 3, Phase: fit.PhaseFeatures},
			[]string{"cnn_mlp 3/3  extracting the CNN's features...  run ETA 14m02s"}, nil},
		{70, fit.Progress{Model: "mlp", Stage: 1, Stages: 1, Phase: fit.PhaseTest}, []string{"MLP  testing..."}, nil},
	} {
		got := renderBar(tc.width, tc.p, eta, false, true)
		if len(got) > max(tc.width-1, 0) || strings.ContainsAny(got, "\n\r") {
			t.Errorf("width %d: %d columns: %q", tc.width, len(got), got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("width %d: %q lacks %q", tc.width, got, w)
			}
		}
		for _, w := range tc.lack {
			if strings.Contains(got, w) {
				t.Errorf("width %d: %q has %q", tc.width, got, w)
			}
		}
	}
	// The bar is full at the last step, empty at none, and the guess shows.
	if got := renderBar(120, cnnStep, eta, true, true); !strings.Contains(got, "run ETA ~14m02s") {
		t.Errorf("guessed ETA: %q", got)
	}
	if got := renderBar(120, cnnStep, 0, false, false); strings.Contains(got, "ETA") {
		t.Errorf("ETA before any speed is known: %q", got)
	}
	last := cnnStep
	last.Step = last.Steps
	if got := renderBar(120, last, eta, false, true); !regexp.MustCompile(`\[=+\]`).MatchString(got) {
		t.Errorf("last step: %q", got)
	}
}

// A line wider than the terminal breaks between its fields, never inside
// a number, and no piece is wider than the terminal.
func TestWrapFields(t *testing.T) {
	r := fit.Record{Model: "cnn_mlp", Epoch: 13, TrainLoss: 0.41234, TrainAcc: 0.87123, ValLoss: 0.30123, ValAcc: 0.90123,
		LR: 0.0123, ImgPerS: 1520, Seconds: 12.3}
	line := epochLine(r, 30) + "  run ETA 14m02s"
	for _, width := range []int{20, 40, 60, 70, 80, 200} {
		got := wrapFields(line, width)
		if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(line), " ") {
			t.Errorf("width %d: words changed:\n%s", width, got)
		}
		for _, l := range strings.Split(got, "\n") {
			if len(l) >= width {
				t.Errorf("width %d: line of %d: %q", width, len(l), l)
			}
		}
		for _, num := range []string{"0.4123", "87.12%", "0.3012", "90.12%", "0.0123", "1520", "12.3s", "14m02s"} {
			if !strings.Contains(got, num) {
				t.Errorf("width %d: %s split:\n%s", width, num, got)
			}
		}
		// Wide enough for every field: the breaks are between fields.
		if width >= 40 {
			parts := strings.Split(got, "\n")
			for i := range parts {
				parts[i] = strings.TrimPrefix(parts[i], "    ")
			}
			if strings.Join(parts, "  ") != line {
				t.Errorf("width %d: not broken between fields:\n%s", width, got)
			}
		}
	}
	if got := wrapFields(line, 200); got != line {
		t.Errorf("a line that fits changed: %q", got)
	}
}

// screen replays what a terminal of width columns shows for out: \r goes
// back to the first column, ESC [K erases to the end of the line, a write
// into the last column wraps.
func screen(out string, width int) []string {
	lines := []string{""}
	col := 0
	put := func(c byte) {
		cur := []byte(lines[len(lines)-1])
		for len(cur) < col {
			cur = append(cur, ' ')
		}
		if col < len(cur) {
			cur[col] = c
		} else {
			cur = append(cur, c)
		}
		lines[len(lines)-1] = string(cur)
		col++
		if col == width {
			lines, col = append(lines, ""), 0
		}
	}
	for i := 0; i < len(out); i++ {
		switch {
		case out[i] == '\r':
			col = 0
		case out[i] == '\n':
			lines, col = append(lines, ""), 0
		case strings.HasPrefix(out[i:], "\x1b[K"):
			l := lines[len(lines)-1]
			lines[len(lines)-1] = l[:min(col, len(l))]
			i += 2
		default:
			put(out[i])
		}
	}
	return lines
}

// On a 60- and a 120-column terminal a whole run's progress, notes and
// epoch lines leave no stale bar and no line wider than the terminal; a
// message (the signal's) starts on a line of its own; and once cleared the
// bar is gone, so the error printed next is alone on its line.
func TestBarOnTerminal(t *testing.T) {
	cfg := pipeline.QuickConfig()
	for _, width := range []int{60, 120} {
		var out bytes.Buffer
		eta := &runETA{stages: planStages(cfg, pipeline.Stages, 2000, 1000, 1000)}
		b := &bar{w: &out, on: true, width: func() int { return width }, eta: eta}
		for si, m := range []string{"mlp", "cnn"} {
			epochs := eta.epochs(m)
			for e := 1; e <= epochs; e++ {
				for s := 1; s <= 16; s++ {
					b.last = time.Time{} // draw every step
					b.progress(fit.Progress{Model: m, Epoch: e, Epochs: epochs, Step: s, Steps: 16, Images: s * 128,
						Elapsed: time.Duration(s) * 100 * time.Millisecond, RunningLoss: 1, RunningAcc: 0.5,
						Stage: si + 1, Stages: 3})
					if m == "cnn" && e == 2 && s == 5 {
						b.line("interrupt: stopping after this step to save a checkpoint (again to quit at once)")
					}
				}
				b.progress(fit.Progress{Model: m, Epoch: e, Epochs: epochs, Steps: 16, Step: 16, Phase: fit.PhaseValidate,
					Stage: si + 1, Stages: 3})
				b.epoch(fit.Record{Model: m, Epoch: e, TrainLoss: 0.5, TrainAcc: 0.8, ValLoss: 0.4, ValAcc: 0.85, LR: 0.01,
					ImgPerS: 1000, Seconds: 2})
			}
			b.progress(fit.Progress{Model: m, Phase: fit.PhaseTest, Stage: si + 1, Stages: 3})
			b.line(fmt.Sprintf("training the next stage after %s", m))
		}
		b.last = time.Time{}
		b.progress(fit.Progress{Model: "cnn", Epoch: 1, Epochs: 4, Step: 3, Steps: 16, Images: 384,
			Elapsed: time.Second, Stage: 2, Stages: 3})
		b.clear()
		out.WriteString("fmnist run: train: interrupted in cnn epoch 1\n")

		lines := screen(out.String(), width)
		var bars int
		for i, l := range lines {
			if len(l) >= width {
				t.Errorf("width %d: line %d fills the terminal (%d): %q", width, i, len(l), l)
			}
			if strings.Contains(l, "[=") || strings.Contains(l, "validating...") || strings.Contains(l, "testing...") {
				bars++
				t.Errorf("width %d: stale bar at line %d: %q", width, i, l)
			}
		}
		text := strings.Join(lines, "\n")
		for _, want := range []string{"\ninterrupt: stopping", "\nfmnist run: train: interrupted in cnn epoch 1\n", "\n== CNN, stage 2 of 3: 4 epochs of 16 steps",
			"\nmlp     epoch 10/10", "\ncnn     epoch 4/4", "above the val loss"} {
			if !strings.Contains(text, want) {
				t.Errorf("width %d: screen lacks %q:\n%s", width, want, text)
			}
		}
		if t.Failed() {
			t.Logf("screen at %d columns:\n%s", width, text)
		}
	}
}

// Piped, the bar prints a plain line every `every` within a stage, none
// at the stage's first step, and nothing for the phases.
func TestBarPiped(t *testing.T) {
	var out bytes.Buffer
	b := &bar{w: &out, every: time.Hour, width: func() int { return 80 }, last: time.Now().Add(-2 * time.Hour)}
	p := cnnStep
	p.Step = 1
	b.progress(p) // the stage starts: its header, no progress line although the last line is old
	b.progress(fit.Progress{Model: "cnn", Phase: fit.PhaseValidate})
	if got := out.String(); got != "== CNN, stage 2 of 3\n" {
		t.Errorf("got %q", got)
	}
	b.every = time.Nanosecond
	p.Step = 2
	b.progress(p)
	if got := out.String(); !strings.HasSuffix(got, "cnn epoch 13/30 step 2/390  loss 0.3123 acc 89.12%  1536 img/s\n") {
		t.Errorf("got %q", got)
	}
}

func TestFmtDur(t *testing.T) {
	if got := plural(1, "epoch") + ", " + plural(4, "epoch"); got != "1 epoch, 4 epochs" {
		t.Errorf("plural: %q", got)
	}
	for d, want := range map[time.Duration]string{0: "0s", 42 * time.Second: "42s", 14*time.Minute + 2*time.Second: "14m02s",
		65 * time.Minute: "1h05m", 1500 * time.Millisecond: "2s"} {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestPrintVersion(t *testing.T) {
	for _, tc := range []struct {
		info *debug.BuildInfo
		want string
	}{
		{nil, "fmnist unknown, unknown commit, go"},
		{&debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}}, "fmnist v1.2.3, unknown commit, go1.26.0 "},
		{&debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T12:00:00Z"},
			{Key: "vcs.modified", Value: "true"}}},
			"fmnist (devel), commit 0123456789ab with local changes of 2026-12-01T12:00:00Z, go1.26.0 "},
	} {
		var b bytes.Buffer
		printVersion(&b, tc.info)
		if !strings.HasPrefix(b.String(), tc.want) || strings.Count(b.String(), "\n") != 1 {
			t.Errorf("got %q, want %q...", b.String(), tc.want)
		}
	}
	for _, args := range [][]string{{"--version"}, {"version"}, {"-version"}} {
		cmd := cliCommand(t, nil, args...)
		out, err := cmd.Output()
		if err != nil || !strings.HasPrefix(string(out), "fmnist ") || !strings.Contains(string(out), "go1.") {
			t.Errorf("%q: %v, %q", args, err, out)
		}
	}
}
