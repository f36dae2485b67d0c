//go:build noasm || !amd64

package kernels

func winoInAVX2(v *float32, ld int, src *[16]*float32, c int) { panic("kernels: no assembly") }
func winoOutAVX2(dst *[4]*float32, m *float32, ld int, bias *float32, c int, relu bool) {
	panic("kernels: no assembly")
}
func winoGradOutAVX2(m *float32, ld int, dy *[4]*float32, y *[4]*float32, db *float32, c int, relu bool) {
	panic("kernels: no assembly")
}
func winoGradInAVX2(dst, acc *[16]*float32, v *float32, ld int, c int) { panic("kernels: no assembly") }
