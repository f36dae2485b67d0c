package runfolder_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fmnist/fmnist/runfolder"
)

// Checkpoint names sort by stage, epoch and batch, numerically; other
// files are not checkpoints; pruning keeps the newest.
func TestCheckpoints(t *testing.T) {
	for _, tc := range []struct {
		stage          string
		epochs, batchs int
		want           string
	}{
		{"mlp", 0, 7, "1-mlp-e0000-b000007.safetensors"},
		{"cnn", 12, 0, "2-cnn-e0012-b000000.safetensors"},
		{"cnn_mlp", 1, 3, "3-cnn_mlp-e0001-b000003.safetensors"},
		{"", 0, 0, "4-done-e0000-b000000.safetensors"},
	} {
		if got := runfolder.CheckpointName(tc.stage, tc.epochs, tc.batchs); got != tc.want {
			t.Errorf("CheckpointName(%q, %d, %d) = %s, want %s", tc.stage, tc.epochs, tc.batchs, got, tc.want)
		}
	}
	dir := t.TempDir()
	cdir := filepath.Join(dir, runfolder.CheckpointDir)
	if err := os.Mkdir(cdir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := []string{"2-cnn-e0010-b000000.safetensors", "2-cnn-e0009-b000012.safetensors", "notes.txt",
		"1-mlp-e0040-b000000.safetensors", "2-cnn-e0010-b000000.safetensors.123.tmp", "3-cnn_mlp-e0000-b000001.safetensors"}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(cdir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"1-mlp-e0040-b000000.safetensors", "2-cnn-e0009-b000012.safetensors",
		"2-cnn-e0010-b000000.safetensors", "3-cnn_mlp-e0000-b000001.safetensors"}
	got, err := runfolder.ListCheckpoints(dir)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("ListCheckpoints %v (%v), want %v", got, err, want)
	}
	if err := runfolder.PruneCheckpoints(dir, 2); err != nil {
		t.Fatal(err)
	}
	if got, _ := runfolder.ListCheckpoints(dir); !slices.Equal(got, want[2:]) {
		t.Errorf("after pruning to 2: %v, want %v", got, want[2:])
	}
	if _, err := os.Stat(filepath.Join(cdir, "notes.txt")); err != nil {
		t.Errorf("pruning removed another file: %v", err)
	}
}
