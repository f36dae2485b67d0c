package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fmnist/fmnist/runfolder"
)

// The tests here run the command line in child processes: the test binary
// itself, which TestHelperCLI turns into fmnist when FMNIST_CLI_CHILD is
// set. That is how a signal can be sent to a run mid-step.

const cliChildEnv = "FMNIST_CLI_CHILD"

// TestHelperCLI is not a test: in a child started by cliCommand it runs
// the arguments after "--" as fmnist would and exits.
func TestHelperCLI(t *testing.T) {
	if os.Getenv(cliChildEnv) != "1" {
		return
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(run(args, os.Stderr))
}

// cliCommand is `fmnist args...` in a child process, with extra
// environment variables.
func cliCommand(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperCLI$", "--"}, args...)...)
	cmd.Env = append(append(os.Environ(), cliChildEnv+"=1"), env...)
	return cmd
}

// needRealData skips without the installed dataset, and fails in CI.
func needRealData(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(realData, "train-images-idx3-ubyte.gz")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dataset missing in CI: %v", err)
		}
		t.Skipf("dataset not installed: %v", err)
	}
}

// tinyYAML is a pipeline small enough to run in a second or two, with
// dropout, batch norm and augmentation, so that a resume must restore
// every kind of state.
const tinyYAML = `# a tiny pipeline for tests
seed: 5
val: 1000
subset: 1500
mlp:
  model: {kind: mlp, hidden: [32], dropout: 0.2}
  train: {epochs: 2, batch: 64}
cnn:
  model: {kind: cnn, widths: [8, 16], pool_after: [0, 1], batch_norm: true, dropout: 0.1}
  train: {epochs: 2, batch: 64, lr: 0.02}
  augment: {pad: 2, flip: true, erase: 0.2}
cnn_mlp:
  model: {kind: mlp, hidden: [16], dropout: 0.3}
  train: {epochs: 2, batch: 64}
`

// sameRun fails unless two run folders hold the same bytes in every file
// that does not record a time, and the same results but for train_s.
func sameRun(t *testing.T, a, b string, models ...string) {
	t.Helper()
	files := []string{"config.json", "metrics.csv", "predictions.csv"}
	for _, m := range models {
		files = append(files, m+".safetensors")
	}
	for _, f := range files {
		x, err := os.ReadFile(filepath.Join(a, f))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between %s and %s", f, a, b)
		}
	}
	results := func(dir string) map[string]runfolder.Result {
		r, err := runfolder.ReadResults(dir)
		if err != nil {
			t.Fatal(err)
		}
		for m, v := range r {
			v.TrainS = 0
			r[m] = v
		}
		return r
	}
	if ra, rb := results(a), results(b); !reflect.DeepEqual(ra, rb) {
		b1, _ := json.Marshal(ra)
		b2, _ := json.Marshal(rb)
		t.Errorf("results differ:\n%s\n%s", b1, b2)
	}
}

// interrupt starts `fmnist args...` printing a progress line a step, sends
// sig once a line contains at, and returns the resume command of the last
// line of stderr, which must say how to resume, after checking the exit
// status.
func interrupt(t *testing.T, sig os.Signal, at string, args ...string) []string {
	t.Helper()
	cmd := cliCommand(t, nil, append(args, "--progress-every", "1ns")...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sent := false
	var last string
	var log []string
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		line := sc.Text()
		log = append(log, line)
		if line != "" {
			last = line
		}
		if !sent && strings.Contains(line, at) {
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			sent = true
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	// 128 + the signal's number, as a shell expects of a process that a
	// signal ended: 130 for SIGINT, 143 for SIGTERM.
	code := 128 + int(sig.(syscall.Signal))
	if !sent || !errors.As(err, &ee) || ee.ExitCode() != code {
		t.Fatalf("signal sent: %v; exit: %v, want %d; stderr tail:\n%s", sent, err, code, strings.Join(log[max(0, len(log)-5):], "\n"))
	}
	const how = "; resume with: "
	i := strings.Index(last, how)
	if !strings.HasPrefix(last, "fmnist "+args[0]+": fit: interrupted in ") || i < 0 {
		t.Fatalf("last line %q does not say how to resume", last)
	}
	t.Logf("stopped: %s", last)
	resume := strings.Fields(last[i+len(how):])
	if len(resume) < 4 || resume[0] != os.Args[0] {
		t.Fatalf("resume command %q", resume)
	}
	return resume[1:]
}

// A run stopped by SIGINT mid-epoch, then resumed with the command line it
// printed, ends with the same files as a run never stopped; so does train
// stopped by SIGTERM.
func TestSignalResume(t *testing.T) {
	needRealData(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(cfg, []byte(tinyYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		sig   os.Signal
		at    string
		args  []string // without --out
		files []string
	}{
		// In the cnn, whose steps are slow enough that the signal lands
		// before the stage ends even on a loaded machine.
		{"run SIGINT", os.Interrupt, "cnn epoch 1/2 step 2/", []string{"run"}, []string{"mlp", "cnn", "cnn_mlp"}},
		{"train SIGTERM", syscall.SIGTERM, "cnn epoch 2/2 step 2/", []string{"train", "cnn"}, []string{"cnn"}},
	}
	if testing.Short() {
		// Six runs of the pipeline, each loading the data: too slow under
		// the race detector. TestStopOnSignal covers the handler.
		t.Skip("runs the pipeline six times; the full suite runs it")
	}
	data := pipelineData(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			common := append(append([]string{"--config", cfg}, data...), "--keep", "3")
			ref, stopped := filepath.Join(t.TempDir(), "ref"), filepath.Join(t.TempDir(), "stopped")
			if out, err := cliCommand(t, nil, append(append(tc.args, common...), "--out", ref)...).CombinedOutput(); err != nil {
				t.Fatalf("uninterrupted: %v\n%s", err, out)
			}
			resume := interrupt(t, tc.sig, tc.at, append(append(tc.args, common...), "--out", stopped)...)
			want := append(append([]string{tc.args[0], "--resume", stopped}, data...), "--keep", "3")
			if !reflect.DeepEqual(resume, want) {
				t.Errorf("resume command %q, want %q", resume, want)
			}
			if _, err := os.Stat(filepath.Join(stopped, "results.json")); tc.name == "run SIGINT" && err != nil {
				t.Errorf("the finished mlp stage left no results.json: %v", err)
			}
			if out, err := cliCommand(t, nil, resume...).CombinedOutput(); err != nil {
				t.Fatalf("resume: %v\n%s", err, out)
			}
			sameRun(t, ref, stopped, tc.files...)
			if tc.args[0] == "run" {
				if _, err := os.Stat(filepath.Join(stopped, "report.html")); err != nil {
					t.Errorf("no report after the resumed run: %v", err)
				}
			}
			// Resuming again has nothing to do.
			out, err := cliCommand(t, nil, resume...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "the run finished; there is nothing to resume") {
				t.Errorf("resuming a finished run: %v\n%s", err, out)
			}
			t.Logf("%s in %v", tc.name, time.Since(start).Round(time.Millisecond))
		})
	}
}

// The handler turns the stop flag on at SIGINT and lets go of the signal
// after it, so that a second one would end the process.
func TestStopOnSignal(t *testing.T) {
	var log bytes.Buffer
	var mu sync.Mutex
	w := writerFunc(func(b []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return log.Write(b) })
	stop, caught, release := stopOnSignal(func(s string) { w.Write([]byte(s + "\n")) })
	defer release()
	if stop() || caught() != nil {
		t.Fatal("stop before any signal")
	}
	// os.Process.Signal rather than syscall.Kill, so that the package's
	// tests still build (and vet) for Windows.
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if err := self.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !stop() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !stop() || caught() != os.Interrupt {
		t.Fatalf("SIGINT did not set the stop flag: caught %v", caught())
	}
	for time.Now().Before(deadline) {
		mu.Lock()
		s := log.String()
		mu.Unlock()
		if strings.Contains(s, "stopping after this step to save a checkpoint") {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Errorf("no note on stderr: %q", log.String())
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// Two runs with the same seed and config give byte-identical metrics.csv
// and model files, one with GOMAXPROCS=1 and one with GOMAXPROCS=2: the
// parallel kernels split work but never the order of a reduction.
func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	needRealData(t)
	if testing.Short() {
		t.Skip("two runs of the pipeline; TestSignalResume covers a rerun under -short")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(cfg, []byte(tinyYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	var outs []string
	data := pipelineData(t)
	for _, procs := range []string{"1", "2"} {
		out := filepath.Join(dir, "procs"+procs)
		cmd := cliCommand(t, []string{"GOMAXPROCS=" + procs}, append(append([]string{"run", "--config", cfg}, data...), "--out", out)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("GOMAXPROCS=%s: %v\n%s", procs, err, b)
		}
		outs = append(outs, out)
	}
	sameRun(t, outs[0], outs[1], "mlp", "cnn", "cnn_mlp")
}
