package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
)

// export writes MODEL.onnx beside the model, or -o, and says what it wrote.
func TestExportONNX(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cnn.safetensors")
	m := nn.MustBuild(nn.Spec{Kind: "cnn", Widths: []int{4, 8}, PoolAfter: []int{0}, BatchNorm: true}, 1)
	if err := model.SaveModel(path, m, map[string]string{"pixel_mean": "0.3", "pixel_std": "0.35"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		out  string
	}{
		{[]string{path}, filepath.Join(dir, "cnn.onnx")},
		{[]string{"--format", "onnx", "-o", filepath.Join(dir, "x.bin"), path}, filepath.Join(dir, "x.bin")},
	} {
		var stdout, stderr bytes.Buffer
		if err := exportModelMain(tc.args, &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		st, err := os.Stat(tc.out)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if want := tc.out + ": cnn model, "; !strings.HasPrefix(stdout.String(), want) ||
			!strings.Contains(stdout.String(), " bytes,") || st.Size() < 4*int64(4*9+8*4*9) {
			t.Errorf("%v: stdout %q, want %q...; file of %d bytes", tc.args, stdout.String(), want, st.Size())
		}
	}
}
