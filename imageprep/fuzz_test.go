package imageprep

import (
	"bytes"
	"image"
	"testing"
)

// FuzzPrepare runs the decoder and Prepare on arbitrary bytes: an error or
// a valid 28×28 item, never a panic or an out-of-bounds box.
func FuzzPrepare(f *testing.F) {
	all := encodeAll(f)
	for _, b := range all {
		f.Add(b, uint8(0))
	}
	// Whole files of claimed sizes over the cap: the checksum of the
	// header keeps the fuzzer from making them by mutation.
	for _, png := range []string{"png", "rgba.png", "paletted.png"} {
		p := all[png]
		for _, wh := range [][2]uint32{{1 << 16, 2}, {49_999_999, 1}, {1, 1 << 31}} {
			f.Add(append(pngHeader(p, wh[0], wh[1]), p[33:]...), uint8(1))
		}
	}
	f.Add([]byte("GIF89a"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		img, err := Decode(bytes.NewReader(data), 1<<16) // capped: the fuzzer is not a memory test
		if err != nil {
			return
		}
		b := img.Bounds()
		if b.Empty() || b.Dx()*b.Dy() > 1<<16 {
			t.Fatalf("decoded bounds %v", b)
		}
		r, err := Prepare(img, Options{Invert: Invert(mode % 3), Threshold: int(mode)})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Box.In(b) || r.Box.Empty() || r.Bounds != b {
			t.Fatalf("box %v, bounds %v of %v", r.Box, r.Bounds, b)
		}
		if r.PassThrough != (b.Size() == image.Pt(Size, Size)) {
			t.Fatalf("pass-through %v for %v", r.PassThrough, b)
		}
	})
}
