package bench

import (
	"runtime"
	"slices"
	"testing"

	"github.com/fmnist/fmnist/internal/kernels"
)

// TestReportNamesKernels checks that a report says which kernels and
// platform produced it, so that figures sent in from other machines can be
// told apart.
func TestReportNamesKernels(t *testing.T) {
	rep, err := Run(Options{Only: "sgemm/128x512x784"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kernels == "" || rep.Kernels != kernels.KernelSet() {
		t.Errorf("Kernels = %q, want %q", rep.Kernels, kernels.KernelSet())
	}
	if want := runtime.GOOS + "/" + runtime.GOARCH; rep.Arch != want {
		t.Errorf("Arch = %q, want %q", rep.Arch, want)
	}
	if len(rep.Results) != 1 || rep.Results[0].GFLOPS <= 0 {
		t.Errorf("Results = %+v, want one sgemm row", rep.Results)
	}
}

// TestLatency1Rows checks that every model has the latency1 row of the
// bench contract, in milliseconds and nothing else.
func TestLatency1Rows(t *testing.T) {
	rep, err := Run(Options{Only: "mlp-ref", MLPSteps: 2, LatencyCalls: 5}, "test")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rep.Results {
		names = append(names, r.Name)
		if r.Name == "mlp-ref/latency1" && (r.Ms <= 0 || r.ImgPerS != 0 || r.GFLOPS != 0) {
			t.Errorf("latency1 row %+v, want only ms > 0", r)
		}
	}
	if want := []string{"mlp-ref/train", "mlp-ref/infer", "mlp-ref/latency1"}; !slices.Equal(names, want) {
		t.Errorf("rows %v, want %v", names, want)
	}
	for _, spec := range []string{"cnn-ref", "cnn-ref-bn"} {
		for _, m := range Models {
			if m.Name != spec {
				continue
			}
			if ms, err := Latency1(m.Spec, 3); err != nil || ms <= 0 {
				t.Errorf("%s: Latency1 = %v, %v; want > 0", spec, ms, err)
			}
		}
	}
}
