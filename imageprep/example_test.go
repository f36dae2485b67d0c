package imageprep_test

import (
	"fmt"
	"image"
	"image/color"

	"github.com/fmnist/fmnist/imageprep"
)

// A dark 60×30 article on a white 200×100 picture becomes a light 28×14
// block in the middle of a black frame.
func ExamplePrepare() {
	img := image.NewGray(image.Rect(0, 0, 200, 100))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for y := 40; y < 70; y++ {
		for x := 50; x < 110; x++ {
			img.SetGray(x, y, color.Gray{Y: 20})
		}
	}
	r, err := imageprep.Prepare(img, imageprep.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("inverted:", r.Inverted, "box:", r.Box)
	for y := 0; y < imageprep.Size; y += 3 {
		for x := 0; x < imageprep.Size; x += 2 {
			fmt.Print(map[bool]string{true: "#", false: "."}[r.Pixels[y*imageprep.Size+x] > 128])
		}
		fmt.Println()
	}
	// Output:
	// inverted: true box: (50,40)-(110,70)
	// ..............
	// ..............
	// ..............
	// ##############
	// ##############
	// ##############
	// ##############
	// ..............
	// ..............
	// ..............
}
