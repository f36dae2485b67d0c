package kernels

// The exported entry points. Until a fast path lands for a kernel, it is its
// reference.

// Im2col3x3 unrolls x for a 3×3 convolution; see Im2col3x3Ref.
func Im2col3x3(col, x []float32, n, h, w, c int) { Im2col3x3Ref(col, x, n, h, w, c) }

// Col2im3x3 is the adjoint of Im2col3x3; see Col2im3x3Ref.
func Col2im3x3(dx, col []float32, n, h, w, c int) { Col2im3x3Ref(dx, col, n, h, w, c) }

// MaxPool2x2 is a 2×2 stride-2 max-pool; see MaxPool2x2Ref.
func MaxPool2x2(y []float32, idx []int32, x []float32, n, h, w, c int) {
	MaxPool2x2Ref(y, idx, x, n, h, w, c)
}

// MaxPoolBackward scatters dy through idx; see MaxPoolBackwardRef.
func MaxPoolBackward(dx []float32, dy []float32, idx []int32, nx int) {
	MaxPoolBackwardRef(dx, dy, idx, nx)
}

// GlobalMaxPool is a max over positions; see GlobalMaxPoolRef.
func GlobalMaxPool(y []float32, idx []int32, x []float32, n, hw, c int) {
	GlobalMaxPoolRef(y, idx, x, n, hw, c)
}

// AddBiasReLU adds a bias row and optionally applies ReLU; see AddBiasReLURef.
func AddBiasReLU(y, bias []float32, rows, cols int, relu bool) {
	AddBiasReLURef(y, bias, rows, cols, relu)
}

// ReLU sets y = max(x, 0); see ReLURef.
func ReLU(y, x []float32) { ReLURef(y, x) }

// ReLUBackward masks dy by y > 0; see ReLUBackwardRef.
func ReLUBackward(dx, dy, y []float32) { ReLUBackwardRef(dx, dy, y) }

// ColSum adds column sums into dst; see ColSumRef.
func ColSum(dst, x []float32, rows, cols int) { ColSumRef(dst, x, rows, cols) }

// SoftmaxCrossEntropy is the mean loss, its gradient and the hit count; see
// SoftmaxCrossEntropyRef.
func SoftmaxCrossEntropy(dlogits, logits []float32, labels []uint8, n, classes int, eps float32) (float64, int) {
	return SoftmaxCrossEntropyRef(dlogits, logits, labels, n, classes, eps)
}
