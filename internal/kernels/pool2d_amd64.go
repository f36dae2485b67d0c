//go:build !noasm

package kernels

// In the pooling assembly c is a multiple of 8, ow and hw at least 1. A
// candidate v replaces the best b when v > b || (v != v && b == b):
// MaxPool2x2Ref's rule.

// maxPoolRowAVX2 is, with in the two input rows of wc floats each,
//
//	for o := 0; o < ow*c; o++ {
//		i0 := 2*(o-o%c) + o%c
//		best, k := in[i0], 0
//		for _, off := range []int{c, wc, wc + c} {
//			if v := in[i0+off]; v > best || (v != v && best == best) {
//				best, k = v, off
//			}
//		}
//		y[o], idx[o] = best, int32(base+i0+k)
//	}
//
//go:noescape
func maxPoolRowAVX2(y *float32, idx *int32, in *float32, ow, wc, c, base int)

// maxPoolBackRowAVX2 is, with pair the two input rows of wc floats each,
//
//	for o := 0; o < ow*c; o++ {
//		i0 := 2*(o-o%c) + o%c
//		for _, off := range []int{0, c, wc, wc + c} {
//			pair[i0+off] = 0
//		}
//		off := int(idx[o]) - (base + i0)
//		if off != 0 && off != c && off != wc && off != wc+c {
//			return false
//		}
//		pair[i0+off] = 0 + dy[o]
//	}
//	return true
//
//go:noescape
func maxPoolBackRowAVX2(pair, dy *float32, idx *int32, ow, wc, c, base int) bool

// globalMaxPoolAVX2 is
//
//	for ch := 0; ch < c; ch++ {
//		best, k := x[ch], 0
//		for p := 1; p < hw; p++ {
//			if v := x[p*c+ch]; v > best || (v != v && best == best) {
//				best, k = v, p*c
//			}
//		}
//		y[ch], idx[ch] = best, int32(base+k+ch)
//	}
//
//go:noescape
func globalMaxPoolAVX2(y *float32, idx *int32, x *float32, hw, c, base int)

func maxPoolRowAVX2Span(y []float32, idx []int32, in []float32, c, base int) {
	ow := len(y) / max(c, 1)
	if c%8 != 0 || ow == 0 {
		maxPoolRowGo(y, idx, in, c, base)
		return
	}
	wc := len(in) / 2
	_, _, _ = idx[ow*c-1], in[wc+2*ow*c-1], y[ow*c-1]
	maxPoolRowAVX2(&y[0], &idx[0], &in[0], ow, wc, c, base)
}

func maxPoolBackRowAVX2Span(pair, dy []float32, idx []int32, c, base int) bool {
	ow := len(dy) / max(c, 1)
	if c%8 != 0 || ow == 0 {
		return maxPoolBackRowGo(pair, dy, idx, c, base)
	}
	wc := len(pair) / 2
	_, _ = idx[ow*c-1], pair[wc+2*ow*c-1]
	return maxPoolBackRowAVX2(&pair[0], &dy[0], &idx[0], ow, wc, c, base)
}

func globalMaxPoolAVX2Span(y []float32, idx []int32, x []float32, c, base int) {
	if c%8 != 0 || len(x) < c || c == 0 {
		globalMaxPoolGo(y, idx, x, c, base)
		return
	}
	_, _ = y[c-1], idx[c-1]
	globalMaxPoolAVX2(&y[0], &idx[0], &x[0], len(x)/c, c, base)
}
