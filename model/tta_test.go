package model

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/tensor"
)

// TestFlipTTA: the result is the mean of the logits of the batch and of its
// mirror, the input is left as it was, and a mirrored batch gives the same
// bits as the original.
func TestFlipTTA(t *testing.T) {
	m, err := nn.Build(nn.Spec{Kind: "cnn", Widths: []int{4, 8}, PoolAfter: []int{0}, BatchNorm: true}, 5)
	if err != nil {
		t.Fatal(err)
	}
	const b, h, w = 3, 6, 5
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensor.New(b, h, w, 1)
	for i := range x.Data {
		x.Data[i] = rng.Float32()*2 - 1
	}
	mirror := tensor.New(b, h, w, 1)
	for r := 0; r < b*h; r++ {
		for c := 0; c < w; c++ {
			mirror.Data[r*w+c] = x.Data[r*w+w-1-c]
		}
	}
	orig := slices.Clone(x.Data)
	plain := slices.Clone(nn.Eval{Model: m}.Predict(x).Data)
	flipped := slices.Clone(nn.Eval{Model: m}.Predict(mirror).Data)

	tta := &FlipTTA{P: nn.Eval{Model: m}}
	got := slices.Clone(tta.Predict(x).Data)
	for i := range got {
		if want := (plain[i] + flipped[i]) / 2; got[i] != want {
			t.Fatalf("logit %d: %v, want %v", i, got[i], want)
		}
	}
	if !slices.Equal(x.Data, orig) {
		t.Error("FlipTTA changed its input")
	}
	if again := tta.Predict(mirror).Data; !slices.Equal(again, got) {
		t.Errorf("mirrored batch: %v, want %v", again, got)
	}
	if slices.Equal(plain, got) {
		t.Error("FlipTTA gave the plain logits: the mirror made no difference")
	}
}
