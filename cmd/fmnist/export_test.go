package main

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/dataset"
)

// exported reads back the PNG files of dir, sorted by name.
func exported(t *testing.T, dir string) (names []string, pix [][]uint8) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		g, ok := img.(*image.Gray)
		if !ok || g.Rect != image.Rect(0, 0, 28, 28) {
			t.Fatalf("%s: %T %v, want a 28×28 gray picture", e.Name(), img, img.Bounds())
		}
		names, pix = append(names, e.Name()), append(pix, g.Pix)
	}
	return names, pix
}

func TestExport(t *testing.T) {
	dir := tinyData(t)
	f, err := dataset.Load(dataset.Options{Dir: dir, NoVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	tr, va, err := dataset.Split(f.Train, 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		set  *dataset.Set
		n    int
		msg  string
	}{
		{nil, f.Test, 20, "wrote 20 of the 20 test images"}, // the default is 20
		{[]string{"--n", "5"}, f.Test, 5, "wrote 5 of the 20 test images"},
		{[]string{"--n", "0"}, f.Test, 20, "wrote 20 of the 20 test images"},
		{[]string{"--split", "val", "--val", "10", "--seed", "3", "--n", "100"}, va, 10, "wrote 10 of the 10 val images"},
		{[]string{"--split", "train", "--val", "10", "--seed", "3", "--n", "7"}, tr, 7, "wrote 7 of the 30 train images"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "new", "folder")
			split := "test"
			if i := slices.Index(c.args, "--split"); i >= 0 {
				split = c.args[i+1]
			}
			var stdout, stderr bytes.Buffer
			args := append(append([]string{"export", "--data", dir, "--no-verify"}, c.args...), out)
			if err := dataMain(args, &stdout, &stderr); err != nil {
				t.Fatal(err)
			}
			if want := c.msg + " to " + out + "\n"; stdout.String() != want {
				t.Errorf("stdout %q, want %q", stdout.String(), want)
			}
			names, pix := exported(t, out)
			if len(names) != c.n {
				t.Fatalf("%d files, want %d", len(names), c.n)
			}
			for i := range c.n {
				l := c.set.Labels[i]
				want := fmt.Sprintf("%s_%05d_%d_%s.png", split, i, l, slug(dataset.ClassNames[l]))
				if names[i] != want || !bytes.Equal(pix[i], c.set.Image(i)) {
					t.Errorf("file %d: %s, want %s with the item's bytes", i, names[i], want)
				}
			}
		})
	}
}

func TestExportErrors(t *testing.T) {
	dir := tinyData(t)
	out := t.TempDir()
	file := filepath.Join(out, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args  []string
		usage bool
		msg   string
	}{
		{nil, true, "want one output folder, got 0 arguments"},
		{[]string{out, out}, true, "want one output folder, got 2 arguments"},
		{[]string{"--split", "dev", out}, true, `--split "dev": want train, val or test`},
		{[]string{"--n", "-1", out}, true, "--n -1: want 0 (all) or more"},
		{[]string{"--val", "-1", out}, true, "--val -1"},
		{[]string{"--split", "val", "--val", "41", out}, true, "--val 41: the training set has 40 items"},
		{[]string{filepath.Join(file, "sub")}, false, "not a directory"},
	} {
		var stdout, stderr bytes.Buffer
		err := dataMain(append([]string{"export", "--data", dir, "--no-verify"}, c.args...), &stdout, &stderr)
		if err == nil || errors.Is(err, errUsage) != c.usage || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%v: %v, want usage %v and %q", c.args, err, c.usage, c.msg)
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"T-shirt/top": "t-shirt-top", "Ankle boot": "ankle-boot", "Bag": "bag", "  A  b--C ": "a-b-c", "": "", "é9x": "9x",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
	seen := map[string]bool{}
	for _, n := range dataset.ClassNames {
		seen[slug(n)] = true
	}
	if len(seen) != dataset.Classes {
		t.Errorf("class slugs collide: %v", seen)
	}
}
