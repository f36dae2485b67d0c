package kernels

import (
	"fmt"
	"math"
)

// The exported entry points. Each checks its arguments, then runs the fast
// path, which gives its reference's bits unless its comment says otherwise.
// Checks come first because a task that panicked on a pool goroutine would
// take the process down; a bad argument panics here, in the caller.

// Im2col3x3 unrolls x for a 3×3 convolution; see Im2col3x3Ref. col must not
// overlap x.
func Im2col3x3(col, x []float32, n, h, w, c int) {
	std().Im2col3x3(col, x, n, h, w, c)
}

func (e exec) Im2col3x3(col, x []float32, n, h, w, c int) {
	dimCheck("Im2col3x3", n, h, w, c)
	lenCheck("Im2col3x3", "col", len(col), n*h*w*9*c)
	lenCheck("Im2col3x3", "x", len(x), n*h*w*c)
	e.im2col3x3(col, x, n, h, w, c)
}

// Col2im3x3 is the adjoint of Im2col3x3; see Col2im3x3Ref. dx must not
// overlap col.
func Col2im3x3(dx, col []float32, n, h, w, c int) {
	std().Col2im3x3(dx, col, n, h, w, c)
}

func (e exec) Col2im3x3(dx, col []float32, n, h, w, c int) {
	dimCheck("Col2im3x3", n, h, w, c)
	lenCheck("Col2im3x3", "dx", len(dx), n*h*w*c)
	lenCheck("Col2im3x3", "col", len(col), n*h*w*9*c)
	e.col2im3x3(dx, col, n, h, w, c)
}

// MaxPool2x2 is a 2×2 stride-2 max-pool; see MaxPool2x2Ref. x must have
// fewer than 2³¹ elements, so that idx can address it.
func MaxPool2x2(y []float32, idx []int32, x []float32, n, h, w, c int) {
	std().MaxPool2x2(y, idx, x, n, h, w, c)
}

func (e exec) MaxPool2x2(y []float32, idx []int32, x []float32, n, h, w, c int) {
	dimCheck("MaxPool2x2", n, h, w, c)
	out := n * (h / 2) * (w / 2) * c
	lenCheck("MaxPool2x2", "y", len(y), out)
	lenCheck("MaxPool2x2", "idx", len(idx), out)
	lenCheck("MaxPool2x2", "x", len(x), n*h*w*c)
	indexCheck("MaxPool2x2", n*h*w*c)
	e.maxPool2x2(y, idx, x, n, h, w, c)
}

// MaxPoolBackward scatters dy through idx; see MaxPoolBackwardRef. Every
// idx[i] for i < len(dy) must be in [0, nx).
func MaxPoolBackward(dx []float32, dy []float32, idx []int32, nx int) {
	std().MaxPoolBackward(dx, dy, idx, nx)
}

func (e exec) MaxPoolBackward(dx []float32, dy []float32, idx []int32, nx int) {
	dimCheck("MaxPoolBackward", nx)
	lenCheck("MaxPoolBackward", "dx", len(dx), nx)
	lenCheck("MaxPoolBackward", "idx", len(idx), len(dy))
	e.maxPoolBackward(dx, dy, idx, nx)
}

// MaxPool2x2Backward is the gradient of MaxPool2x2; see
// MaxPool2x2BackwardRef. It writes each window once, in parallel, instead of
// zeroing dx and scattering; an index outside its window (not one MaxPool2x2
// wrote) sends it to MaxPoolBackward, so the bits are always the
// reference's.
func MaxPool2x2Backward(dx, dy []float32, idx []int32, n, h, w, c int) {
	std().MaxPool2x2Backward(dx, dy, idx, n, h, w, c)
}

func (e exec) MaxPool2x2Backward(dx, dy []float32, idx []int32, n, h, w, c int) {
	dimCheck("MaxPool2x2Backward", n, h, w, c)
	out := n * (h / 2) * (w / 2) * c
	lenCheck("MaxPool2x2Backward", "dx", len(dx), n*h*w*c)
	lenCheck("MaxPool2x2Backward", "dy", len(dy), out)
	lenCheck("MaxPool2x2Backward", "idx", len(idx), out)
	indexCheck("MaxPool2x2Backward", n*h*w*c)
	e.maxPool2x2Backward(dx, dy, idx, n, h, w, c)
}

// GlobalMaxPool is a max over positions; see GlobalMaxPoolRef. hw must be
// at least 1 when n·c > 0.
func GlobalMaxPool(y []float32, idx []int32, x []float32, n, hw, c int) {
	std().GlobalMaxPool(y, idx, x, n, hw, c)
}

func (e exec) GlobalMaxPool(y []float32, idx []int32, x []float32, n, hw, c int) {
	dimCheck("GlobalMaxPool", n, hw, c)
	if hw == 0 && n*c > 0 {
		panic("kernels: GlobalMaxPool: hw = 0 with images to pool")
	}
	lenCheck("GlobalMaxPool", "y", len(y), n*c)
	lenCheck("GlobalMaxPool", "idx", len(idx), n*c)
	lenCheck("GlobalMaxPool", "x", len(x), n*hw*c)
	indexCheck("GlobalMaxPool", n*hw*c)
	e.globalMaxPool(y, idx, x, n, hw, c)
}

// AddBiasReLU adds a bias row and optionally applies ReLU; see AddBiasReLURef.
func AddBiasReLU(y, bias []float32, rows, cols int, relu bool) {
	std().AddBiasReLU(y, bias, rows, cols, relu)
}

func (e exec) AddBiasReLU(y, bias []float32, rows, cols int, relu bool) {
	dimCheck("AddBiasReLU", rows, cols)
	lenCheck("AddBiasReLU", "y", len(y), rows*cols)
	lenCheck("AddBiasReLU", "bias", len(bias), cols)
	op := opAddBias
	if relu {
		op = opAddBiasReLU
	}
	e.elemRun(elemJob{op: op, y: y[:rows*cols], x: bias[:cols], cols: cols, total: rows * cols})
}

// ReLU sets y = max(x, 0); see ReLURef. y may alias x.
func ReLU(y, x []float32) {
	std().ReLU(y, x)
}

func (e exec) ReLU(y, x []float32) {
	lenCheck("ReLU", "y", len(y), len(x))
	e.elemRun(elemJob{op: opReLU, y: y, x: x, total: len(x)})
}

// ReLUBackward masks dy by y > 0; see ReLUBackwardRef. dx may alias dy.
func ReLUBackward(dx, dy, y []float32) {
	std().ReLUBackward(dx, dy, y)
}

func (e exec) ReLUBackward(dx, dy, y []float32) {
	lenCheck("ReLUBackward", "dx", len(dx), len(y))
	lenCheck("ReLUBackward", "dy", len(dy), len(y))
	e.elemRun(elemJob{op: opReLUBackward, y: dx, x: dy, z: y, total: len(y)})
}

// ColSum adds column sums into dst; see ColSumRef. Each column is summed by
// one goroutine in row order, so the bits are the reference's.
func ColSum(dst, x []float32, rows, cols int) {
	std().ColSum(dst, x, rows, cols)
}

func (e exec) ColSum(dst, x []float32, rows, cols int) {
	dimCheck("ColSum", rows, cols)
	lenCheck("ColSum", "dst", len(dst), cols)
	lenCheck("ColSum", "x", len(x), rows*cols)
	j := colSumJob{k: e.k, dst: dst, x: x, rows: rows, cols: cols}
	tasks := parCount(colSumBlock, cols)
	if !parRun(e, &e.pool.slots.colSum, j, tasks, rows*cols) {
		e.k.colSum(dst[:cols], x, rows, cols)
	}
}

// SoftmaxCrossEntropy is the mean loss, its gradient and the hit count; see
// SoftmaxCrossEntropyRef. The gradient and the count are the reference's
// bits; the loss is too for n <= 256, and beyond that it sums blocks of 256
// rows in order (the same bits whatever GOMAXPROCS is). Labels must be less
// than classes, and classes at least 1.
func SoftmaxCrossEntropy(dlogits, logits []float32, labels []uint8, n, classes int, eps float32) (float64, int) {
	return std().SoftmaxCrossEntropy(dlogits, logits, labels, n, classes, eps)
}

func (e exec) SoftmaxCrossEntropy(dlogits, logits []float32, labels []uint8, n, classes int, eps float32) (float64, int) {
	dimCheck("SoftmaxCrossEntropy", n, classes)
	if classes == 0 && n > 0 {
		panic("kernels: SoftmaxCrossEntropy: classes = 0")
	}
	lenCheck("SoftmaxCrossEntropy", "logits", len(logits), n*classes)
	lenCheck("SoftmaxCrossEntropy", "labels", len(labels), n)
	if dlogits != nil {
		lenCheck("SoftmaxCrossEntropy", "dlogits", len(dlogits), n*classes)
	}
	for i, l := range labels[:n] {
		if int(l) >= classes {
			panic(fmt.Sprintf("kernels: SoftmaxCrossEntropy: labels[%d] = %d, want < %d classes", i, l, classes))
		}
	}
	return e.softmaxCrossEntropy(dlogits, logits, labels, n, classes, eps)
}

// BatchNormStats computes per-column mean and biased variance; see
// BatchNormStatsRef. Same bits as the reference.
func BatchNormStats(mean, variance []float32, x []float32, rows, cols int) {
	std().BatchNormStats(mean, variance, x, rows, cols)
}

func (e exec) BatchNormStats(mean, variance []float32, x []float32, rows, cols int) {
	dimCheck("BatchNormStats", rows, cols)
	lenCheck("BatchNormStats", "mean", len(mean), cols)
	lenCheck("BatchNormStats", "variance", len(variance), cols)
	lenCheck("BatchNormStats", "x", len(x), rows*cols)
	e.batchNormStats(mean, variance, x, rows, cols)
}

// BatchNormForward normalises, scales and shifts, with an optional ReLU; see
// BatchNormForwardRef. xhat may be nil; y may alias x.
func BatchNormForward(y, xhat, x, mean, invstd, gamma, beta []float32, rows, cols int, relu bool) {
	std().BatchNormForward(y, xhat, x, mean, invstd, gamma, beta, rows, cols, relu)
}

func (e exec) BatchNormForward(y, xhat, x, mean, invstd, gamma, beta []float32, rows, cols int, relu bool) {
	const fn = "BatchNormForward"
	dimCheck(fn, rows, cols)
	lenCheck(fn, "y", len(y), rows*cols)
	if xhat != nil {
		lenCheck(fn, "xhat", len(xhat), rows*cols)
	}
	lenCheck(fn, "x", len(x), rows*cols)
	for _, p := range [...]struct {
		name string
		s    []float32
	}{{"mean", mean}, {"invstd", invstd}, {"gamma", gamma}, {"beta", beta}} {
		lenCheck(fn, p.name, len(p.s), cols)
	}
	e.batchNormForward(bnForwardJob{y: y, xhat: xhat, x: x, mean: mean, invstd: invstd, gamma: gamma, beta: beta, rows: rows, cols: cols, relu: relu})
}

// BatchNormBackward is batch norm's training-mode gradient; see
// BatchNormBackwardRef. dx may alias dy.
func BatchNormBackward(dx, dgamma, dbeta, dy, xhat, invstd, gamma []float32, rows, cols int) {
	std().BatchNormBackward(dx, dgamma, dbeta, dy, xhat, invstd, gamma, rows, cols)
}

func (e exec) BatchNormBackward(dx, dgamma, dbeta, dy, xhat, invstd, gamma []float32, rows, cols int) {
	bnBackCheck("BatchNormBackward", dx, dgamma, dbeta, dy, xhat, invstd, gamma, nil, rows, cols)
	e.batchNormBackward(bnBackJob{dx: dx, dgamma: dgamma, dbeta: dbeta, dy: dy, xhat: xhat, invstd: invstd, gamma: gamma, rows: rows, cols: cols})
}

// BatchNormReLUBackward is the gradient of BatchNormForward with relu set;
// see BatchNormReLUBackwardRef. It saves a ReLUBackward pass and the
// forward output. dx may alias dy.
func BatchNormReLUBackward(dx, dgamma, dbeta, dy, xhat, invstd, gamma, beta []float32, rows, cols int) {
	std().BatchNormReLUBackward(dx, dgamma, dbeta, dy, xhat, invstd, gamma, beta, rows, cols)
}

func (e exec) BatchNormReLUBackward(dx, dgamma, dbeta, dy, xhat, invstd, gamma, beta []float32, rows, cols int) {
	if beta == nil {
		panic("kernels: BatchNormReLUBackward: beta is nil")
	}
	bnBackCheck("BatchNormReLUBackward", dx, dgamma, dbeta, dy, xhat, invstd, gamma, beta, rows, cols)
	e.batchNormBackward(bnBackJob{dx: dx, dgamma: dgamma, dbeta: dbeta, dy: dy, xhat: xhat, invstd: invstd, gamma: gamma, beta: beta, rows: rows, cols: cols})
}

func bnBackCheck(fn string, dx, dgamma, dbeta, dy, xhat, invstd, gamma, beta []float32, rows, cols int) {
	dimCheck(fn, rows, cols)
	lenCheck(fn, "dx", len(dx), rows*cols)
	lenCheck(fn, "dy", len(dy), rows*cols)
	lenCheck(fn, "xhat", len(xhat), rows*cols)
	lenCheck(fn, "dgamma", len(dgamma), cols)
	lenCheck(fn, "dbeta", len(dbeta), cols)
	lenCheck(fn, "invstd", len(invstd), cols)
	lenCheck(fn, "gamma", len(gamma), cols)
	if beta != nil {
		lenCheck(fn, "beta", len(beta), cols)
	}
}

// Axpy sets y += a·x over len(x) elements; see AxpyRef.
func Axpy(y, x []float32, a float32) {
	std().Axpy(y, x, a)
}

func (e exec) Axpy(y, x []float32, a float32) {
	lenCheck("Axpy", "y", len(y), len(x))
	e.elemRun(elemJob{op: opAxpy, y: y, x: x, a: a, total: len(x)})
}

// Scale sets x *= a; see ScaleRef.
func Scale(x []float32, a float32) {
	std().Scale(x, a)
}

func (e exec) Scale(x []float32, a float32) {
	e.elemRun(elemJob{op: opScale, y: x, a: a, total: len(x)})
}

// MulMask sets y = x·mask over len(x) elements; see MulMaskRef. y may alias x.
func MulMask(y, x, mask []float32) {
	std().MulMask(y, x, mask)
}

func (e exec) MulMask(y, x, mask []float32) {
	lenCheck("MulMask", "y", len(y), len(x))
	lenCheck("MulMask", "mask", len(mask), len(x))
	e.elemRun(elemJob{op: opMulMask, y: y, x: x, z: mask, total: len(x)})
}

// SGDMomentum is one step of SGD with momentum; see SGDMomentumRef. Same
// bits as the reference. w, g and buf must not overlap.
func SGDMomentum(w, g, buf []float32, lr, wd, mom float32) {
	std().SGDMomentum(w, g, buf, lr, wd, mom)
}

func (e exec) SGDMomentum(w, g, buf []float32, lr, wd, mom float32) {
	lenCheck("SGDMomentum", "g", len(g), len(w))
	lenCheck("SGDMomentum", "buf", len(buf), len(w))
	e.elemRun(elemJob{op: opSGDMomentum, y: w, x: g, z: buf, a: lr, b: wd, c: mom, total: len(w)})
}

// lenCheck panics when a slice argument is shorter than the kernel reads or
// writes: the assembly must never be handed one.
func lenCheck(fn, name string, have, want int) {
	if have < want {
		panic(fmt.Sprintf("kernels: %s: len(%s) = %d, want at least %d", fn, name, have, want))
	}
}

// dimCheck panics on a negative size.
func dimCheck(fn string, dims ...int) {
	for _, d := range dims {
		if d < 0 {
			panic(fmt.Sprintf("kernels: %s: negative size %d", fn, d))
		}
	}
}

// indexCheck panics when int32 indices cannot address n elements.
func indexCheck(fn string, n int) {
	if n > math.MaxInt32 {
		panic(fmt.Sprintf("kernels: %s: %d elements, more than int32 indices address", fn, n))
	}
}
