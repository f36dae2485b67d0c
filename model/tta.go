package model

import (
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/tensor"
)

// FlipTTA is test-time augmentation by mirroring: the logits of each image
// and of its left-right mirror, averaged. It is an option reported beside
// the plain accuracy, never in place of it.
type FlipTTA struct {
	P nn.Predictor

	flip, out *tensor.Tensor
}

// Predict returns (logits(x) + logits(mirror of x)) / 2 for x of shape
// (B, H, W, 1), owned by f until the next call.
func (f *FlipTTA) Predict(x *tensor.Tensor) *tensor.Tensor {
	tensor.MustShape("model: flip TTA input", x, -1, -1, -1, 1)
	b, h, w := x.Shape[0], x.Shape[1], x.Shape[2]
	f.flip = tensor.Ensure(f.flip, b, h, w, 1)
	for r := 0; r < b*h; r++ {
		src, dst := x.Data[r*w:(r+1)*w], f.flip.Data[r*w:(r+1)*w]
		for c, v := range src {
			dst[w-1-c] = v
		}
	}
	a := f.P.Predict(x)
	f.out = tensor.Ensure(f.out, a.Shape...)
	copy(f.out.Data, a.Data)
	m := f.P.Predict(f.flip)
	for i, v := range m.Data {
		f.out.Data[i] = (f.out.Data[i] + v) / 2
	}
	return f.out
}
