package train

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/checkpoint"
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

// fuzzFile writes b to a file in dir for a reader that takes a path.
func fuzzFile(t *testing.T, dir string, b []byte) string {
	path := filepath.Join(dir, "fuzz.safetensors")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// FuzzLoadModel: a model file of any bytes loads or fails with one line
// that names it, never a panic and never more memory than the budget (the
// spec in the metadata is checked before anything is built from it).
func FuzzLoadModel(f *testing.F) {
	fuzzSeeds(f, v1Model)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		path := fuzzFile(t, dir, b)
		l, err := LoadModel(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q does not name the file on one line", err)
			}
			return
		}
		if l.Predictor == nil || l.Model == nil {
			t.Fatalf("loaded a %q model without a predictor", l.Kind)
		}
		if mean, std, err := PixelNorm(l.Meta); err != nil || !(mean >= 0 && mean <= 1 && std > 0 && std <= 1) {
			t.Fatalf("pixel norm %v, %v (%v) of a loaded file", mean, std, err)
		}
	})
}

// FuzzReadCheckpoint: a resume checkpoint of any bytes reads or fails with
// an error naming it; what reads has its numbers in range.
func FuzzReadCheckpoint(f *testing.F) {
	fuzzSeeds(f, v1Resume)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<17 {
			return
		}
		path := fuzzFile(t, dir, b)
		c, err := ReadCheckpoint(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q does not name the file on one line", err)
			}
			return
		}
		if _, err := checkResumeValues(c, checkpoint.Unchecked); err != nil {
			t.Fatalf("read a checkpoint whose values are out of range: %v", err)
		}
	})
}
