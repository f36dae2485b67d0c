package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/dataset"
)

// hugePNG writes a valid PNG header of a 16-bit picture w×h pixels; its
// data is a single pixel's, which DecodeConfig never reads.
func hugePNG(t *testing.T, path string, w, h uint32) string {
	t.Helper()
	img := image.NewRGBA64(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.RGBA64{1, 2, 3, 65535})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	p := b.Bytes()
	// The IHDR chunk: length at 8, "IHDR" at 12, width at 16, height at 20, CRC at 29.
	binary.BigEndian.PutUint32(p[16:], w)
	binary.BigEndian.PutUint32(p[20:], h)
	binary.BigEndian.PutUint32(p[29:], crc32.ChecksumIEEE(p[12:29]))
	return writeFile(t, path, p)
}

// hugeData is a dataset folder whose IDX headers claim 130 million images
// (102 GB of pixels), followed by 50 images of data.
func hugeData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	const n = 130_000_000
	for _, f := range []struct {
		name string
		head []uint32
		item int
	}{
		{dataset.TrainImages, []uint32{0x803, n, 28, 28}, dataset.Pixels}, {dataset.TrainLabels, []uint32{0x801, n}, 1},
		{dataset.TestImages, []uint32{0x803, n, 28, 28}, dataset.Pixels}, {dataset.TestLabels, []uint32{0x801, n}, 1},
	} {
		var b []byte
		for _, v := range f.head {
			b = binary.BigEndian.AppendUint32(b, v)
		}
		writeFile(t, filepath.Join(dir, f.name), append(b, make([]byte, 50*f.item)...))
	}
	return dir
}

// Every command, given inputs crafted to need about 100 GB or more, exits 1
// with a clear error under ulimit -v of 4 GB, before allocating it.
func TestMemoryBudget(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ulimit -v is for Linux")
	}
	dir := t.TempDir()
	data := tinyData(t)
	wide := writeFile(t, filepath.Join(dir, "wide.yaml"), []byte(strings.Replace(tinyConfig,
		"cnn: {model: {widths: [4], pool_after: [0]}", "cnn: {model: {widths: [65536], pool_after: []}", 1)))
	model := filepath.Join(dir, "wide.safetensors")
	if err := checkpoint.Write(model, &checkpoint.File{Metadata: map[string]string{"kind": "cnn",
		"arch": `{"kind":"cnn","in":1,"widths":[65536],"pool_after":[],"classes":10}`, "pixel_mean": "0.3", "pixel_std": "0.3"}}); err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(dir, "small.safetensors")
	if code := run([]string{"train", "mlp", "--data", data, "--no-verify", "--config", writeFile(t, filepath.Join(dir, "t.yaml"), []byte(tinyConfig)),
		"--out", filepath.Join(dir, "smallrun")}, os.Stderr); code != 0 {
		t.Fatal("training the small model failed")
	}
	if err := os.Rename(filepath.Join(dir, "smallrun", "mlp.safetensors"), small); err != nil {
		t.Fatal(err)
	}
	png16 := hugePNG(t, filepath.Join(dir, "long.png"), 49_999_999, 1)
	huge := hugeData(t)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"run", []string{"run", "--data", data, "--no-verify", "--config", wide, "--out", filepath.Join(dir, "r")}, "over the memory budget"},
		{"train", []string{"train", "cnn", "--data", data, "--no-verify", "--config", wide, "--out", filepath.Join(dir, "t")}, "over the memory budget"},
		{"run with a budget", []string{"run", "--mem-budget", "10MiB", "--data", data, "--no-verify", "--config", wide, "--out", filepath.Join(dir, "r2")}, "the budget is 10.0 MiB"},
		{"eval", []string{"eval", "--data", data, "--no-verify", model}, "over the memory budget"},
		{"predict: model", []string{"predict", model, png16}, "over the memory budget"},
		{"predict: 16-bit picture", []string{"predict", small, png16}, "over the limit"},
		{"train cnn_mlp: backbone", []string{"train", "cnn_mlp", "--backbone", model, "--data", data, "--no-verify", "--out", filepath.Join(dir, "h")}, "over the memory budget"},
		{"export", []string{"export", model, "-o", filepath.Join(dir, "wide.onnx")}, "over the memory budget"},
		{"serve", []string{"serve", "--addr", "127.0.0.1:0", model}, "over the memory budget"},
		{"data: IDX headers", []string{"data", "--data", huge, "--no-verify"}, "header says 130000000 images, limit 1048576"},
		{"data export: IDX headers", []string{"data", "export", "--data", huge, "--no-verify", filepath.Join(dir, "x")}, "header says 130000000 images"},
		{"run: IDX headers", []string{"run", "--data", huge, "--no-verify", "--out", filepath.Join(dir, "r3")}, "header says 130000000 images"},
		{"eval: IDX headers", []string{"eval", "--data", huge, "--no-verify", small}, "header says 130000000 images"},
		{"report: IDX headers", []string{"report", "--data", huge, "--no-verify", filepath.Join(dir, "smallrun")}, "header says 130000000 images"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := cliCommand(t, nil, c.args...)
			cmd = exec.Command("bash", append([]string{"-c", `ulimit -v 4194304 && exec "$0" "$@"`, cmd.Path}, cmd.Args[1:]...)...)
			cmd.Env = append(os.Environ(), cliChildEnv+"=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			msg := stderr.String()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("%v, want exit 1; stderr:\n%s", err, msg)
			}
			if !strings.Contains(msg, c.want) || strings.Contains(msg, "goroutine ") {
				t.Fatalf("stderr %q, want %q", msg, c.want)
			}
		})
	}
}

func TestParseBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64 // 0: an error
	}{
		{"6GiB", 6 << 30}, {"6G", 6 << 30}, {"500MB", 500e6}, {"1.5GiB", 1.5 * (1 << 30)}, {"1048576", 1 << 20},
		{"", 0}, {"0", 0}, {"-1GiB", 0}, {"10", 0}, {"5XB", 0}, {"NaN", 0}, {"1e400", 0}, {"GiB", 0},
	} {
		got, err := parseBytes(c.in)
		if c.want == 0 && err == nil || c.want != 0 && (err != nil || got != c.want) {
			t.Errorf("parseBytes(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}
