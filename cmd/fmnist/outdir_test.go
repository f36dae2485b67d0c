package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fmnist/fmnist/internal/runlock"
)

func TestNewOut(t *testing.T) {
	for _, c := range []struct {
		name  string
		files []string // made inside the folder first; a trailing / makes a folder
		held  bool     // the folder is locked by someone else
		want  string   // "" for success, else part of the error
		gone  []string // files that must be gone after success
	}{
		{"new", nil, false, "", nil},
		{"empty", []string{""}, false, "", nil},
		{"config.json alone: a run that died before its first checkpoint", []string{"config.json"}, false, "", nil},
		{"a stopped run", []string{"config.json", "checkpoints/"}, false, "already holds a run", nil},
		{"a finished run", []string{"config.json", "results.json", "mlp.safetensors"}, false, "already holds a run", nil},
		{"results of something else", []string{"results.json", "plots/"}, false, "is not empty (plots, results.json) and holds no run", nil},
		{"a user's file", []string{"notes.txt"}, false, "is not empty (notes.txt)", nil},
		{"only temp files of a killed run", []string{".config.json.tmp-123", ".metrics.csv.tmp-9"}, false, "",
			[]string{".config.json.tmp-123", ".metrics.csv.tmp-9"}},
		{"a lock file of a dead process", []string{runlock.Name}, false, "", nil},
		{"in use", nil, true, "in use by another fmnist process", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			for _, f := range c.files {
				p := filepath.Join(dir, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if strings.HasSuffix(f, "/") || f == "" {
					os.MkdirAll(p, 0o755)
				} else if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if c.held {
				os.MkdirAll(dir, 0o755)
				l, err := runlock.Acquire(dir)
				if err != nil {
					t.Fatal(err)
				}
				defer l.Release()
			}
			l, err := newOut(dir)
			if c.want == "" {
				if err != nil {
					t.Fatalf("newOut: %v", err)
				}
				defer l.Release()
				if _, err := runlock.Acquire(dir); !errors.Is(err, runlock.ErrLocked) {
					t.Errorf("the folder is not locked after newOut: %v", err)
				}
				for _, g := range c.gone {
					if _, err := os.Stat(filepath.Join(dir, g)); err == nil {
						t.Errorf("%s is still there", g)
					}
				}
				return
			}
			if err == nil {
				l.Release()
				t.Fatalf("newOut succeeded, want an error with %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("newOut: %v, want %q", err, c.want)
			}
			if c.held {
				return
			}
			// A refused folder is not left locked.
			l2, err := runlock.Acquire(dir)
			if err != nil {
				t.Fatalf("refused folder left locked: %v", err)
			}
			l2.Release()
		})
	}
}

// Runs started in the same second get folders of their own.
func TestNewRunDirUnique(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "runs")
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := newRunDir(parent, now)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
			} else if seen[d] {
				t.Errorf("%s given twice", d)
			}
			seen[d] = true
		}()
	}
	wg.Wait()
	if !seen[filepath.Join(parent, "20261201-120000")] || !seen[filepath.Join(parent, "20261201-120000-8")] {
		t.Errorf("folders %v, want 20261201-120000 and -2 to -8", seen)
	}
}

// tinyConfig is a run that takes a second on tinyData.
const tinyConfig = `val: 10
mlp: {model: {hidden: [8], batch_norm: false}, train: {epochs: 1, batch: 8}}
cnn: {model: {widths: [4], pool_after: [0]}, train: {epochs: 1, batch: 8}, augment: {pad: 0, flip: false, erase: 0}}
cnn_mlp: {model: {hidden: [8]}, train: {epochs: 1, batch: 8}}
`

// Two processes given one --out: one runs, the other is refused, whatever
// the timing, and the folder holds the one run's files.
func TestTwoRunsOneFolder(t *testing.T) {
	data := tinyData(t)
	cfg := writeFile(t, filepath.Join(t.TempDir(), "tiny.yaml"), []byte(tinyConfig))
	out := filepath.Join(t.TempDir(), "out")
	type result struct {
		err    error
		stderr string
	}
	res := make([]result, 2)
	var wg sync.WaitGroup
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := cliCommand(t, nil, "run", "--data", data, "--no-verify", "--config", cfg, "--out", out,
				"--seed", []string{"1", "2"}[i])
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			res[i].err = cmd.Run()
			res[i].stderr = stderr.String()
		}()
	}
	wg.Wait()
	ok := 0
	for i, r := range res {
		if r.err == nil {
			ok++
			continue
		}
		t.Logf("run %d refused: %s", i, strings.TrimSpace(r.stderr))
		if !strings.Contains(r.stderr, "in use by another fmnist process") && !strings.Contains(r.stderr, "already holds a run") {
			t.Errorf("run %d: %v: %s", i, r.err, r.stderr)
		}
	}
	if ok != 1 {
		t.Fatalf("%d runs succeeded, want 1: %+v", ok, res)
	}
	b, err := os.ReadFile(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	winner := 1
	if res[1].err == nil {
		winner = 2
	}
	if !strings.Contains(string(b), `"seed": `+string(rune('0'+winner))) {
		t.Errorf("config.json is not the config of the run that succeeded (seed %d):\n%s", winner, b)
	}
}

// Settings that cannot work are refused, each naming what is wrong.
func TestRefusedSettings(t *testing.T) {
	dir := t.TempDir()
	data := tinyData(t)
	cfg := writeFile(t, filepath.Join(dir, "tiny.yaml"), []byte(tinyConfig))
	val0 := writeFile(t, filepath.Join(dir, "val0.yaml"), []byte("val: 0\n"))
	nan := writeFile(t, filepath.Join(dir, "nan.yaml"), []byte("head:\n  train:\n    lr: .nan\n"))
	bom := writeFile(t, filepath.Join(dir, "bom.json"), []byte("\ufeff"+`{"val": -3}`))
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"data: val takes everything", []string{"data", "--data", data, "--no-verify", "--val", "40"}, 2, "--val 40: the training set has 40 items"},
		{"report: mistakes without bound", []string{"report", "--mistakes", "1000000", dir}, 2, "--mistakes 1000000: want 1 to 1000"},
		{"run: subset above the data", []string{"run", "--data", data, "--no-verify", "--config", cfg, "--subset", "31", "--out", filepath.Join(dir, "o1")}, 1, "subset 31: the train split has only 30 images"},
		{"run: val 0", []string{"run", "--config", val0, "--out", filepath.Join(dir, "o2")}, 2, "val 0, want in [1, 60000)"},
		{"run: NaN names its key", []string{"run", "--config", nan, "--out", filepath.Join(dir, "o3")}, 1, "head.train.lr: NaN"},
		{"run: a BOM is read past", []string{"run", "--config", bom, "--out", filepath.Join(dir, "o4")}, 2, "val -3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(c.args, &stderr); code != c.code || !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr.String(), c.code, c.want)
			}
		})
	}
}
