package nn

import (
	"fmt"

	"github.com/fmnist/fmnist/internal/kernels"
	"github.com/fmnist/fmnist/tensor"
)

// SoftmaxCrossEntropy is the mean cross-entropy of softmax(logits) against
// integer labels, with optional label smoothing: the target puts
// 1 − Smoothing + Smoothing/K on the label and Smoothing/K on each of the
// other K − 1 classes (PyTorch's cross_entropy with label_smoothing).
type SoftmaxCrossEntropy struct {
	Smoothing float32
	grad      *tensor.Tensor
}

// Forward returns the mean loss over the batch, the number of rows whose
// first maximum is the label, and the gradient of the mean loss with
// respect to the logits (B, K), which the loss owns.
func (l *SoftmaxCrossEntropy) Forward(logits *tensor.Tensor, labels []uint8) (loss float64, correct int, dlogits *tensor.Tensor) {
	n, k := l.check(logits, labels)
	l.grad = tensor.Ensure(l.grad, n, k)
	loss, correct = kernels.SoftmaxCrossEntropy(l.grad.Data, logits.Data, labels, n, k, l.Smoothing)
	return loss, correct, l.grad
}

// Eval returns the mean loss and the hit count without the gradient.
func (l *SoftmaxCrossEntropy) Eval(logits *tensor.Tensor, labels []uint8) (loss float64, correct int) {
	n, k := l.check(logits, labels)
	return kernels.SoftmaxCrossEntropy(nil, logits.Data, labels, n, k, l.Smoothing)
}

func (l *SoftmaxCrossEntropy) check(logits *tensor.Tensor, labels []uint8) (n, k int) {
	tensor.MustShape("nn: loss logits", logits, len(labels), -1)
	n, k = logits.Shape[0], logits.Shape[1]
	for i, y := range labels {
		if int(y) >= k {
			panic(fmt.Sprintf("nn: loss: label %d at row %d, but only %d classes", y, i, k))
		}
	}
	return n, k
}
