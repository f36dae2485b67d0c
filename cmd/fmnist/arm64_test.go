package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/runfolder"
)

// tinyArm64JSON is a whole pipeline small enough to run under user-mode
// emulation in a few minutes: every stage, on real data, with the test set
// whole (10,000 images through each model).
const tinyArm64JSON = `{"seed": 1, "val": 1000, "subset": 2000,
 "mlp": {"model": {"hidden": [64]}, "train": {"epochs": 1}},
 "cnn": {"model": {"widths": [4, 8, 8, 16, 16]}, "train": {"epochs": 2}},
 "cnn_mlp": {"model": {"hidden": [32]}, "train": {"epochs": 2}}}`

// TestArm64EndToEnd builds fmnist for linux/arm64 and runs a tiny `fmnist
// run` on the real data under qemu-aarch64-static (NEON SGEMM and the Go
// twins of the other kernels): every model must learn. Then `fmnist eval`
// under qemu of the model files of the same run made natively must give
// the test accuracy the native run reported, to within rounding: the
// kernels add in other orders, so the bits differ, and over two epochs of
// training those differences grow into another model (0.5 points apart on
// the CNN here), which is why the trainings themselves are not compared.
// It runs in CI, which installs qemu-user-static, or with FMNIST_QEMU=1.
func TestArm64EndToEnd(t *testing.T) {
	if os.Getenv("CI") != "true" && os.Getenv("FMNIST_QEMU") != "1" {
		t.Skip("runs in CI or with FMNIST_QEMU=1 (needs qemu-aarch64-static)")
	}
	if testing.Short() {
		t.Skip("minutes under emulation: the full suite runs it")
	}
	if runtime.GOARCH != "amd64" || runtime.GOOS != "linux" {
		t.Skip("emulates arm64 from linux/amd64 only")
	}
	needRealData(t)
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Fatalf("qemu-aarch64-static not found (apt-get install qemu-user-static): %v", err)
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	dir := t.TempDir()
	bin := filepath.Join(dir, "fmnist-arm64")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOARCH=arm64", "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("GOARCH=arm64 go build: %v\n%s", err, b)
	}
	cfg := filepath.Join(dir, "tiny.json")
	if err := os.WriteFile(cfg, []byte(tinyArm64JSON), 0o644); err != nil {
		t.Fatal(err)
	}
	args := func(out string) []string {
		return []string{"run", "--preset", "quick", "--config", cfg, "--data", realData, "--out", out}
	}
	armOut, nativeOut := filepath.Join(dir, "arm64"), filepath.Join(dir, "native")
	if b, err := exec.Command(qemu, append([]string{bin}, args(armOut)...)...).CombinedOutput(); err != nil {
		t.Fatalf("fmnist run under qemu: %v\n%s", err, b)
	}
	if b, err := cliCommand(t, nil, args(nativeOut)...).CombinedOutput(); err != nil {
		t.Fatalf("fmnist run: %v\n%s", err, b)
	}
	arm, err := runfolder.ReadResults(armOut)
	if err != nil {
		t.Fatal(err)
	}
	native, err := runfolder.ReadResults(nativeOut)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mlp", "cnn", "cnn_mlp"} {
		a, ok := arm[name]
		n := native[name]
		if !ok {
			t.Errorf("%s: no result under arm64", name)
			continue
		}
		t.Logf("%s: test acc arm64 %.4f, amd64 %.4f", name, a.TestAcc, n.TestAcc)
		if a.Epochs != n.Epochs || a.Params != n.Params {
			t.Errorf("%s: %d epochs, %d params under arm64, %d and %d native", name, a.Epochs, a.Params, n.Epochs, n.Params)
		}
		if a.TestAcc < 0.3 { // natively 69%, 50% and 42%: each model learned
			t.Errorf("%s: test acc %.4f under arm64: the model learned nothing", name, a.TestAcc)
		}
		out, err := exec.Command(qemu, bin, "eval", "--data", realData, filepath.Join(nativeOut, name+".safetensors")).CombinedOutput()
		if err != nil {
			t.Fatalf("fmnist eval under qemu: %v\n%s", err, out)
		}
		var right, total int
		if i := strings.Index(string(out), "% ("); i < 0 {
			t.Fatalf("eval printed %q", out)
		} else if _, err := fmt.Sscanf(string(out[i+3:]), "%d/%d", &right, &total); err != nil || total != 10000 {
			t.Fatalf("eval printed %q: %v", out, err)
		}
		// The same weights: only images on a knife edge may change class.
		t.Logf("%s: the native model file evaluated under arm64: %d/10000 right, natively %.0f", name, right, n.TestAcc*10000)
		if want := int(math.Round(n.TestAcc * 10000)); right < want-5 || right > want+5 {
			t.Errorf("%s: the native model file evaluated under arm64: %d/10000 right, natively %d", name, right, want)
		}
	}
}
