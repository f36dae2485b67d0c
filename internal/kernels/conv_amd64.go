//go:build !noasm

package kernels

// im2colRowAVX2 writes the w col rows of one image row; src holds its three
// input rows (nil for padding). c is a multiple of 8. With nt the stores
// stream past the caches (dst must be 32-byte aligned) and are fenced before
// it returns.
//
//go:noescape
func im2colRowAVX2(dst *float32, src *[3]*float32, w, c int, nt bool)

// col2imRowAVX2 gathers one image row of dx (w pixels of c channels, c a
// multiple of 8) from the col rows at q[0:nq]; see col2imGatherGo. pf, if
// not nil, is col data to prefetch, w·9c floats.
//
//go:noescape
func col2imRowAVX2(dst *float32, q *[3]*float32, nq, w, c int, pf *float32)
