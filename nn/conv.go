package nn

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"unsafe"

	"github.com/fmnist/fmnist/tensor"
)

// convChunkFloats is the size of the im2col chunk a convolution processes
// at a time (8 images at 28×28 with 32 channels, 7 MiB): it bounds the
// scratch of inference and of the backward data pass, and keeps each
// chunk's columns warm in cache between im2col and the GEMM. It must not
// depend on the machine, since the weight gradient is summed chunk by
// chunk.
var convChunkFloats = 8 * 28 * 28 * 9 * 32

// convKeepFloats caps the im2col matrix a training Forward keeps for
// Backward (256 MiB); above it, Backward recomputes the columns chunk by
// chunk instead.
var convKeepFloats = 1 << 26

// The algorithms a convolution can run.
const (
	algoIm2col   = iota + 1 // im2col chunks and a GEMM each
	algoWinograd            // kernels.WinogradConv
	algoTaps                // kernels.Conv3x3Taps
)

// convAlgo forces an algorithm when not zero. For tests.
var convAlgo = 0

// convChoose picks the algorithm for an image size (see the package
// documentation): Winograd F(2×2, 3×3) from 4×4 with two or more input
// channels, one GEMM per pixel pair on smaller images, im2col otherwise.
// Winograd works on whole images, whose transforms it holds per goroutine,
// so it stops at 64×64.
func convChoose(h, w, cin int) int {
	switch {
	case convAlgo != 0:
		return convAlgo
	case min(h, w) >= 4 && h*w <= 64*64 && cin >= 2:
		return algoWinograd
	case h*w <= 16:
		return algoTaps
	}
	return algoIm2col
}

// Conv2D is a 3×3 convolution, stride 1, zero padding 1, on NHWC input
// (B, H, W, Cin), giving (B, H, W, Cout). It may fuse a ReLU on its output.
//
// The weight is stored as a (9·Cin, Cout) matrix whose rows are in
// (ky, kx, cin) order, so that the output is im2col(x)·W directly in NHWC.
// The state dict exports PyTorch's (Cout, Cin, 3, 3).
type Conv2D struct {
	Cin, Cout int
	Weight    *Param // (9·Cin, Cout)
	Bias      *Param // (Cout,), or nil

	relu bool
	noDX bool

	x, y, dz, dx *tensor.Tensor
	col          []float32 // all of im2col(x) when kept, else one chunk
	kept         bool      // col holds all rows of the last Forward's input
	dcol         []float32 // one chunk of the column gradient

	algo  int       // the algorithm of the last Forward
	u, du []float32 // the Winograd transform of the weight, and its gradient
	uOf   []float32 // in eval mode, the weight u was made from; empty when u is stale
	ws    winoScratch
}

// NewConv2D returns a 3×3 convolution with Kaiming-normal weights (fan-in
// 9·cin) drawn from rng and a zero bias.
func NewConv2D(cin, cout int, rng *rand.Rand) *Conv2D {
	if cin <= 0 || cout <= 0 {
		panic(fmt.Sprintf("nn: conv %d→%d channels: sizes must be positive", cin, cout))
	}
	l := &Conv2D{Cin: cin, Cout: cout,
		Weight: newParam("weight", true, 9*cin, cout),
		Bias:   newParam("bias", false, cout)}
	heNormal(l.Weight.Value.Data, 9*cin, rng)
	return l
}

// WithReLU fuses a ReLU on the output (PyTorch: Conv2d then ReLU).
func (l *Conv2D) WithReLU() *Conv2D { l.relu = true; return l }

// WithoutBias drops the bias, as before a batch norm.
func (l *Conv2D) WithoutBias() *Conv2D { l.Bias = nil; return l }

// WithoutInputGrad makes Backward skip the input gradient and return nil;
// for the first layer of a model.
func (l *Conv2D) WithoutInputGrad() *Conv2D { l.noDX = true; return l }

// chunk is the number of images per im2col chunk at this spatial size.
func (l *Conv2D) chunk(hw int) int { return max(1, convChunkFloats/max(hw*9*l.Cin, 1)) }

// winoU makes l.u the Winograd transform of the weight. In eval mode it is
// kept with a copy of the weight it came from and made again only when the
// weight's bits differ, so that inference, one image at a time above all,
// does not redo it per call (it was a third of a one-image forward pass);
// comparing the bits, not a version number, means no writer of the weight
// can leave it stale. Training changes the weight every step, so there it
// is made every call, as Backward expects.
func (l *Conv2D) winoU(train bool) {
	w := l.Weight.Value.Data
	if !train && len(l.uOf) == len(w) && sameBits(l.uOf, w) {
		return
	}
	l.u = grow(l.u, 16*l.Cin*l.Cout)
	winoWeights(l.u, w, l.Cin, l.Cout)
	l.uOf = l.uOf[:0]
	if !train {
		l.uOf = append(l.uOf, w...)
	}
}

// sameBits reports whether a and b hold the same bits (unlike ==, it tells
// -0 from +0 and finds a NaN equal to itself).
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	return bytes.Equal(unsafe.Slice((*byte)(unsafe.Pointer(&a[0])), 4*len(a)),
		unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), 4*len(b)))
}

// Forward convolves x (B, H, W, Cin).
func (l *Conv2D) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	tensor.MustShape("nn: conv input", x, -1, -1, -1, l.Cin)
	n, h, w := x.Shape[0], x.Shape[1], x.Shape[2]
	hw, k := h*w, 9*l.Cin
	l.x = x
	l.y = tensor.Ensure(l.y, n, h, w, l.Cout)
	l.kept = false
	switch l.algo = convChoose(h, w, l.Cin); l.algo {
	case algoWinograd:
		l.winoU(train)
		winoConv(l.y.Data, x.Data, l.u, l.bias(), n, h, w, l.Cin, l.Cout, l.relu, &l.ws)
		return l.y
	case algoTaps:
		convTaps(l.y.Data, x.Data, l.Weight.Value.Data, l.bias(), n, h, w, l.Cin, l.Cout, l.relu)
		return l.y
	}
	g := l.chunk(hw)
	l.kept = train && n*hw*k <= convKeepFloats
	if l.kept {
		l.col = grow(l.col, n*hw*k)
	} else {
		l.col = grow(l.col, min(g, n)*hw*k)
	}
	wt := l.Weight.Value.Data
	for b0 := 0; b0 < n; b0 += g {
		nb := min(g, n-b0)
		r0, nr := b0*hw, nb*hw
		col := l.col[:nr*k]
		if l.kept {
			col = l.col[r0*k : (r0+nr)*k]
		}
		im2col(col, x.Data[r0*l.Cin:], nb, h, w, l.Cin)
		y := l.y.Data[r0*l.Cout : (r0+nr)*l.Cout]
		gemm(false, false, nr, l.Cout, k, col, k, wt, l.Cout, 0, y, l.Cout)
		biasAct(y, l.bias(), nr, l.Cout, l.relu)
	}
	return l.y
}

// Backward sets the weight and bias gradients and returns dx (B, H, W, Cin).
// It works chunk by chunk: the columns (kept or recomputed) give dW += colᵀ·dz,
// and dcol = dz·Wᵀ is folded back into dx by col2im.
func (l *Conv2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	n, h, w := l.x.Shape[0], l.x.Shape[1], l.x.Shape[2]
	hw, k := h*w, 9*l.Cin
	tensor.MustShape("nn: conv output gradient", dy, n, h, w, l.Cout)
	if l.algo == algoWinograd {
		return l.backwardWinograd(dy)
	}
	dz := dy
	if l.relu {
		l.dz = tensor.Ensure(l.dz, n, h, w, l.Cout)
		reluBackward(l.dz.Data, dy.Data, l.y.Data)
		dz = l.dz
	}
	if l.Bias != nil {
		biasGrad(l.Bias.Grad.Data, dz.Data, n*hw)
	}
	if l.algo == algoTaps {
		var dx []float32
		if !l.noDX {
			l.dx = tensor.Ensure(l.dx, n, h, w, l.Cin)
			dx = l.dx.Data
		}
		convTapsBackward(dx, l.Weight.Grad.Data, dz.Data, l.x.Data, l.Weight.Value.Data, n, h, w, l.Cin, l.Cout)
		if l.noDX {
			return nil
		}
		return l.dx
	}
	g := l.chunk(hw)
	if !l.kept {
		l.col = grow(l.col, min(g, n)*hw*k)
	}
	if !l.noDX {
		l.dx = tensor.Ensure(l.dx, n, h, w, l.Cin)
		l.dcol = grow(l.dcol, min(g, n)*hw*k)
	}
	dw, wt := l.Weight.Grad.Data, l.Weight.Value.Data
	if n == 0 {
		clear(dw)
	}
	for b0 := 0; b0 < n; b0 += g {
		nb := min(g, n-b0)
		r0, nr := b0*hw, nb*hw
		var col []float32
		if l.kept {
			col = l.col[r0*k : (r0+nr)*k]
		} else {
			col = l.col[:nr*k]
			im2col(col, l.x.Data[r0*l.Cin:], nb, h, w, l.Cin)
		}
		dzc := dz.Data[r0*l.Cout : (r0+nr)*l.Cout]
		beta := float32(1)
		if b0 == 0 {
			beta = 0
		}
		gemm(true, false, k, l.Cout, nr, col, k, dzc, l.Cout, beta, dw, l.Cout)
		if l.noDX {
			continue
		}
		dcol := l.dcol[:nr*k]
		gemm(false, true, nr, k, l.Cout, dzc, l.Cout, wt, l.Cout, 0, dcol, k)
		col2im(l.dx.Data[r0*l.Cin:(r0+nr)*l.Cin], dcol, nb, h, w, l.Cin)
	}
	if l.noDX {
		return nil
	}
	return l.dx
}

// backwardWinograd is Backward after a Winograd Forward: the ReLU mask and
// the bias gradient are fused into its first transform.
func (l *Conv2D) backwardWinograd(dy *tensor.Tensor) *tensor.Tensor {
	n, h, w := l.x.Shape[0], l.x.Shape[1], l.x.Shape[2]
	var dx, db []float32
	if !l.noDX {
		l.dx = tensor.Ensure(l.dx, n, h, w, l.Cin)
		dx = l.dx.Data
	}
	if l.Bias != nil {
		db = l.Bias.Grad.Data
	}
	l.du = grow(l.du, 16*l.Cin*l.Cout)
	winoBackward(dx, l.du, db, dy.Data, l.y.Data, l.x.Data, l.u, n, h, w, l.Cin, l.Cout, l.relu, &l.ws)
	winoWeightsGrad(l.Weight.Grad.Data, l.du, l.Cin, l.Cout)
	if l.noDX {
		return nil
	}
	return l.dx
}

// Params returns the weight, then the bias if there is one.
func (l *Conv2D) Params() []*Param {
	if l.Bias == nil {
		return []*Param{l.Weight}
	}
	return []*Param{l.Weight, l.Bias}
}

func (l *Conv2D) bias() []float32 {
	if l.Bias == nil {
		return nil
	}
	return l.Bias.Value.Data
}
