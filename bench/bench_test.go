package bench

import (
	"runtime"
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
