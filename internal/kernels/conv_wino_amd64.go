//go:build !noasm

package kernels

// The Winograd transforms of conv_wino.go (winoInGo, winoOutGo,
// winoGradOutGo, winoGradInGo) for c a multiple of 8, with the same bits.
// bias and db may be nil; y is read only when relu is set.

//go:noescape
func winoInAVX2(v *float32, ld int, src *[16]*float32, c int)

//go:noescape
func winoOutAVX2(dst *[4]*float32, m *float32, ld int, bias *float32, c int, relu bool)

//go:noescape
func winoGradOutAVX2(m *float32, ld int, dy *[4]*float32, y *[4]*float32, db *float32, c int, relu bool)

//go:noescape
func winoGradInAVX2(dst, acc *[16]*float32, v *float32, ld int, c int)
