package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fmnist/fmnist/dataset"
)

// pipelineData is the --data flags of the tests that run the pipeline on
// the real data several times. Under the race detector, scoring three
// models on all 10000 test images in each run made TestSignalResume take
// 28 minutes here: there the data is the real train files and the first
// 1000 real test images, which no longer match the published checksums,
// hence --no-verify.
func pipelineData(t *testing.T) []string {
	t.Helper()
	needRealData(t)
	if !raceEnabled {
		return []string{"--data", realData}
	}
	dir := t.TempDir()
	for _, name := range []string{dataset.TrainImages, dataset.TrainLabels} {
		b, err := os.ReadFile(filepath.Join(realData, name+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name+".gz"), b)
	}
	const n = 1000
	for _, f := range []struct {
		name   string
		images bool
	}{{dataset.TestImages, true}, {dataset.TestLabels, false}} {
		r, err := os.Open(filepath.Join(realData, f.name+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dir, f.name))
		if err != nil {
			t.Fatal(err)
		}
		if f.images {
			var px []uint8
			if px, _, err = dataset.DecodeImages(r, f.name); err == nil {
				err = dataset.EncodeImages(out, px[:n*dataset.Pixels])
			}
		} else {
			var labels []uint8
			if labels, err = dataset.DecodeLabels(r, f.name); err == nil {
				err = dataset.EncodeLabels(out, labels[:n])
			}
		}
		r.Close()
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return []string{"--data", dir, "--no-verify"}
}
