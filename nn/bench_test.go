package nn

import (
	"testing"
)

// The benchmark's reference models at batch 128, on random input: a
// training step is forward, loss and backward (the optimiser is elsewhere);
// inference is a forward pass in eval mode. img/s is the figure
// /work/shared/bench compares with PyTorch.

const benchBatch = 128

func benchModel(b *testing.B, name string, train bool) { benchModelBatch(b, name, train, benchBatch) }

// benchModelBatch times one model at batch size batch.
func benchModelBatch(b *testing.B, name string, train bool, batch int) {
	s, err := RefSpec(name)
	if err != nil {
		b.Fatal(err)
	}
	m := MustBuild(s, 1)
	shape := []int{batch, 28, 28, 1}
	x, labels := synthetic(1, 10, shape...)
	lf := &SoftmaxCrossEntropy{}
	f := func() {
		logits := m.Forward(x, train)
		if train {
			_, _, dl := lf.Forward(logits, labels)
			m.Backward(dl)
		}
	}
	f() // size the buffers
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f()
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/batch")
}

func BenchmarkStepMLPRef(b *testing.B)    { benchModel(b, "mlp-ref", true) }
func BenchmarkInferMLPRef(b *testing.B)   { benchModel(b, "mlp-ref", false) }
func BenchmarkStepCNNRef(b *testing.B)    { benchModel(b, "cnn-ref", true) }
func BenchmarkInferCNNRef(b *testing.B)   { benchModel(b, "cnn-ref", false) }
func BenchmarkStepCNNRefBN(b *testing.B)  { benchModel(b, "cnn-ref-bn", true) }
func BenchmarkInferCNNRefBN(b *testing.B) { benchModel(b, "cnn-ref-bn", false) }

// The latency1 rows of the bench contract: one image, eval mode.
func BenchmarkLatency1MLPRef(b *testing.B)   { benchModelBatch(b, "mlp-ref", false, 1) }
func BenchmarkLatency1CNNRef(b *testing.B)   { benchModelBatch(b, "cnn-ref", false, 1) }
func BenchmarkLatency1CNNRefBN(b *testing.B) { benchModelBatch(b, "cnn-ref-bn", false, 1) }

// The reference CNN with every convolution on im2col, the algorithm before
// Winograd and pixel-pair GEMMs: the baseline of the two above.
func BenchmarkStepCNNRefIm2col(b *testing.B) {
	withConvAlgo(algoIm2col, func() { benchModel(b, "cnn-ref", true) })
}
func BenchmarkInferCNNRefIm2col(b *testing.B) {
	withConvAlgo(algoIm2col, func() { benchModel(b, "cnn-ref", false) })
}

func withConvAlgo(algo int, f func()) {
	defer func(old int) { convAlgo = old }(convAlgo)
	convAlgo = algo
	f()
}
