package imageprep

import (
	"image"
)

// ToGray returns the luminance of img as a new gray picture whose bounds
// start at (0, 0), with transparent pixels composited over white. The
// weights are color.GrayModel's, so an opaque picture gets exactly
// color.GrayModel's values and an 8-bit gray picture its own.
func ToGray(img image.Image) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	g := image.NewGray(image.Rect(0, 0, w, h))
	// The common decoder outputs have their own loops, which call concrete
	// methods rather than At, whose interface result allocates per pixel.
	// They compute the same values as the generic loop.
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			copy(g.Pix[y*w:(y+1)*w], m.Pix[i:i+w])
		}
	case *image.RGBA:
		each(g, b, func(x, y int) uint8 { return lum(m.RGBAAt(x, y).RGBA()) })
	case *image.NRGBA:
		each(g, b, func(x, y int) uint8 { return lum(m.NRGBAAt(x, y).RGBA()) })
	case *image.YCbCr:
		each(g, b, func(x, y int) uint8 { return lum(m.YCbCrAt(x, y).RGBA()) })
	case *image.Gray16:
		each(g, b, func(x, y int) uint8 { return lum(m.Gray16At(x, y).RGBA()) })
	case *image.Paletted:
		var pal [256]uint8
		// An index past the palette (At would panic) or a nil entry reads
		// as opaque black, as image/png pads a short palette.
		for i := range pal {
			pal[i] = lum(0, 0, 0, 0xffff)
			if i < len(m.Palette) && m.Palette[i] != nil {
				pal[i] = lum(m.Palette[i].RGBA())
			}
		}
		each(g, b, func(x, y int) uint8 { return pal[m.ColorIndexAt(x, y)] })
	default:
		each(g, b, func(x, y int) uint8 { return lum(img.At(x, y).RGBA()) })
	}
	return g
}

func each(g *image.Gray, b image.Rectangle, f func(x, y int) uint8) {
	w := b.Dx()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := g.Pix[(y-b.Min.Y)*w : (y-b.Min.Y+1)*w]
		for x := range row {
			row[x] = f(b.Min.X+x, y)
		}
	}
}

// lum is the 8-bit luminance of a premultiplied 16-bit colour over white:
// color.GrayModel's formula on c + (1-α)·white. It clamps, since a
// premultiplied colour with a channel above its alpha is possible in an
// image.RGBA.
func lum(r, g, b, a uint32) uint8 {
	k := 0xffff - a
	y := (19595*(r+k) + 38470*(g+k) + 7471*(b+k) + 1<<15) >> 24
	return uint8(min(y, 255))
}
