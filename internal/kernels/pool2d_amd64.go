//go:build !noasm

package kernels

// maxPoolRowAVX2 pools one output row of ow pixels from two input rows of
// wc floats starting at in, which is flat index base of x; c is a multiple
// of 8. See maxPoolRowGo.
//
//go:noescape
func maxPoolRowAVX2(y *float32, idx *int32, in *float32, ow, wc, c, base int)

// maxPoolBackRowAVX2 writes the two input rows at pair (flat index base) of
// one output row of ow pixels; c is a multiple of 8. It reports false, at
// the first index not in its window, as maxPoolBackRowGo does.
//
//go:noescape
func maxPoolBackRowAVX2(pair, dy *float32, idx *int32, ow, wc, c, base int) bool

// globalMaxPoolAVX2 pools one image of hw positions of c channels (c a
// multiple of 8, hw at least 1) starting at flat index base of x.
//
//go:noescape
func globalMaxPoolAVX2(y *float32, idx *int32, x *float32, hw, c, base int)
