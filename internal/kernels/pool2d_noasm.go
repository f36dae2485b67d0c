//go:build noasm || !amd64

package kernels

func maxPoolRowAVX2(y *float32, idx *int32, in *float32, ow, wc, c, base int) {
	panic("kernels: no assembly")
}

func maxPoolBackRowAVX2(pair, dy *float32, idx *int32, ow, wc, c, base int) bool {
	panic("kernels: no assembly")
}

func globalMaxPoolAVX2(y *float32, idx *int32, x *float32, hw, c, base int) {
	panic("kernels: no assembly")
}
