package imageprep

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// opaque hides an image's concrete type, so that ToGray takes its generic
// path.
type opaque struct{ image.Image }

// canvas returns a w×h gray picture at origin (ox, oy) filled with bg.
func canvas(ox, oy, w, h int, bg uint8) *image.Gray {
	g := image.NewGray(image.Rect(ox, oy, ox+w, oy+h))
	for i := range g.Pix {
		g.Pix[i] = bg
	}
	return g
}

func fill(g *image.Gray, r image.Rectangle, v uint8) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			g.SetGray(x, y, color.Gray{v})
		}
	}
}

// frame draws the expected 28×28 result: v inside r, 0 elsewhere.
func frame(r image.Rectangle, v uint8) [Size * Size]uint8 {
	var p [Size * Size]uint8
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p[y*Size+x] = v
		}
	}
	return p
}

func TestInvertDecision(t *testing.T) {
	for _, c := range []struct {
		name    string
		bg, fg  uint8
		mode    Invert
		want    bool
		wantErr bool
	}{
		{"white background", 255, 0, InvertAuto, true, false},
		{"black background", 0, 255, InvertAuto, false, false},
		{"border mean 127", 127, 255, InvertAuto, false, false},
		{"border mean 128", 128, 0, InvertAuto, true, false},
		{"forced on light-on-dark", 0, 255, InvertAlways, true, false},
		{"forced off on dark-on-light", 255, 0, InvertNever, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := canvas(0, 0, 40, 30, c.bg)
			fill(g, image.Rect(10, 5, 30, 25), c.fg)
			r, err := Prepare(g, Options{Invert: c.mode})
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v", err)
			}
			if r.Inverted != c.want {
				t.Errorf("inverted %v, want %v", r.Inverted, c.want)
			}
		})
	}
}

func TestParseInvert(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    Invert
		wantErr bool
	}{{"auto", InvertAuto, false}, {"yes", InvertAlways, false}, {"no", InvertNever, false},
		{"", 0, true}, {"true", 0, true}, {"Auto", 0, true}} {
		got, err := ParseInvert(c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("ParseInvert(%q) = %v, %v", c.in, got, err)
		}
		if err == nil && got.String() != c.in {
			t.Errorf("String() = %q, want %q", got.String(), c.in)
		}
	}
}

// TestBoundingBoxAndAspect draws one dark rectangle on a light picture and
// checks the box found, the scaled size and the centring.
func TestBoundingBoxAndAspect(t *testing.T) {
	for _, c := range []struct {
		name   string
		origin image.Point
		w, h   int
		rect   image.Rectangle // in the picture's coordinates
		want   image.Rectangle // in the 28×28 frame
	}{
		// 40×20 → 28×14, 7 rows above (the odd margin goes on top).
		{"wide, shrunk", image.Pt(0, 0), 100, 60, image.Rect(30, 10, 70, 30), image.Rect(0, 7, 28, 21)},
		{"wide, origin moved", image.Pt(-50, 13), 100, 60, image.Rect(-20, 23, 20, 43), image.Rect(0, 7, 28, 21)},
		// 10×30 → 9.33 rounds to 9 wide; margins 10 and 9.
		{"tall", image.Pt(0, 0), 50, 50, image.Rect(5, 10, 15, 40), image.Rect(10, 0, 19, 28)},
		// 7×7 → 28×28, enlarged.
		{"small square, enlarged", image.Pt(0, 0), 20, 20, image.Rect(3, 3, 10, 10), image.Rect(0, 0, 28, 28)},
		// 2×14 → 4×28: 24 columns of margin, 12 each side.
		{"thin, enlarged", image.Pt(0, 0), 20, 20, image.Rect(9, 3, 11, 17), image.Rect(12, 0, 16, 28)},
		// 56×27 → 28×13.5: rounds half up to 14.
		{"half pixel", image.Pt(0, 0), 80, 40, image.Rect(4, 4, 60, 31), image.Rect(0, 7, 28, 21)},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := canvas(c.origin.X, c.origin.Y, c.w, c.h, 250)
			fill(g, c.rect, 0)
			r, err := Prepare(g, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !r.Inverted || r.PassThrough || r.Background != 5 {
				t.Errorf("inverted %v, pass-through %v, background %d", r.Inverted, r.PassThrough, r.Background)
			}
			if r.Box != c.rect {
				t.Errorf("box %v, want %v", r.Box, c.rect)
			}
			if want := frame(c.want, 255); r.Pixels != want {
				t.Errorf("pixels:\n%s\nwant:\n%s", show(r.Pixels), show(want))
			}
		})
	}
}

func show(p [Size * Size]uint8) string {
	var b strings.Builder
	for y := range Size {
		for x := range Size {
			b.WriteByte(" .:-=+*#%@"[int(p[y*Size+x])*9/255])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestShrinkAverages checks area averaging on a 2×-scale checkerboard: a
// 56×56 board of 1-pixel squares is uniform grey at 28×28.
func TestShrinkAverages(t *testing.T) {
	g := canvas(0, 0, 58, 58, 0)
	for y := 1; y < 57; y++ {
		for x := 1; x < 57; x++ {
			g.SetGray(x, y, color.Gray{uint8(255 * ((x + y) & 1))})
		}
	}
	r, err := Prepare(g, Options{Invert: InvertNever})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range r.Pixels {
		if v != 128 { // 127.5 rounds up
			t.Fatalf("pixel %d = %d, want 128 (subsampling would give 0 or 255)", i, v)
		}
	}
}

func TestBackgroundRemoved(t *testing.T) {
	// A grey 200 article on a light-grey 230 background: inverted, the
	// background 25 goes to 0 and the article 55 to (55-25)·255/230 = 33.
	g := canvas(0, 0, 60, 60, 230)
	fill(g, image.Rect(16, 2, 44, 58), 200)
	r, err := Prepare(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := frame(image.Rect(7, 0, 21, 28), 33); r.Pixels != want || r.Background != 25 {
		t.Errorf("background %d, pixels:\n%s", r.Background, show(r.Pixels))
	}
}

func TestNothingFound(t *testing.T) {
	// A uniform picture: kept whole, and black once its level is removed.
	g := canvas(0, 0, 30, 20, 240)
	r, err := Prepare(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Box != g.Rect || r.Pixels != ([Size * Size]uint8{}) {
		t.Errorf("box %v, want the whole %v; pixels:\n%s", r.Box, g.Rect, show(r.Pixels))
	}
	// An article within the threshold of the background is not found.
	fill(g, image.Rect(10, 5, 20, 15), 240-DefaultThreshold)
	if r, _ := Prepare(g, Options{}); r.Box != g.Rect {
		t.Errorf("box %v, want the whole %v", r.Box, g.Rect)
	}
	// A threshold of 5 finds it.
	if r, _ := Prepare(g, Options{Threshold: 5}); r.Box != image.Rect(10, 5, 20, 15) {
		t.Errorf("threshold 5: box %v", r.Box)
	}
}

func TestPassThrough(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	item := image.NewGray(image.Rect(0, 0, Size, Size))
	for i := range item.Pix {
		if x, y := i%Size, i/Size; x > 0 && x < Size-1 && y > 0 && y < Size-1 {
			item.Pix[i] = uint8(rng.IntN(256))
		}
	}
	item.Pix[3] = 255 // a bright border pixel, as some items have
	var want [Size * Size]uint8
	copy(want[:], item.Pix)

	rgb := image.NewNRGBA(item.Rect)
	dark := image.NewGray(item.Rect)
	for i, v := range item.Pix {
		rgb.Pix[4*i], rgb.Pix[4*i+1], rgb.Pix[4*i+2], rgb.Pix[4*i+3] = v, v, v, 255
		dark.Pix[i] = 255 - v
	}
	moved := image.NewGray(image.Rect(100, -40, 100+Size, -40+Size))
	copy(moved.Pix, item.Pix)
	var png16 bytes.Buffer
	g16 := image.NewGray16(item.Rect)
	for i, v := range item.Pix {
		g16.Pix[2*i], g16.Pix[2*i+1] = v, 0xaa // the low byte is dropped
	}
	if err := png.Encode(&png16, g16); err != nil {
		t.Fatal(err)
	}
	from16, err := Decode(bytes.NewReader(png16.Bytes()), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		img  image.Image
		opt  Options
		inv  bool
	}{
		{"gray", item, Options{}, false},
		{"gray, generic path", opaque{item}, Options{}, false},
		{"gray, moved origin", moved, Options{}, false},
		{"NRGBA grey", rgb, Options{}, false},
		{"16-bit PNG", from16, Options{}, false},
		{"dark on light", dark, Options{}, true},
		{"dark on light, forced", dark, Options{Invert: InvertAlways}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Prepare(c.img, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if r.Pixels != want || !r.PassThrough || r.Inverted != c.inv || r.Box != c.img.Bounds() {
				t.Errorf("changed: pass-through %v, inverted %v, box %v", r.PassThrough, r.Inverted, r.Box)
			}
		})
	}
}

func TestToGray(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	r := image.Rect(-3, 5, 14, 16)
	rgba, nrgba := image.NewRGBA(r), image.NewNRGBA(r)
	g16, rgba64 := image.NewGray16(r), image.NewRGBA64(r)
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	cmyk := image.NewCMYK(r)
	pal := image.NewPaletted(r, color.Palette{color.White, color.NRGBA{200, 10, 10, 128}, color.Gray{77}})
	for _, b := range [][]uint8{nrgba.Pix, g16.Pix, rgba64.Pix, ycc.Y, ycc.Cb, ycc.Cr, cmyk.Pix} {
		for i := range b {
			b[i] = uint8(rng.IntN(256))
		}
	}
	for i := range rgba.Pix { // valid premultiplied colours
		if i%4 == 3 {
			a := uint8(rng.IntN(256))
			for k := 1; k <= 3; k++ {
				rgba.Pix[i-k] = uint8(rng.IntN(int(a) + 1))
			}
			rgba.Pix[i] = a
		}
	}
	for i := range pal.Pix {
		pal.Pix[i] = uint8(rng.IntN(5)) // 3 and 4 are past the palette
	}
	for _, img := range []image.Image{rgba, nrgba, g16, rgba64, ycc, cmyk} {
		fast, slow := ToGray(img), ToGray(opaque{img})
		if !bytes.Equal(fast.Pix, slow.Pix) {
			t.Errorf("%T: the fast path differs from the generic one", img)
		}
		if fast.Rect != image.Rect(0, 0, r.Dx(), r.Dy()) {
			t.Errorf("%T: bounds %v", img, fast.Rect)
		}
		for y := range r.Dy() {
			for x := range r.Dx() {
				c := img.At(r.Min.X+x, r.Min.Y+y)
				if _, _, _, a := c.RGBA(); a == 0xffff {
					if want := color.GrayModel.Convert(c).(color.Gray).Y; fast.GrayAt(x, y).Y != want {
						t.Fatalf("%T at %d,%d: %d, color.GrayModel says %d", img, x, y, fast.GrayAt(x, y).Y, want)
					}
				}
			}
		}
	}
	// Paletted: white, half-transparent red over white, grey, then black
	// for the indices past the palette.
	want := []uint8{255, lum(color.NRGBA{200, 10, 10, 128}.RGBA()), 77, 0, 0}
	g := ToGray(pal)
	for i, v := range g.Pix {
		if v != want[pal.Pix[i]] {
			t.Fatalf("paletted pixel %d (index %d) = %d, want %d", i, pal.Pix[i], v, want[pal.Pix[i]])
		}
	}
	for _, c := range []struct {
		c    color.Color
		want uint8
	}{
		{color.RGBA{255, 0, 0, 255}, 76}, {color.RGBA{0, 255, 0, 255}, 150}, {color.RGBA{0, 0, 255, 255}, 29},
		{color.Transparent, 255}, {color.NRGBA{0, 0, 0, 128}, 127}, {color.Gray16{0x12ff}, 0x12},
		{color.RGBA{255, 255, 255, 0}, 255}, // not a valid premultiplied colour: clamped
	} {
		if got := lum(c.c.RGBA()); got != c.want {
			t.Errorf("lum(%v) = %d, want %d", c.c, got, c.want)
		}
	}
}

func TestTinyPictures(t *testing.T) {
	for _, c := range []struct {
		name string
		img  image.Image
		want [Size * Size]uint8
	}{
		{"1×1 white", canvas(0, 0, 1, 1, 255), [Size * Size]uint8{}},
		{"1×1 black", canvas(0, 0, 1, 1, 0), [Size * Size]uint8{}},
		{"1×1 grey at an odd origin", canvas(-7, 9, 1, 1, 99), [Size * Size]uint8{}},
		// 1×3 → 9.33×28 rounds to 9; margins 10 and 9.
		{"1×3 line in a 3×5 picture", func() image.Image {
			g := canvas(0, 0, 3, 5, 0)
			fill(g, image.Rect(1, 1, 2, 4), 200)
			return g
		}(), frame(image.Rect(10, 0, 19, 28), 200)},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Prepare(c.img, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Pixels != c.want {
				t.Errorf("pixels:\n%s", show(r.Pixels))
			}
		})
	}
}

func TestPrepareErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		img  image.Image
		opt  Options
		want error
		msg  string
	}{
		{"empty", image.NewGray(image.Rect(3, 3, 3, 10)), Options{}, ErrEmpty, "imageprep: image has no pixels"},
		{"threshold", canvas(0, 0, 5, 5, 0), Options{Threshold: 256}, nil, "imageprep: threshold 256, want 0 to 255"},
		{"negative threshold", canvas(0, 0, 5, 5, 0), Options{Threshold: -1}, nil, "imageprep: threshold -1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Prepare(c.img, c.opt)
			if err == nil || !strings.HasPrefix(err.Error(), c.msg) || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("err %v, want %q (%v)", err, c.msg, c.want)
			}
		})
	}
}

// encodeAll encodes a 112×80 picture, a dark 64×48 box on white, in every
// format. The box is aligned to 16 pixels, so that JPEG's blocks (chroma
// subsampled) do not ring into the background.
func encodeAll(t testing.TB) map[string][]byte {
	t.Helper()
	g := canvas(0, 0, 112, 80, 255)
	fill(g, image.Rect(16, 16, 80, 64), 30)
	rgba := image.NewNRGBA(g.Rect)
	pal := image.NewPaletted(g.Rect, color.Palette{color.RGBA{250, 240, 230, 255}, color.RGBA{20, 40, 90, 255}})
	for i, v := range g.Pix {
		copy(rgba.Pix[4*i:], []uint8{v, v / 2, 255 - v, 255})
		if v < 128 {
			pal.Pix[i] = 1
		}
	}
	out := map[string][]byte{}
	enc := func(name string, f func(io.Writer) error) {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		out[name] = b.Bytes()
	}
	enc("png", func(w io.Writer) error { return png.Encode(w, g) })
	enc("rgba.png", func(w io.Writer) error { return png.Encode(w, rgba) })
	enc("paletted.png", func(w io.Writer) error { return png.Encode(w, pal) })
	enc("jpeg", func(w io.Writer) error { return jpeg.Encode(w, rgba, &jpeg.Options{Quality: 90}) })
	enc("gray.jpeg", func(w io.Writer) error { return jpeg.Encode(w, g, nil) })
	enc("gif", func(w io.Writer) error { return gif.Encode(w, pal, nil) })
	return out
}

// pngHeader is the signature and IHDR chunk of the PNG p, with its size
// changed to w×h and its CRC fixed: a header that claims any size.
func pngHeader(p []byte, w, h uint32) []byte {
	b := bytes.Clone(p[:33])
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestDecodeFormats(t *testing.T) {
	for name, b := range encodeAll(t) {
		img, err := Decode(bytes.NewReader(b), 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r, err := Prepare(img, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The box becomes a light 28×21 block with 4 rows of margin above
		// and 3 below.
		if !r.Inverted || r.Box != image.Rect(16, 16, 80, 64) {
			t.Errorf("%s: inverted %v, box %v", name, r.Inverted, r.Box)
		}
		for y := range Size {
			for x := range Size {
				v := r.Pixels[y*Size+x]
				if in := y >= 4 && y < 25; in && v < 150 || !in && v != 0 {
					t.Fatalf("%s: pixel %d,%d = %d:\n%s", name, x, y, v, show(r.Pixels))
				}
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good := encodeAll(t)["png"]
	// A PNG header claiming 30000×30000 pixels, and nothing after it: the
	// size is refused before any pixel is decoded.
	huge := pngHeader(good, 30000, 30000)
	for _, c := range []struct {
		name  string
		data  []byte
		max   int
		want  error
		inMsg string
	}{
		{"text", []byte("hello, world\n"), 0, ErrFormat, "imageprep: not a PNG, JPEG or GIF image"},
		{"empty file", nil, 0, ErrFormat, "not a PNG"},
		{"over the cap", good, 8959, ErrTooLarge, "imageprep: image too large: 112×80 = 8960 pixels, over the limit of 8959"},
		{"huge header", huge, 0, ErrTooLarge, "30000×30000 = 900000000 pixels, over the limit of 24000000"},
		{"truncated pixels", good[:len(good)-20], 0, nil, "imageprep: corrupt image: png: invalid format: unexpected EOF"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(c.data), c.max)
			if err == nil || c.want != nil && !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.inMsg) {
				t.Errorf("err %v, want %v containing %q", err, c.want, c.inMsg)
			}
		})
	}
	if _, err := Decode(bytes.NewReader(good), 8960); err != nil {
		t.Errorf("at the cap: %v", err)
	}
}

// TestDecodeTruncated cuts every encoding at every length: always an error,
// with one exception. A GIF decoder stops after the first frame, so the GIF
// without only its trailer byte (0x3B) decodes, to the same picture.
func TestDecodeTruncated(t *testing.T) {
	for name, b := range encodeAll(t) {
		full, err := Decode(bytes.NewReader(b), 0)
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(b) {
			img, err := Decode(bytes.NewReader(b[:n]), 0)
			if name == "gif" && n == len(b)-1 && b[n] == 0x3B {
				if err != nil || !samePixels(img, full) {
					t.Errorf("gif without its trailer: err %v, or other pixels", err)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s cut at %d of %d bytes decoded", name, n, len(b))
			}
		}
	}
}

// samePixels says whether a and b have the same bounds and colours.
func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return false
			}
		}
	}
	return true
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "shirt.png")
	if err := os.WriteFile(good, encodeAll(t)["png"], 0o644); err != nil {
		t.Fatal(err)
	}
	notImg := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notImg, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := File(good, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		opt  Options
		want error
		msg  string
	}{
		{filepath.Join(dir, "missing.png"), Options{}, os.ErrNotExist, "imageprep: open " + filepath.Join(dir, "missing.png") + ": no such file"},
		{dir, Options{}, nil, "imageprep: " + dir + ": is a folder, not an image"},
		{notImg, Options{}, ErrFormat, "imageprep: " + notImg + ": not a PNG, JPEG or GIF image"},
		{good, Options{MaxPixels: 10}, ErrTooLarge, "imageprep: " + good + ": image too large: 112×80"},
		{good, Options{Threshold: 300}, nil, "imageprep: " + good + ": threshold 300"},
	} {
		_, err := File(c.path, c.opt)
		if err == nil || !strings.HasPrefix(err.Error(), c.msg) || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("File(%s): %v, want %q (%v)", c.path, err, c.msg, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("File(%s): the error is not one line: %q", c.path, err)
		}
	}
}

func TestFit(t *testing.T) {
	for _, c := range []struct{ w, h, tw, th int }{
		{28, 28, 28, 28}, {1, 1, 28, 28}, {100, 50, 28, 14}, {50, 100, 14, 28}, {1000, 1, 28, 1},
		{1, 1000, 1, 28}, {56, 27, 28, 14}, {56, 26, 28, 13}, {30, 10, 28, 9}, {40_000_000, 39_999_999, 28, 28},
	} {
		if tw, th := fit(c.w, c.h); tw != c.tw || th != c.th {
			t.Errorf("fit(%d, %d) = %d, %d, want %d, %d", c.w, c.h, tw, th, c.tw, c.th)
		}
	}
}

func TestAxisTaps(t *testing.T) {
	for n := 1; n <= 90; n++ {
		for _, m := range []int{1, 2, 13, 27, 28} {
			taps := axisTaps(n, m)
			cover := make([]float64, n) // how much of each source pixel is used, in output pixels
			for j, tt := range taps {
				var s float64
				for _, tp := range tt {
					if tp.i < 0 || tp.i >= n || !(tp.w > 0 && tp.w <= 1) {
						t.Fatalf("n %d m %d output %d: tap %+v", n, m, j, tp)
					}
					s += tp.w
					cover[tp.i] += tp.w
				}
				if math.Abs(s-1) > 1e-12 {
					t.Fatalf("n %d m %d output %d: weights sum to %v", n, m, j, s)
				}
			}
			if m <= n { // an area average uses every source pixel equally
				for i, c := range cover {
					if math.Abs(c-float64(m)/float64(n)) > 1e-12 {
						t.Fatalf("n %d m %d: source %d has weight %v, want %v", n, m, i, c, float64(m)/float64(n))
					}
				}
			}
		}
	}
	// Enlarging 2 → 4: centres at 0.25, 0.75 of the first pixel and so on.
	got := axisTaps(2, 4)
	want := [][]tap{{{0, 1}}, {{0, 0.75}, {1, 0.25}}, {{0, 0.25}, {1, 0.75}}, {{1, 1}}}
	for j := range want {
		if len(got[j]) != len(want[j]) {
			t.Fatalf("axisTaps(2, 4)[%d] = %v, want %v", j, got[j], want[j])
		}
		for k := range want[j] {
			if got[j][k] != want[j][k] {
				t.Errorf("axisTaps(2, 4)[%d] = %v, want %v", j, got[j], want[j])
			}
		}
	}
}
