package imageprep

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // registered for image.Decode
	_ "image/jpeg"
	_ "image/png"
	"io"
	"math"
	"os"

	"github.com/fmnist/fmnist/internal/safefile"
)

// Size is the side of a Fashion-MNIST image.
const Size = 28

// DefaultMaxPixels caps width×height of a picture to decode (a 6000×4000
// photo fits). A picture of more than 4 bytes a pixel (16-bit colour) counts
// for more pixels, so that the decoded image stays under 96 MB whatever its
// format, and preparing it under a few times that.
const DefaultMaxPixels = 24_000_000

// DefaultThreshold is the distance from the background (0..255) above
// which a pixel belongs to the article: 5%, as in Fashion-MNIST's recipe.
const DefaultThreshold = 13

// Errors that callers test with errors.Is.
var (
	ErrFormat   = errors.New("not a PNG, JPEG or GIF image")
	ErrTooLarge = errors.New("image too large")
	ErrEmpty    = errors.New("image has no pixels")
)

// Invert says whether to negate the picture.
type Invert int

const (
	InvertAuto   Invert = iota // when the border is light
	InvertAlways               // for dark-on-light pictures
	InvertNever                // for light-on-dark pictures, like Fashion-MNIST's
)

// ParseInvert reads "auto", "yes" or "no".
func ParseInvert(s string) (Invert, error) {
	switch s {
	case "auto":
		return InvertAuto, nil
	case "yes":
		return InvertAlways, nil
	case "no":
		return InvertNever, nil
	}
	return 0, fmt.Errorf("imageprep: invert %q, want auto, yes or no", s)
}

func (v Invert) String() string {
	switch v {
	case InvertAuto:
		return "auto"
	case InvertAlways:
		return "yes"
	case InvertNever:
		return "no"
	}
	return fmt.Sprintf("Invert(%d)", int(v))
}

// Options tune Prepare and File. The zero value is the default.
type Options struct {
	Invert Invert
	// Threshold is the distance from the background level (0..255) above
	// which a pixel counts as the article; 0 means DefaultThreshold.
	Threshold int
	// MaxPixels caps width×height of a decoded picture; 0 means
	// DefaultMaxPixels.
	MaxPixels int
}

// Result is a prepared picture.
type Result struct {
	Pixels      [Size * Size]uint8 // row-major, light on dark, as dataset.Set.Image
	Bounds      image.Rectangle    // of the source picture
	Box         image.Rectangle    // the article's bounding box, in the source's coordinates
	Inverted    bool
	PassThrough bool  // 28×28: only converted to gray and maybe inverted
	Background  uint8 // the level subtracted (after inversion)
}

// Prepare turns img into a Fashion-MNIST item; see the package
// documentation for the steps.
func Prepare(img image.Image, opt Options) (Result, error) {
	r, err := prepare(img, opt)
	if err != nil {
		return r, fmt.Errorf("imageprep: %w", err)
	}
	return r, nil
}

func prepare(img image.Image, opt Options) (Result, error) {
	b := img.Bounds()
	if b.Empty() {
		return Result{}, fmt.Errorf("%w: bounds %v", ErrEmpty, b)
	}
	thr := opt.Threshold
	if thr == 0 {
		thr = DefaultThreshold
	}
	if thr < 0 || thr > 255 {
		return Result{}, fmt.Errorf("threshold %d, want 0 to 255", thr)
	}
	g := ToGray(img)
	w, h := b.Dx(), b.Dy()
	hist, n := borderHist(g.Pix, w, h)
	inv := opt.Invert == InvertAlways
	if opt.Invert == InvertAuto {
		var sum int
		for v, c := range hist {
			sum += v * c
		}
		inv = 2*sum >= 256*n // mean ≥ 128
	}
	if inv {
		for i, v := range g.Pix {
			g.Pix[i] = 255 - v
		}
		for v := range 128 {
			hist[v], hist[255-v] = hist[255-v], hist[v]
		}
	}
	r := Result{Bounds: b, Inverted: inv}
	if w == Size && h == Size {
		copy(r.Pixels[:], g.Pix)
		r.Box, r.PassThrough = b, true
		return r, nil
	}
	bg := median(&hist, n)
	r.Background = uint8(bg)
	box := bbox(g.Pix, w, h, bg, thr)
	r.Box = box.Add(b.Min)

	// The background ramp as a table: v ↦ max(0, v−bg)·255/(255−bg).
	var lut [256]float64
	if bg < 255 {
		for v := bg + 1; v < 256; v++ {
			lut[v] = float64(v-bg) * 255 / float64(255-bg)
		}
	}
	cw, ch := box.Dx(), box.Dy()
	tw, th := fit(cw, ch)
	out := resample(g.Pix[box.Min.Y*w+box.Min.X:], w, cw, ch, tw, th, &lut)
	ox, oy := (Size-tw+1)/2, (Size-th+1)/2
	for y := range th {
		for x := range tw {
			r.Pixels[(oy+y)*Size+ox+x] = toByte(out[y*tw+x])
		}
	}
	return r, nil
}

func toByte(v float64) uint8 {
	return uint8(math.Round(max(0, min(255, v))))
}

// fit returns the size of a w×h box scaled so that its longer side is
// Size, the shorter rounded to the nearest pixel and at least 1.
func fit(w, h int) (int, int) {
	short := func(s, l int) int { return max(1, int((int64(s)*2*Size+int64(l))/(2*int64(l)))) }
	if w >= h {
		return Size, short(h, w)
	}
	return short(w, h), Size
}

// borderHist counts the values of the pixels on the border of a w×h
// picture, each pixel once.
func borderHist(pix []uint8, w, h int) (hist [256]int, n int) {
	add := func(row []uint8) {
		for _, v := range row {
			hist[v]++
		}
		n += len(row)
	}
	add(pix[:w])
	if h > 1 {
		add(pix[(h-1)*w : h*w])
	}
	for y := 1; y < h-1; y++ {
		add(pix[y*w : y*w+1])
		if w > 1 {
			add(pix[y*w+w-1 : y*w+w])
		}
	}
	return hist, n
}

// median is the lower median of n counted values.
func median(hist *[256]int, n int) int {
	seen := 0
	for v, c := range hist {
		seen += c
		if 2*seen >= n {
			return v
		}
	}
	return 255
}

// bbox is the bounding box of the pixels farther than thr from bg, or the
// whole picture when there is none.
func bbox(pix []uint8, w, h, bg, thr int) image.Rectangle {
	x0, y0, x1, y1 := w, h, -1, -1
	for y := range h {
		row := pix[y*w : (y+1)*w]
		first := -1
		for x, v := range row {
			if d := int(v) - bg; d > thr || -d > thr {
				first = x
				break
			}
		}
		if first < 0 {
			continue
		}
		last := first
		for x := w - 1; x > first; x-- {
			if d := int(row[x]) - bg; d > thr || -d > thr {
				last = x
				break
			}
		}
		x0, x1 = min(x0, first), max(x1, last)
		y0, y1 = min(y0, y), y
	}
	if x1 < 0 {
		return image.Rect(0, 0, w, h)
	}
	return image.Rect(x0, y0, x1+1, y1+1)
}

// File decodes the picture at path and prepares it. Its errors start with
// "imageprep: PATH: ".
func File(path string, opt Options) (Result, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return Result{}, fmt.Errorf("imageprep: %s: is a folder, not an image", path)
	}
	f, _, err := safefile.Open(path) // a FIFO would block open(2)
	if err != nil {
		return Result{}, fmt.Errorf("imageprep: %w", err) // the PathError names the file
	}
	defer f.Close()
	img, err := decode(f, opt.MaxPixels)
	if err != nil {
		return Result{}, fmt.Errorf("imageprep: %s: %w", path, err)
	}
	r, err := prepare(img, opt)
	if err != nil {
		return Result{}, fmt.Errorf("imageprep: %s: %w", path, err)
	}
	return r, nil
}

// Decode reads a PNG, JPEG or GIF picture (the first frame of a GIF). It
// reads the size first and refuses a picture of more than maxPixels pixels
// (0: DefaultMaxPixels) with ErrTooLarge before decoding it.
func Decode(r io.ReadSeeker, maxPixels int) (image.Image, error) {
	img, err := decode(r, maxPixels)
	if err != nil {
		return nil, fmt.Errorf("imageprep: %w", err)
	}
	return img, nil
}

func decode(r io.ReadSeeker, maxPixels int) (image.Image, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	cfg, _, err := image.DecodeConfig(bufio.NewReader(r))
	if err != nil {
		return nil, decodeErr(err)
	}
	if err := checkSize(cfg.Width, cfg.Height, maxPixels*4/bytesPerPixel(cfg.ColorModel)); err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bufio.NewReader(r))
	if err != nil {
		return nil, decodeErr(err)
	}
	b := img.Bounds()
	if err := checkSize(b.Dx(), b.Dy(), maxPixels); err != nil {
		return nil, err
	}
	return img, nil
}

// bytesPerPixel is what a decoded pixel of colour model m takes, at least 4.
func bytesPerPixel(m color.Model) int {
	switch m {
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	return 4
}

func checkSize(w, h, maxPixels int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: %d×%d", ErrEmpty, w, h)
	}
	if int64(w)*int64(h) > int64(maxPixels) {
		return fmt.Errorf("%w: %d×%d = %d pixels, over the limit of %d", ErrTooLarge, w, h, int64(w)*int64(h), maxPixels)
	}
	return nil
}

func decodeErr(err error) error {
	switch {
	case errors.Is(err, image.ErrFormat):
		return ErrFormat
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("truncated image: %w", io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("corrupt image: %w", err)
}
