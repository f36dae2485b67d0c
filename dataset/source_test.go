package dataset

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// check compares a loaded dataset with the fixture it came from.
func (f *fixture) check(t *testing.T, got *Fashion) {
	t.Helper()
	if !bytes.Equal(got.Train.Images, f.train.Images) || !bytes.Equal(got.Train.Labels, f.train.Labels) ||
		!bytes.Equal(got.Test.Images, f.test.Images) || !bytes.Equal(got.Test.Labels, f.test.Labels) {
		t.Fatal("loaded data differs from what was written")
	}
}

// TestLoadOrder fills the places Load looks one by one, from the last to
// the first, and checks that each time the first filled one wins.
func TestLoadOrder(t *testing.T) {
	cache := isolate(t)
	fx := newFixture(t, 30, 20)
	root := t.TempDir()
	flagDir, envDir := filepath.Join(root, "flag"), filepath.Join(root, "env")
	opt := Options{Sums: fx.sums, CacheDir: cache, Offline: true}

	for _, step := range []struct {
		fill string
		set  func()
		kind SourceKind
		dir  string
	}{
		{debianDir, nil, FromDebian, debianDir},
		{cache, nil, FromCache, cache},
		{envDir, func() { t.Setenv(EnvVar, envDir) }, FromEnv, envDir},
		{flagDir, func() { opt.Dir = flagDir }, FromDir, flagDir},
	} {
		fx.write(t, step.fill)
		if step.set != nil {
			step.set()
		}
		var log bytes.Buffer
		opt.Log = &log
		got, err := Load(opt)
		if err != nil {
			t.Fatalf("%v: %v", step.kind, err)
		}
		if got.Kind != step.kind || got.Dir != step.dir || !got.Verified || !strings.Contains(got.Source, step.dir) {
			t.Errorf("got %v %q %q verified %v, want %v in %s", got.Kind, got.Source, got.Dir, got.Verified, step.kind, step.dir)
		}
		if want := "dataset: using " + got.Source + "\n"; log.String() != want {
			t.Errorf("log %q, want %q", log.String(), want)
		}
		fx.check(t, got)
	}
}

func TestLoadRawFiles(t *testing.T) {
	cache := isolate(t)
	fx := newFixture(t, 10, 10)
	dir := t.TempDir()
	raw := map[string][]byte{
		TrainImages: encImages(t, fx.train.Images), TrainLabels: encLabels(t, fx.train.Labels),
		TestImages: encImages(t, fx.test.Images), TestLabels: encLabels(t, fx.test.Labels),
	}
	for name, b := range raw {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Load(Options{Dir: dir, Sums: fx.sums, CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	fx.check(t, got)
}

func TestLoadErrors(t *testing.T) {
	fx := newFixture(t, 10, 10)
	wrong := slices.Clone(fx.sums)
	wrong[2].SHA256 = strings.Repeat("ab", 32)

	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, opt *Options)
		want  error
		text  []string // the message must contain each
	}{
		{"missing --data dir", func(t *testing.T, opt *Options) {
			opt.Dir = "/nonexistent/fmnist"
			fx.write(t, debianDir) // must not be used instead
		}, ErrNotFound, []string{"/nonexistent/fmnist (--data)", "no " + TrainImages, "apt-get install dataset-fashion-mnist", "--data DIR", "FMNIST_DATA"}},
		{"--data dir missing one file", func(t *testing.T, opt *Options) {
			opt.Dir = t.TempDir()
			fx.write(t, opt.Dir, TrainImages+".gz", TrainLabels+".gz", TestImages+".gz")
		}, ErrNotFound, []string{"no " + TestLabels + "(.gz)"}},
		{"empty FMNIST_DATA dir", func(t *testing.T, opt *Options) {
			t.Setenv(EnvVar, t.TempDir())
		}, ErrNotFound, []string{"($FMNIST_DATA)"}},
		{"offline, nothing anywhere", func(t *testing.T, opt *Options) {
			opt.Offline = true
		}, ErrNotFound, []string{"downloading is off", "Debian package", "apt-get install dataset-fashion-mnist (Debian), or pass --data DIR, or set FMNIST_DATA"}},
		{"checksum", func(t *testing.T, opt *Options) {
			opt.Dir = t.TempDir()
			fx.write(t, opt.Dir)
			opt.Sums = wrong
		}, ErrChecksum, []string{TestImages + ".gz", "decompressed SHA-256 " + fx.sums[2].SHA256, "want " + wrong[2].SHA256}},
		{"official sums on other files", func(t *testing.T, opt *Options) {
			opt.Dir = t.TempDir()
			fx.write(t, opt.Dir)
			opt.Sums = nil
		}, ErrChecksum, []string{TrainImages, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888 (47040016 bytes)"}},
		{"no sum for a file", func(t *testing.T, opt *Options) {
			opt.Dir = t.TempDir()
			fx.write(t, opt.Dir)
			opt.Sums = fx.sums[:3]
		}, ErrChecksum, []string{TestLabels}},
		{"corrupt cached file", func(t *testing.T, opt *Options) {
			fx.write(t, opt.CacheDir)
			p := filepath.Join(opt.CacheDir, TestImages+".gz")
			if err := os.WriteFile(p, gz(t, encImages(t, make([]uint8, 2*Pixels))), 0o644); err != nil {
				t.Fatal(err)
			}
		}, ErrChecksum, []string{"delete " + filepath.Join("CACHE", TestImages+".gz") + " to download it again"}},
		{"count mismatch", func(t *testing.T, opt *Options) {
			opt.Dir = t.TempDir()
			fx.write(t, opt.Dir)
			if err := os.WriteFile(filepath.Join(opt.Dir, TestLabels+".gz"), gz(t, encLabels(t, make([]uint8, 9))), 0o644); err != nil {
				t.Fatal(err)
			}
			opt.NoVerify = true
		}, ErrCountMismatch, []string{TestImages + " has 10 images, " + TestLabels + " has 9 labels"}},
		{"corrupt file", func(t *testing.T, opt *Options) {
			opt.Dir = t.TempDir()
			fx.write(t, opt.Dir)
			p := filepath.Join(opt.Dir, TrainLabels+".gz")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
			opt.NoVerify = true
		}, ErrTruncated, []string{TrainLabels + ".gz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := isolate(t)
			opt := Options{Sums: fx.sums, CacheDir: cache, Offline: true}
			tc.setup(t, &opt)
			_, err := Load(opt)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			for _, s := range tc.text {
				s = strings.ReplaceAll(s, "CACHE", cache)
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

func TestLoadNoVerify(t *testing.T) {
	cache := isolate(t)
	fx := newFixture(t, 10, 10)
	dir := t.TempDir()
	fx.write(t, dir)
	got, err := Load(Options{Dir: dir, NoVerify: true, CacheDir: cache}) // official sums would fail
	if err != nil {
		t.Fatal(err)
	}
	if got.Verified {
		t.Error("Verified with NoVerify")
	}
	fx.check(t, got)
}

func TestSourceKindString(t *testing.T) {
	var got []string
	for k := FromDir; k <= FromDownload+1; k++ {
		got = append(got, k.String())
	}
	if s := strings.Join(got, " "); s != "dir env cache debian download SourceKind(5)" {
		t.Error(s)
	}
}
