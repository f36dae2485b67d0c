package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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

// TestArm64EndToEnd builds fmnist for linux/arm64, runs a tiny `fmnist run`
// on the real data under qemu-aarch64-static (NEON SGEMM and the Go twins
// of the other kernels), and the same run natively, and checks that the two
// agree: the same epochs and test accuracies to within rounding (the
// kernels add in other orders, so the bits may differ). It runs in CI,
// which installs qemu-user-static, or when FMNIST_QEMU=1.
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
		t.Logf("%s: test acc arm64 %.4f, amd64 %.4f; loss %.5f, %.5f", name, a.TestAcc, n.TestAcc, a.TestLoss, n.TestLoss)
		if a.Epochs != n.Epochs || a.BestEpoch != n.BestEpoch || a.Params != n.Params {
			t.Errorf("%s: epochs %d best %d params %d under arm64, %d %d %d native", name,
				a.Epochs, a.BestEpoch, a.Params, n.Epochs, n.BestEpoch, n.Params)
		}
		if a.TestAcc < 0.3 { // natively 69%, 50% and 42%: each model learned
			t.Errorf("%s: test acc %.4f under arm64: the model learned nothing", name, a.TestAcc)
		}
		// Rounding apart, the same model: a few images at most change class.
		if math.Abs(a.TestAcc-n.TestAcc) > 0.002 || math.Abs(a.TestLoss-n.TestLoss) > 1e-3*max(1, n.TestLoss) {
			t.Errorf("%s: test acc %.4f loss %.5f under arm64, %.4f and %.5f native", name, a.TestAcc, a.TestLoss, n.TestAcc, n.TestLoss)
		}
	}
}
