package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/fmnist/fmnist/dataset"
)

// exportMain is `fmnist data export`: sample images of a split as PNG
// files, to look at or to feed back to predict.
func exportMain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("data export", "data export [flags] DIR",
		"Writes the first N images of a split into DIR as 28×28 grayscale PNG files named\n"+
			"SPLIT_INDEX_LABEL_CLASS.png, e.g. test_00000_9_ankle-boot.png, INDEX being the position in the split.\n"+
			"They hold the dataset's bytes, so 'fmnist predict MODEL DIR/*.png' gives for them the classes that\n"+
			"the model gives those items in 'fmnist eval'. Existing files of the same name are replaced.")
	fs.SetOutput(stderr)
	split := fs.String("split", "test", "train, val or test (train and val as 'fmnist data' and 'fmnist run' split them)")
	n := fs.Int("n", 20, "number of images, from the start of the split (0: all)")
	var data dataFlags
	data.register(fs)
	seed := fs.Int64("seed", 1, "seed of the train/validation split (as run's --seed)")
	nVal := fs.Int("val", 10000, "validation items taken from the 60,000 training items")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one output folder, got %d arguments", fs.NArg())
	}
	out := fs.Arg(0)
	switch *split {
	case "train", "val", "test":
	default:
		return usageErrorf("--split %q: want train, val or test", *split)
	}
	if *n < 0 {
		return usageErrorf("--n %d: want 0 (all) or more", *n)
	}
	if *nVal < 0 {
		return usageErrorf("--val %d: want 0 or more", *nVal)
	}
	if *seed < 0 {
		return usageErrorf("--seed %d: want 0 or more", *seed)
	}
	f, err := data.load(stderr)
	if err != nil {
		return err
	}
	set := f.Test
	if *split != "test" {
		if *nVal > f.Train.Len() {
			return usageErrorf("--val %d: the training set has %d items", *nVal, f.Train.Len())
		}
		train, val, err := dataset.Split(f.Train, *nVal, uint64(*seed))
		if err != nil {
			return err
		}
		set = train
		if *split == "val" {
			set = val
		}
	}
	count := set.Len()
	if *n > 0 {
		count = min(count, *n)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	for i := range count {
		label := set.Labels[i]
		img := &image.Gray{Pix: set.Image(i), Stride: dataset.Cols, Rect: image.Rect(0, 0, dataset.Cols, dataset.Rows)}
		buf.Reset()
		if err := png.Encode(&buf, img); err != nil {
			return err
		}
		// Plain writes: these are samples, cheap to make again, and
		// thousands of fsyncs would make a whole split slow to export.
		name := fmt.Sprintf("%s_%05d_%d_%s.png", *split, i, label, slug(dataset.ClassNames[label]))
		if err := os.WriteFile(filepath.Join(out, name), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %d of the %d %s images to %s\n", count, set.Len(), *split, out)
	return nil
}

// slug is a class name for a file name: lower case, each run of other
// characters than letters and digits one dash ("T-shirt/top" →
// "t-shirt-top").
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}
