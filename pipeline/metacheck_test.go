package pipeline

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/model"
)

// The format 1 files (data checksum only) that fmnist wrote before the
// header was covered; see checkpoint/header_test.go.
const (
	v1Model  = "../checkpoint/testdata/v1-model.safetensors"
	v1Resume = "../checkpoint/testdata/v1-resume.safetensors"
)

// edited writes src with each old replaced by new, which must be as long
// so that the file stays valid safetensors, and returns its path.
func edited(t *testing.T, src string, kv ...string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(kv); i += 2 {
		if len(kv[i]) != len(kv[i+1]) || !bytes.Contains(b, []byte(kv[i])) {
			t.Fatalf("cannot replace %q by %q in %s", kv[i], kv[i+1], src)
		}
		b = bytes.Replace(b, []byte(kv[i]), []byte(kv[i+1]), 1)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// rewritten is src written again by this version: every byte covered.
func rewritten(t *testing.T, src string) string {
	t.Helper()
	f, err := checkpoint.Read(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := checkpoint.Write(path, f); err != nil {
		t.Fatal(err)
	}
	return path
}

// unchecked drops both checksums from a format 1 file, as a file PyTorch
// wrote has none.
var unchecked = []string{`"checksum"`, `"checksun"`}

// format is the format entry of a format 1 file, and testAcc7 an
// accuracy of 7 as long, to put in its place.
const format = `"format":"fmnist/1"`

var testAcc7 = `"test_acc":"7.` + strings.Repeat("0", len(format)-len(`"test_acc":"7."`)) + `"`

func TestModelMetaValues(t *testing.T) {
	tests := []struct {
		name, path string
		err        error
		msg        string
	}{
		{"format 1", v1Model, nil, ""},
		{"this version", rewritten(t, v1Model), nil, ""},
		{"no checksum", edited(t, v1Model, unchecked...), nil, ""},
		{"this version, a digit of pixel_mean changed", edited(t, rewritten(t, v1Model), `"pixel_mean":"0.2`, `"pixel_mean":"0.3`),
			checkpoint.ErrChecksum, "header hashes to"},
		{"pixel_mean over 1", edited(t, v1Model, `"pixel_mean":"0.`, `"pixel_mean":"9.`), model.ErrMetadata,
			`data checked, so its values are checked): metadata value out of range: pixel_mean "9.2860402"`},
		{"pixel_std negative", edited(t, v1Model, `"pixel_std":"0.`, `"pixel_std":"-.`), model.ErrMetadata, `pixel_std "-.3530239"`},
		{"pixel_std zero", edited(t, v1Model, `"pixel_std":"0.3530239"`, `"pixel_std":"000000000"`), model.ErrMetadata, `pixel_std "000000000"`},
		{"pixel_std infinite", edited(t, v1Model, `"pixel_std":"0.3530239"`, `"pixel_std":"-Infinity"`), model.ErrMetadata, `pixel_std "-Infinity"`},
		{"pixel_std overflows", edited(t, v1Model, `"pixel_std":"0.3530239"`, `"pixel_std":"1e9999999"`), model.ErrMetadata, `pixel_std "1e9999999"`},
		{"pixel_mean NaN, no checksum", edited(t, v1Model, append(unchecked, `"pixel_mean":"0.2860402"`, `"pixel_mean":"NaN      "`)...),
			model.ErrMetadata, `unchecked, so its values are checked): metadata value out of range: pixel_mean "NaN      "`},
		{"no pixel_mean, no checksum", edited(t, v1Model, append(unchecked, `"pixel_mean"`, `"pixel_meal"`)...), model.ErrMetadata, "no pixel_mean"},
		{"an accuracy over 1, no checksum", edited(t, v1Model, append(unchecked, format, testAcc7)...), model.ErrMetadata,
			`test_acc "7.000`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := model.LoadModel(tc.path)
			if !errors.Is(err, tc.err) || err != nil && (!strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), tc.path)) {
				t.Fatalf("err = %v\nwant %v naming the file and saying %q", err, tc.err, tc.msg)
			}
		})
	}
}

// A resume from a format 1 checkpoint checks the results it would report
// as its own; from one this version wrote, the checksum covers them.
func TestResumeMetaValues(t *testing.T) {
	tests := []struct {
		name, path string
		err        error
		msg        string
	}{
		{"format 1", v1Resume, nil, ""},
		{"this version", rewritten(t, v1Resume), nil, ""},
		{"this version, a test accuracy changed", edited(t, rewritten(t, v1Resume), `\"test_acc\":0.4`, `\"test_acc\":0.9`),
			checkpoint.ErrChecksum, "header hashes to"},
		{"test accuracy over 1", edited(t, v1Resume, `\"test_acc\":0.`, `\"test_acc\":9.`), model.ErrMetadata,
			"data checked, so its values are checked: metadata value out of range: mlp test_acc 9.485, want 0 to 1"},
		{"test loss negative", edited(t, v1Resume, `\"test_loss\":1.`, `\"test_loss\":-1`), model.ErrMetadata, "mlp test_loss -1"},
		{"best epoch past the end", edited(t, v1Resume, `\"best_epoch\":1`, `\"best_epoch\":7`), model.ErrMetadata, "mlp best_epoch 7, want 0 to 2"},
		{"a record's val_acc over 1", edited(t, v1Resume, `\"val_acc\":\"0.51\"`, `\"val_acc\":\"5.51\"`), model.ErrMetadata,
			"record mlp epoch 1: val_acc 5.51"},
		{"a record's loss negative", edited(t, v1Resume, `\"val_loss\":\"0.96`, `\"val_loss\":\"-1.6`), model.ErrMetadata,
			"record mlp epoch 2: val_loss -1.6"},
		{"pixel_std negative, no checksum", edited(t, v1Resume, append(unchecked, `"pixel_std":"0.`, `"pixel_std":"-.`)...), model.ErrMetadata,
			"unchecked, so its values are checked: metadata value out of range: pixel_std -0.13318312"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadCheckpoint(tc.path)
			if !errors.Is(err, tc.err) || err != nil && (!strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), tc.path)) {
				t.Fatalf("err = %v\nwant %v naming the file and saying %q", err, tc.err, tc.msg)
			}
			if errors.Is(tc.err, model.ErrMetadata) && !errors.Is(err, fit.ErrCheckpoint) {
				t.Errorf("err = %v, want it to wrap fit.ErrCheckpoint too", err)
			}
		})
	}
}
