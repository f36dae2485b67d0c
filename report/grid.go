package report

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// ImageSide is the side of one test image in pixels; images are row-major,
// one byte per pixel, 0 the background.
const ImageSide = 28

const imagePixels = ImageSide * ImageSide

// Layout of the mistakes grid, in pixels. The 7x13 bitmap font needs no
// font files and stays sharp; a tile fits 18 of its characters.
const (
	gridScale  = 4                         // each image pixel drawn as 4x4
	tileW      = 18*7 + 10                 // 18 characters and a margin
	tileImg    = ImageSide * gridScale     // 112
	lineH      = 15                        // 13-pixel glyphs and a gap
	tileH      = tileImg + 6 + 4*lineH + 8 // image, four text lines, gap
	gridMargin = 12
	titleH     = 30
)

var (
	ink       = color.RGBA{0x20, 0x20, 0x20, 0xff}
	trueInk   = color.RGBA{0x1a, 0x7f, 0x37, 0xff} // green
	predInk   = color.RGBA{0xc0, 0x1c, 0x28, 0xff} // red
	mutedInk  = color.RGBA{0x66, 0x66, 0x66, 0xff}
	frameInk  = color.RGBA{0xd0, 0xd0, 0xd0, 0xff}
	paperTint = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// errorGrid draws the given mistakes as tiles, cols per row: the test image
// (light on dark, as stored) with its true class, predicted class,
// confidence and place in the test set under it. images holds the test set, N*784.
func errorGrid(title string, mistakes []Prediction, images []uint8, names []string, cols int) *image.RGBA {
	rows := (len(mistakes) + cols - 1) / cols
	w := 2*gridMargin + cols*tileW
	h := titleH + gridMargin + rows*tileH
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(paperTint), image.Point{}, draw.Src)

	d := &font.Drawer{Dst: img, Face: basicfont.Face7x13}
	text := func(x, y int, clr color.Color, s string) {
		d.Src = image.NewUniform(clr)
		d.Dot = fixed.P(x, y)
		d.DrawString(s)
	}
	text(gridMargin, gridMargin+13, ink, fit(title, (w-2*gridMargin)/7))

	for n, p := range mistakes {
		x0 := gridMargin + (n%cols)*tileW
		y0 := titleH + gridMargin + (n/cols)*tileH
		ix := x0 + (tileW-tileImg)/2
		// one-pixel frame so a dark image reads as a tile
		draw.Draw(img, image.Rect(ix-1, y0-1, ix+tileImg+1, y0+tileImg+1), image.NewUniform(frameInk), image.Point{}, draw.Src)
		px := images[p.Index*imagePixels : (p.Index+1)*imagePixels]
		for y := range tileImg {
			for x := range tileImg {
				v := px[(y/gridScale)*ImageSide+x/gridScale]
				img.SetRGBA(ix+x, y0+y, color.RGBA{v, v, v, 0xff})
			}
		}
		ty := y0 + tileImg + 6 + 11 // baseline of the first line
		tx := x0 + 5
		const chars = (tileW - 10) / 7
		text(tx, ty, trueInk, fit("true "+names[p.Label], chars))
		text(tx, ty+lineH, predInk, fit("pred "+names[p.Pred], chars))
		text(tx, ty+2*lineH, mutedInk, fit(fmt.Sprintf("p = %.3f", p.Prob), chars))
		text(tx, ty+3*lineH, mutedInk, fit(fmt.Sprintf("test image #%d", p.Index), chars))
	}
	return img
}

// fit cuts s to n characters, marking the cut with "..".
func fit(s string, n int) string {
	if len(s) <= n || n < 3 {
		return s
	}
	return s[:n-2] + ".."
}
