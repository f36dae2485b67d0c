package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/dataset"
)

// tinyData writes a made-up dataset of 40 training and 20 test items.
func tinyData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, enc func(*gzip.Writer) error) {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		if err := enc(zw); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".gz"), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []struct {
		images, labels string
		n              int
	}{{dataset.TrainImages, dataset.TrainLabels, 40}, {dataset.TestImages, dataset.TestLabels, 20}} {
		images, labels := make([]uint8, f.n*dataset.Pixels), make([]uint8, f.n)
		for i := range labels {
			labels[i] = uint8(i % dataset.Classes)
			images[i*dataset.Pixels+i] = 255
		}
		write(f.images, func(w *gzip.Writer) error { return dataset.EncodeImages(w, images) })
		write(f.labels, func(w *gzip.Writer) error { return dataset.EncodeLabels(w, labels) })
	}
	return dir
}

func TestDataCommandTiny(t *testing.T) {
	dir := tinyData(t)
	var out, log bytes.Buffer
	if err := dataMain([]string{"--data", dir, "--val", "10", "--no-verify"}, &out, &log); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"source    dir: directory " + dir + " (--data)",
		"verified  no (--no-verify)",
		"train images (30, 28, 28) uint8", "train labels (30,) uint8",
		"val images (10, 28, 28) uint8", "val labels (10,) uint8",
		"test images (20, 28, 28) uint8", "test labels (20,) uint8",
		"9 Ankle boot          3      1      2",
		"mean 0.0013  std 0.0357", // one white pixel in 784
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(log.String(), "dataset: using directory "+dir) || strings.Contains(out.String(), "dataset: using") {
		t.Errorf("the source line belongs on stderr; stderr %q", log.String())
	}
	// Without --no-verify the made-up files fail the official checksums.
	err := dataMain([]string{"--data", dir}, &out, &log)
	if !errors.Is(err, dataset.ErrChecksum) {
		t.Errorf("verified tiny data: err = %v, want ErrChecksum", err)
	}
}

func TestDataCommandErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	tiny := tinyData(t)
	for _, tc := range []struct {
		args []string
		code int
		text []string
	}{
		{[]string{"data", "--data", missing}, 1, []string{missing, "not found", "apt-get install dataset-fashion-mnist", "--data DIR", "FMNIST_DATA"}},
		{[]string{"data", "--val", "-1"}, 2, []string{"--val -1"}},
		{[]string{"data", "--data", tiny, "--no-verify", "--val", "41"}, 2, []string{"--val 41: the training set has 40 items"}},
		{[]string{"data", "extra"}, 2, []string{`unexpected argument "extra"`}},
		{[]string{"data", "--bogus"}, 2, []string{"bogus"}},
	} {
		var stderr bytes.Buffer
		code := run(tc.args, &stderr)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d; stderr %q", tc.args, code, tc.code, stderr.String())
		}
		for _, s := range tc.text {
			if !strings.Contains(stderr.String(), s) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, stderr.String(), s)
			}
		}
	}
}

// TestDataCommandReal runs the command on the installed dataset; it skips
// when that is absent, and fails when CI=true.
func TestDataCommandReal(t *testing.T) {
	needRealData(t)
	var out, log bytes.Buffer
	if err := dataMain([]string{"--data", dataset.DebianDir}, &out, &log); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"verified  yes",
		"train images (50000, 28, 28) uint8", "train labels (50000,) uint8",
		"val images (10000, 28, 28) uint8", "val labels (10000,) uint8",
		"test images (10000, 28, 28) uint8", "test labels (10000,) uint8",
		"0 T-shirt/top      5000   1000   1000",
		"9 Ankle boot       5000   1000   1000",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if testing.Short() {
		return
	}
	out.Reset()
	if err := dataMain([]string{"--data", dataset.DebianDir, "--json", "--seed", "2", "--val", "6000"}, &out, &log); err != nil {
		t.Fatal(err)
	}
	var got dataInfo
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v in %s", err, out.String())
	}
	if got.Source != "dir" || !got.Verified || got.Seed != 2 || len(got.Splits) != 3 ||
		got.Splits[0].Images[0] != 54000 || got.Splits[1].ClassCounts[4] != 600 || got.Splits[2].Labels[0] != 10000 {
		t.Errorf("json: %+v", got)
	}
	if got.TrainMean < 0.28 || got.TrainMean > 0.29 || got.TrainStd < 0.35 || got.TrainStd > 0.36 {
		t.Errorf("train mean %v std %v", got.TrainMean, got.TrainStd)
	}
}
