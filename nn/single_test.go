package nn

import (
	"math"
	"testing"

	"github.com/fmnist/fmnist/tensor"
)

// TestSingleImageIsBatchRow checks that in eval mode the logits of an
// image forwarded alone have, to the bit, the values of its row in a batch
// of 128: a server answering one request classifies as the batch
// evaluation does. One-row GEMMs run on the row kernels with the tiles'
// arithmetic, and a convolution's algorithm depends on the image size, not
// the batch.
func TestSingleImageIsBatchRow(t *testing.T) {
	for _, name := range []string{"mlp-ref", "cnn-ref", "cnn-ref-bn"} {
		t.Run(name, func(t *testing.T) {
			if name != "mlp-ref" && testing.Short() {
				t.Skip("short")
			}
			s, err := RefSpec(name)
			if err != nil {
				t.Fatal(err)
			}
			m := MustBuild(s, 1)
			const batch, per = 128, 28 * 28
			x, _ := synthetic(2, 10, batch, 28, 28, 1)
			logits := m.Forward(x, false)
			classes := logits.Shape[1]
			want := append([]float32(nil), logits.Data...)
			for _, i := range []int{0, 1, 63, 127} {
				one := tensor.FromData(append([]float32(nil), x.Data[i*per:(i+1)*per]...), 1, 28, 28, 1)
				got := m.Forward(one, false).Data
				for j := 0; j < classes; j++ {
					if math.Float32bits(got[j]) != math.Float32bits(want[i*classes+j]) {
						t.Fatalf("image %d alone: logit %d = %g, in the batch %g", i, j, got[j], want[i*classes+j])
					}
				}
			}
		})
	}
}

// TestNoAllocsSingleImage: the eval-mode forward pass of one image, as a
// server runs it, allocates nothing in steady state, serial or parallel.
func TestNoAllocsSingleImage(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	for _, name := range []string{"mlp-ref", "cnn-ref"} {
		t.Run(name, func(t *testing.T) {
			if name != "mlp-ref" && testing.Short() {
				t.Skip("short")
			}
			s, err := RefSpec(name)
			if err != nil {
				t.Fatal(err)
			}
			m := MustBuild(s, 1)
			x, _ := synthetic(3, 10, 1, 28, 28, 1)
			infer := func() { m.Forward(x, false) }
			infer()
			if n := testing.AllocsPerRun(5, infer); n != 0 {
				t.Errorf("serial: %v allocations", n)
			}
			if n, site := allocsParallel(20, infer); n != 0 {
				t.Errorf("parallel: %d allocations in 20 passes, one at %s", n, site)
			}
		})
	}
}
