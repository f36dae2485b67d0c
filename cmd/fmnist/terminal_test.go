package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ptyRun runs `fmnist run` on the tiny pipeline and the real data in a
// child whose stdout and stderr are a pseudo-terminal of cols columns, as
// a user's window would be, and returns all it wrote there and the run
// folder.
func ptyRun(t *testing.T, cols int) (string, string) {
	t.Helper()
	needRealData(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(cfg, []byte(tinyYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	cmd := cliCommand(t, []string{"COLUMNS=", "TERM=xterm"}, "run", "--config", cfg, "--data", realData, "--out", out)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cols), Rows: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var raw bytes.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(&raw, tty)
		done <- err
	}()
	werr := cmd.Wait()
	select {
	case err := <-done:
		// Linux ends a pty master's reads with EIO once the child's side
		// is closed.
		if err != nil && !errors.Is(err, syscall.EIO) {
			t.Fatalf("reading the terminal: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the terminal did not close after the run ended")
	}
	if werr != nil {
		t.Fatalf("fmnist run at %d columns: %v\n%s", cols, werr, raw.String())
	}
	return raw.String(), out
}

// barRE matches the progress bar and the bar's phase notes, which must
// never stay on the screen once a line is printed after them.
var barRE = regexp.MustCompile(`\[[= ]{8,}\]|validating\.\.\.|extracting the CNN's features\.\.\.|testing\.\.\.`)

// In a 60- and a 120-column terminal a real run draws its bar, and leaves
// a final screen in which no line is wider than the terminal (none
// wrapped), no bar or phase note is left behind, and the epoch lines and
// results are whole.
func TestRunInTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three small models twice; skipped with -short")
	}
	for _, cols := range []int{60, 120} {
		raw, dir := ptyRun(t, cols)
		// The only control sequence the bar may use is erase-to-end-of-line:
		// anything else would need a real terminal emulator to check.
		if n, k := strings.Count(raw, "\x1b"), strings.Count(raw, "\x1b[K"); n != k {
			t.Errorf("%d columns: %d escape sequences other than ESC [K in the output", cols, n-k)
		}
		// The bar was drawn at all, in place (after a carriage return).
		draws := 0
		for _, seg := range strings.Split(raw, "\r") {
			if barRE.MatchString(strings.SplitN(seg, "\n", 2)[0]) {
				draws++
			}
		}
		if draws < 3 {
			t.Errorf("%d columns: the bar was drawn %d times, want at least 3", cols, draws)
		}

		// The run folder's path is the user's, of any length: the lines
		// around it must fit, with a short name in its place.
		lines := screen(strings.ReplaceAll(raw, dir, "OUT"), cols)
		for i, l := range lines {
			if len(l) >= cols {
				t.Errorf("%d columns: line %d reaches the last column (%d), so the terminal wrapped it: %q", cols, i, len(l), l)
			}
			if barRE.MatchString(l) {
				t.Errorf("%d columns: stale bar at line %d: %q", cols, i, l)
			}
		}
		text := strings.Join(lines, "\n")
		for _, want := range []string{"\n== MLP, stage 1 of 3: 2 epochs", "\n== CNN, stage 2 of 3", "\n== cnn_mlp, stage 3 of 3",
			"\nmlp     epoch 2/2  train loss", "\ncnn     epoch 1/2", "\ncnn_mlp epoch 2/2", "with val", "\nwrote OUT in ", "\nmlp          25482      2       2", "\ncnn time to val acc:"} {
			if !strings.Contains(text, want) {
				t.Errorf("%d columns: the screen lacks %q", cols, want)
			}
		}
		// Accuracies in percent, each whole on one line.
		if n := len(regexp.MustCompile(`acc \d{1,3}\.\d\d%`).FindAllString(text, -1)); n < 12 {
			t.Errorf("%d columns: %d accuracies in percent on the screen, want 2 per epoch line (12)", cols, n)
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("the screen at %d columns:\n%s", cols, text)
		}
	}
}
