package dataset

import (
	"bytes"
	"math"
	"testing"
)

// Tests on the installed Fashion-MNIST. They skip when it is absent and
// fail when CI=true.

func TestRealLoad(t *testing.T) {
	f := realData(t)
	if f.Train.Len() != 60000 || f.Test.Len() != 10000 {
		t.Fatalf("%d train, %d test items", f.Train.Len(), f.Test.Len())
	}
	if len(f.Train.Images) != 60000*Pixels || len(f.Test.Images) != 10000*Pixels {
		t.Fatal("wrong pixel counts")
	}
	if !f.Verified || f.Kind != FromDir {
		t.Errorf("verified %v, kind %v", f.Verified, f.Kind)
	}
	// The first item of each file is an ankle boot.
	if f.Train.Labels[0] != 9 || f.Test.Labels[0] != 9 || ClassNames[9] != "Ankle boot" {
		t.Errorf("first labels %d, %d", f.Train.Labels[0], f.Test.Labels[0])
	}
	for c, n := range f.Train.ClassCounts() {
		if n != 6000 {
			t.Errorf("train class %d: %d items", c, n)
		}
	}
	for c, n := range f.Test.ClassCounts() {
		if n != 1000 {
			t.Errorf("test class %d: %d items", c, n)
		}
	}
	// The published statistics of the 60,000 training images.
	if m, s := Stats(f.Train); math.Abs(m-0.2860) > 5e-5 || math.Abs(s-0.3530) > 5e-5 {
		t.Errorf("train mean %.5f std %.5f, want 0.2860 0.3530", m, s)
	}
}

func TestRealSplit(t *testing.T) {
	f := realData(t)
	train, val, err := Split(f.Train, 10000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 50000 || val.Len() != 10000 {
		t.Fatalf("split %d/%d", train.Len(), val.Len())
	}
	tc, vc := train.ClassCounts(), val.ClassCounts()
	for c := range Classes {
		if tc[c] != 5000 || vc[c] != 1000 {
			t.Errorf("class %d: %d train, %d val; want 5000, 1000", c, tc[c], vc[c])
		}
	}
	if testing.Short() {
		return
	}
	_, again, err := Split(f.Train, 10000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Images, val.Images) || !bytes.Equal(again.Labels, val.Labels) {
		t.Error("seed 1 twice gives different splits")
	}
	_, other, err := Split(f.Train, 10000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other.Images, val.Images) {
		t.Error("seeds 1 and 2 give the same split")
	}
}

// BenchmarkDecodeReal decodes and verifies all four installed files: the
// 70,000 images and their labels.
func BenchmarkDecodeReal(b *testing.B) {
	realData(b)
	sums := OfficialSums()
	b.ReportAllocs()
	for b.Loop() {
		for i, name := range []string{TrainImages, TrainLabels, TestImages, TestLabels} {
			if _, _, err := loadFile(findFile(DebianDir, name), i%2 == 0, sums[i], true); err != nil {
				b.Fatal(err)
			}
		}
	}
}
