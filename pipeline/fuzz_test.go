package pipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/model"
)

// fuzzSeeds adds a testdata file to f three ways: as fmnist wrote it (format
// 1), written again by this version, and with both checksums renamed away.
// The fuzzer cannot get past a checksum, so only the last lets its
// mutations reach the metadata and tensors behind it.
func fuzzSeeds(f *testing.F, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	c, err := checkpoint.Decode(bytes.NewReader(b), int64(len(b)), path)
	if err != nil {
		f.Fatal(err)
	}
	var cur bytes.Buffer
	if err := checkpoint.Encode(&cur, c); err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(cur.Bytes())
	f.Add(bytes.ReplaceAll(b, []byte(`"checksum"`), []byte(`"checksun"`)))
}

// The seeds are whole files of tens of kilobytes, and `go test -fuzz`
// shrinks each new input it finds for up to a minute by default, reporting
// no executions meanwhile (FuzzLoadModel: 4 in 25 s). Run these with
// -fuzzminimizetime 200x (about 1000 executions a second here).

// fuzzReader fuzzes read, a reader of the file at path that returns its
// error: an error must name the file on one line, never a panic; read
// checks itself what it loaded.
func fuzzReader(f *testing.F, seed string, max int, read func(t *testing.T, path string) error) {
	fuzzSeeds(f, seed)
	path := filepath.Join(f.TempDir(), "fuzz.safetensors")
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > max {
			return
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := read(t, path); err != nil && (!strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n")) {
			t.Fatalf("error %q does not name the file on one line", err)
		}
	})
}

// FuzzLoadModel: a model file of any bytes loads or fails, never a panic
// and never more memory than the budget (the spec in the metadata is
// checked before anything is built from it).
func FuzzLoadModel(f *testing.F) {
	fuzzReader(f, v1Model, 1<<16, func(t *testing.T, path string) error {
		l, err := model.LoadModel(path)
		if err != nil {
			return err
		}
		if l.Predictor == nil || l.Model == nil {
			t.Fatalf("loaded a %q model without a predictor", l.Kind)
		}
		if mean, std, err := model.PixelNorm(l.Meta); err != nil || !(mean >= 0 && mean <= 1 && std > 0 && std <= 1) {
			t.Fatalf("pixel norm %v, %v (%v) of a loaded file", mean, std, err)
		}
		return nil
	})
}

// FuzzReadCheckpoint: a resume checkpoint of any bytes reads or fails;
// what reads has its numbers in range.
func FuzzReadCheckpoint(f *testing.F) {
	fuzzReader(f, v1Resume, 1<<17, func(t *testing.T, path string) error {
		c, err := ReadCheckpoint(path)
		if err != nil {
			return err
		}
		if _, err := checkResumeValues(c, checkpoint.Unchecked); err != nil {
			t.Fatalf("read a checkpoint whose values are out of range: %v", err)
		}
		return nil
	})
}
