package main

func poolFile() *file {
	f := newFile("pool2d_amd64.s", "")
	f.words("maxPoolLanes", []uint32{0, 1, 2, 3, 4, 5, 6, 7})
	maxPoolRow(f)
	maxPoolBackRow(f)
	globalMaxPool(f)
	return f
}

// pick replaces the best (Y0) and its offset (Y1) by the candidate Y2 and
// offv where Y2 > Y0, or Y2 is NaN and Y0 is not: MaxPool2x2Ref's rule.
func pick(f *file, offv string) {
	f.ins("VCMPPS", "$0x1e", "Y0", "Y2", "Y3")
	f.ins("VCMPPS", "$3", "Y2", "Y2", "Y4")
	f.ins("VCMPPS", "$7", "Y0", "Y0", "Y5")
	f.ins("VANDPS", "Y5", "Y4", "Y4")
	f.ins("VORPS", "Y4", "Y3", "Y3")
	f.ins("VBLENDVPS", "Y3", "Y2", "Y0", "Y0")
	f.ins("VBLENDVPS", "Y3", offv, "Y1", "Y1")
}

// broadcastInt sets the eight int32 lanes of Y(n) to the low half of reg,
// through X(n).
func broadcastInt(f *file, reg string, n int, comment string) {
	f.ins("MOVQ", reg, X(n))
	if comment == "" {
		f.ins("VPBROADCASTD", X(n), Y(n))
		return
	}
	f.insc(comment, "VPBROADCASTD", X(n), Y(n))
}

// laneIndex sets Y12 to the flat index of channel BX/4 + lane, plus the
// pixel's base in R10.
func laneIndex(f *file) {
	f.ins("MOVQ", "BX", "AX")
	f.ins("SHRQ", "$2", "AX")
	f.ins("ADDQ", "R10", "AX")
	broadcastInt(f, "AX", 12, "")
	f.ins("VPADDD", "Y11", "Y12", "Y12")
}

// storeBest writes the best values (Y0) to y and their flat indices, the
// lane index plus the offset in Y1, to idx, then loops over the channels.
func storeBest(f *file) {
	f.ins("VMOVUPS", "Y0", "(DI)(BX*1)")
	laneIndex(f)
	f.ins("VPADDD", "Y1", "Y12", "Y12")
	f.ins("VMOVDQU", "Y12", "(R8)(BX*1)")
	f.next("BX", 32, "R12", "chan")
}

// windowOffsets loads the arguments shared by the two 2×2 kernels and sets
// Y8-Y10 to the offsets of the window's pixels (0,1), (1,0) and (1,1),
// Y11 to the lanes 0-7, R9 to a row and R12 to a pixel in bytes.
func windowOffsets(g *fn) {
	f := g.f
	g.load("ow", "CX", "wc", "R9", "c", "DX")
	f.insc("flat index of the window's first pixel", "MOVQ", g.arg("base"), "R10")
	broadcastInt(f, "DX", 8, "offset of (0,1): c")
	broadcastInt(f, "R9", 9, "offset of (1,0): wc")
	f.ins("LEAQ", "(R9)(DX*1)", "AX")
	broadcastInt(f, "AX", 10, "offset of (1,1): wc + c")
	f.ins("VMOVDQU", "maxPoolLanes<>(SB)", "Y11")
}

func pixelBytes(f *file) {
	f.insc("row in bytes", "SHLQ", "$2", "R9")
	f.ins("MOVQ", "DX", "R12")
	f.insc("pixel in bytes", "SHLQ", "$2", "R12")
}

func maxPoolRow(f *file) {
	g := f.text("maxPoolRowAVX2", "y *float32, idx *int32, in *float32, ow, wc, c, base int", "", "")
	g.load("y", "DI", "idx", "R8", "in", "R13")
	windowOffsets(g)
	pixelBytes(f)
	f.label("pixel")
	f.ins("XORQ", "BX", "BX")
	f.label("chan")
	f.ins("LEAQ", "(R13)(BX*1)", "AX")
	f.ins("VMOVUPS", "(AX)", "Y0")
	f.ins("VPXOR", "Y1", "Y1", "Y1")
	f.ins("VMOVUPS", "(AX)(R12*1)", "Y2")
	pick(f, "Y8")
	f.ins("ADDQ", "R9", "AX")
	f.ins("VMOVUPS", "(AX)", "Y2")
	pick(f, "Y9")
	f.ins("VMOVUPS", "(AX)(R12*1)", "Y2")
	pick(f, "Y10")
	storeBest(f)
	f.ins("ADDQ", "R12", "DI")
	f.ins("ADDQ", "R12", "R8")
	f.ins("LEAQ", "(R13)(R12*2)", "R13")
	f.ins("LEAQ", "(R10)(DX*2)", "R10")
	f.ins("DECQ", "CX")
	f.ins("JNZ", "pixel")
	f.ret()
}

func maxPoolBackRow(f *file) {
	g := f.text("maxPoolBackRowAVX2", "pair, dy *float32, idx *int32, ow, wc, c, base int", "bool",
		`For 8 channels of an output pixel, rel = idx - (window index + lane) must
be 0, c, wc or wc+c; the window's four input pixels get dy+0 where rel
names them and +0 elsewhere.`)
	g.load("pair", "DI", "dy", "SI", "idx", "R8")
	windowOffsets(g)
	f.ins("VPXOR", "Y15", "Y15", "Y15")
	pixelBytes(f)
	f.insc("output pixel offset in bytes", "XORQ", "R13", "R13")
	f.label("pixel")
	f.ins("XORQ", "BX", "BX")
	f.label("chan")
	laneIndex(f)
	f.ins("LEAQ", "(R13)(BX*1)", "AX")
	f.ins("VMOVDQU", "(R8)(AX*1)", "Y0")
	f.insc("rel", "VPSUBD", "Y12", "Y0", "Y0")
	// Y1-Y4: rel names pixel (0,0), (0,1), (1,0), (1,1); one must.
	for k, off := range []string{"Y15", "Y8", "Y9", "Y10"} {
		f.ins("VPCMPEQD", off, "Y0", Y(1+k))
	}
	f.ins("VPOR", "Y2", "Y1", "Y5")
	f.ins("VPOR", "Y3", "Y5", "Y5")
	f.ins("VPOR", "Y4", "Y5", "Y5")
	f.ins("VMOVMSKPS", "Y5", "R11")
	f.ins("CMPQ", "R11", "$0xff")
	f.ins("JNE", "bad")
	f.ins("VMOVUPS", "(SI)(AX*1)", "Y6")
	f.insc("0 + dy, as the reference adds", "VADDPS", "Y6", "Y15", "Y6")
	for k := range 4 {
		f.ins("VANDPS", "Y6", Y(1+k), Y(1+k))
	}
	f.insc("window's (0,0) in bytes", "LEAQ", "(BX)(R13*2)", "AX")
	f.ins("ADDQ", "DI", "AX")
	f.ins("VMOVUPS", "Y1", "(AX)")
	f.ins("VMOVUPS", "Y2", "(AX)(R12*1)")
	f.ins("ADDQ", "R9", "AX")
	f.ins("VMOVUPS", "Y3", "(AX)")
	f.ins("VMOVUPS", "Y4", "(AX)(R12*1)")
	f.next("BX", 32, "R12", "chan")
	f.ins("ADDQ", "R12", "R13")
	f.ins("LEAQ", "(R10)(DX*2)", "R10")
	f.ins("DECQ", "CX")
	f.ins("JNZ", "pixel")
	f.ins("VZEROUPPER")
	f.ins("MOVB", "$1", g.arg("ret"))
	f.ins("RET")
	f.label("bad")
	f.ins("VZEROUPPER")
	f.ins("MOVB", "$0", g.arg("ret"))
	f.ins("RET")
}

func globalMaxPool(f *file) {
	g := f.text("globalMaxPoolAVX2", "y *float32, idx *int32, x *float32, hw, c, base int", "",
		`One image: for 8 channels at a time, the positions are compared in order
with pick, the offset of the best kept as p·c.`)
	g.load("y", "DI", "idx", "R8", "x", "SI", "hw", "CX", "c", "DX", "base", "R10")
	broadcastInt(f, "DX", 8, "c: the offset step between positions")
	f.ins("VMOVDQU", "maxPoolLanes<>(SB)", "Y11")
	f.ins("MOVQ", "DX", "R12")
	f.insc("position in bytes", "SHLQ", "$2", "R12")
	f.insc("channel offset in bytes", "XORQ", "BX", "BX")
	f.label("chan")
	f.ins("LEAQ", "(SI)(BX*1)", "AX")
	f.ins("VMOVUPS", "(AX)", "Y0")
	f.ins("VPXOR", "Y1", "Y1", "Y1")
	f.insc("offset of the current position", "VPXOR", "Y9", "Y9", "Y9")
	f.ins("MOVQ", "CX", "R9")
	f.ins("DECQ", "R9")
	f.ins("JZ", "store")
	f.label("pos")
	f.ins("ADDQ", "R12", "AX")
	f.ins("VPADDD", "Y8", "Y9", "Y9")
	f.ins("VMOVUPS", "(AX)", "Y2")
	pick(f, "Y9")
	f.ins("DECQ", "R9")
	f.ins("JNZ", "pos")
	f.label("store")
	storeBest(f)
	f.ret()
}
