package dataset

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// synth returns n items whose label is i%Classes (shifted by skew for
// uneven classes) and whose first three pixels hold i, so tests can tell
// items apart after a shuffle or a split.
func synth(n int, skew bool) *Set {
	s := &Set{Images: make([]uint8, n*Pixels), Labels: make([]uint8, n)}
	for i := range n {
		l := i % Classes
		if skew && i%7 == 0 {
			l = 3
		}
		s.Labels[i] = uint8(l)
		img := s.Image(i)
		img[0], img[1], img[2] = uint8(i), uint8(i>>8), uint8(i>>16)
		for p := 3; p < Pixels; p++ {
			img[p] = uint8((i*31 + p*7) % 256)
		}
	}
	return s
}

// id reads back the item number synth stored in an image.
func id(img []uint8) int { return int(img[0]) | int(img[1])<<8 | int(img[2])<<16 }

func encImages(t testing.TB, images []uint8) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := EncodeImages(&b, images); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encLabels(t testing.TB, labels []uint8) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := EncodeLabels(&b, labels); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gz(t testing.TB, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fixture is a small fake Fashion-MNIST: the four files, gzipped, and the
// checksums they match.
type fixture struct {
	train, test *Set
	files       map[string][]byte // name.gz -> gzipped bytes
	sums        []FileSum
}

func newFixture(t testing.TB, nTrain, nTest int) *fixture {
	t.Helper()
	f := &fixture{train: synth(nTrain, false), test: synth(nTest, true), files: map[string][]byte{}}
	for _, x := range []struct {
		name string
		raw  []byte
	}{
		{TrainImages, encImages(t, f.train.Images)},
		{TrainLabels, encLabels(t, f.train.Labels)},
		{TestImages, encImages(t, f.test.Images)},
		{TestLabels, encLabels(t, f.test.Labels)},
	} {
		z := gz(t, x.raw)
		f.files[x.name+".gz"] = z
		sh, md := sha256.Sum256(x.raw), md5.Sum(z)
		f.sums = append(f.sums, FileSum{x.name, hex.EncodeToString(sh[:]), int64(len(x.raw)), hex.EncodeToString(md[:])})
	}
	return f
}

// write puts the files (all, or only the named ones) into dir.
func (f *fixture) write(t testing.TB, dir string, only ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range f.files {
		if len(only) > 0 && !contains(only, name) {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isolate points every place Load looks at empty folders, so a test sees
// only what it sets up; it returns the cache folder.
func isolate(t *testing.T) string {
	t.Helper()
	t.Setenv(EnvVar, "")
	t.Setenv(MirrorEnv, "")
	old := debianDir
	debianDir = filepath.Join(t.TempDir(), "debian")
	t.Cleanup(func() { debianDir = old })
	return filepath.Join(t.TempDir(), "cache")
}

// realData loads the installed dataset once. It skips when the files are
// absent, unless CI=true, where it fails.
func realData(t testing.TB) *Fashion {
	t.Helper()
	realOnce.Do(func() {
		if findFile(DebianDir, TrainImages) == "" {
			return
		}
		realFashion, realErr = Load(Options{Dir: DebianDir})
	})
	if realFashion == nil && realErr == nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dataset not installed at %s (CI=true)", DebianDir)
		}
		t.Skipf("dataset not installed at %s", DebianDir)
	}
	if realErr != nil {
		t.Fatal(realErr)
	}
	return realFashion
}

var (
	realOnce    sync.Once
	realFashion *Fashion
	realErr     error
)
