//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fmnist/fmnist/report/reporttest"
)

// A FIFO or /dev/zero given where a file is read is refused at once with
// an error naming it: nothing blocks on the FIFO or reads without end.
func TestSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.yaml")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	runDir := func(name, link string) string {
		d := filepath.Join(dir, name)
		os.Mkdir(d, 0o755)
		if _, err := reporttest.Write(d, reporttest.Spec{Models: []string{"cnn"}, Epochs: 1, Images: 10}); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(d, link))
		if err := os.Symlink("/dev/zero", filepath.Join(d, link)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	data := tinyData(t)
	model := savedModel(t)
	out := func() string { return filepath.Join(t.TempDir(), "out") }
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"config fifo", []string{"run", "--config", fifo, "--out", out()}, fifo + ": not a regular file (a named pipe)"},
		{"config /dev/zero", []string{"run", "--config", zero, "--out", out()}, zero + ": not a regular file (a character device)"},
		{"train config fifo", []string{"train", "mlp", "--config", fifo, "--out", out()}, "not a regular file"},
		{"eval model fifo", []string{"eval", fifo}, fifo + ": not a regular file"},
		{"eval model /dev/zero", []string{"eval", zero}, zero + ": not a regular file"},
		{"predict model fifo", []string{"predict", fifo, fifo}, fifo + ": not a regular file"},
		{"predict image fifo", []string{"predict", model, fifo}, "1 of 1 images could not be read"},
		{"predict image /dev/zero", []string{"predict", model, zero}, "1 of 1 images could not be read"},
		{"backbone fifo", []string{"train", "cnn_mlp", "--backbone", fifo, "--out", out()}, fifo + ": not a regular file"},
		{"report config.json", []string{"report", "--no-images", runDir("r1", "config.json")}, "config.json: not a regular file"},
		{"report results.json", []string{"report", "--no-images", runDir("r2", "results.json")}, "results.json: not a regular file"},
		{"report metrics.csv", []string{"report", "--no-images", runDir("r3", "metrics.csv")}, "metrics.csv: not a regular file"},
		{"report predictions.csv", []string{"report", "--no-images", runDir("r4", "predictions.csv")}, "predictions.csv: not a regular file"},
		{"data fifo", []string{"data", "--no-verify", "--data", fifoData(t, data)}, "Fashion-MNIST files not found: no t10k-labels"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			done := make(chan int, 1)
			go func() { done <- run(c.args, &stderr) }()
			select {
			case code := <-done:
				if code != 1 || !strings.Contains(stderr.String(), c.want) {
					t.Fatalf("exit %d, stderr %q; want 1 and %q", code, stderr.String(), c.want)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("hangs")
			}
		})
	}
}

// fifoData is a copy of the tiny dataset whose test labels file is a FIFO.
func fifoData(t *testing.T, src string) string {
	dir := t.TempDir()
	ents, _ := os.ReadDir(src)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(e.Name(), "t10k-labels") {
			if err := syscall.Mkfifo(filepath.Join(dir, e.Name()), 0o600); err != nil {
				t.Fatal(err)
			}
			continue
		}
		writeFile(t, filepath.Join(dir, e.Name()), b)
	}
	return dir
}
