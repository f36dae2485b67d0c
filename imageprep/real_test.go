package imageprep

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/fmnist/fmnist/dataset"
)

// testItems returns the 10,000 installed test images. It skips when they
// are absent, unless CI=true, where it fails.
func testItems(t *testing.T) []uint8 {
	t.Helper()
	itemsOnce.Do(func() {
		f, err := os.Open(filepath.Join(dataset.DebianDir, dataset.TestImages+".gz"))
		if err != nil {
			itemsErr = err
			return
		}
		defer f.Close()
		items, _, itemsErr = dataset.DecodeImages(f, dataset.TestImages)
	})
	if os.IsNotExist(itemsErr) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dataset not installed (CI=true): %v", itemsErr)
		}
		t.Skip("dataset not installed:", itemsErr)
	}
	if itemsErr != nil {
		t.Fatal(itemsErr)
	}
	return items
}

var (
	itemsOnce sync.Once
	items     []uint8
	itemsErr  error
)

func item(items []uint8, i int) *image.Gray {
	return &image.Gray{Pix: items[i*Size*Size : (i+1)*Size*Size], Stride: Size, Rect: image.Rect(0, 0, Size, Size)}
}

// TestRealPassThrough: every test item, as it is and through a PNG file,
// comes back unchanged and is not inverted.
func TestRealPassThrough(t *testing.T) {
	items := testItems(t)
	for i := range len(items) / (Size * Size) {
		img := image.Image(item(items, i))
		if i < 200 {
			var b bytes.Buffer
			if err := png.Encode(&b, img); err != nil {
				t.Fatal(err)
			}
			var err error
			if img, err = Decode(bytes.NewReader(b.Bytes()), 0); err != nil {
				t.Fatal(err)
			}
		}
		r, err := Prepare(img, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Inverted || !r.PassThrough || !bytes.Equal(r.Pixels[:], items[i*Size*Size:(i+1)*Size*Size]) {
			t.Fatalf("item %d changed (inverted %v)", i, r.Inverted)
		}
	}
}

// TestRealRecovered turns test items into what a user might have: three
// times larger, dark on a white page, in colour, at an offset in a bigger
// picture. Preparing that should give back the item. It does exactly when
// the faint edge pixels (≤ the threshold) do not set the item's box.
func TestRealRecovered(t *testing.T) {
	items := testItems(t)
	n := 500
	if testing.Short() {
		n = 100
	}
	exact, sumDiff := 0, 0
	for i := range n {
		src := items[i*Size*Size : (i+1)*Size*Size]
		big := image.NewNRGBA(image.Rect(0, 0, 3*Size+50, 3*Size+20))
		for k := range big.Pix {
			big.Pix[k] = 255
		}
		for y := range 3 * Size {
			for x := range 3 * Size {
				v := 255 - src[(y/3)*Size+x/3]
				o := big.PixOffset(x+30, y+5)
				copy(big.Pix[o:o+4], []uint8{v, v, v, 255})
			}
		}
		r, err := Prepare(big, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Inverted {
			t.Fatalf("item %d: not inverted", i)
		}
		d := 0
		for k, v := range r.Pixels {
			d += max(int(v)-int(src[k]), int(src[k])-int(v))
		}
		if d == 0 {
			exact++
		}
		sumDiff += d
	}
	mean := float64(sumDiff) / float64(n*Size*Size)
	t.Logf("%d of %d items recovered exactly; mean absolute difference %.2f", exact, n, mean)
	if exact < n*85/100 || mean > 2.5 {
		t.Errorf("only %d of %d exact, mean absolute difference %.2f", exact, n, mean)
	}
}
