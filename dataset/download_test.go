package dataset

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// mirror serves the fixture's files; bad, when set, answers for the file
// it names instead.
func mirror(t *testing.T, fx *fixture, bad func(w http.ResponseWriter, r *http.Request) bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if bad != nil && bad(w, r) {
			return
		}
		b, ok := fx.files[path.Base(r.URL.Path)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// cacheFiles lists the cache folder.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestDownload(t *testing.T) {
	cache := isolate(t)
	fx := newFixture(t, 40, 20)
	srv, hits := mirror(t, fx, nil)
	var log bytes.Buffer
	opt := Options{Sums: fx.sums, CacheDir: cache, BaseURL: srv.URL + "/mirror/", Log: &log}
	got, err := Load(opt)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != FromDownload || got.Dir != cache || !got.Verified || !strings.Contains(got.Source, srv.URL) {
		t.Errorf("got %v %q %q verified %v", got.Kind, got.Source, got.Dir, got.Verified)
	}
	fx.check(t, got)
	want := []string{TestImages + ".gz", TestLabels + ".gz", TrainImages + ".gz", TrainLabels + ".gz"}
	if names := cacheFiles(t, cache); !slices.Equal(names, want) {
		t.Errorf("cache holds %v, want %v", names, want)
	}
	for name, b := range fx.files {
		if on, _ := os.ReadFile(filepath.Join(cache, name)); !bytes.Equal(on, b) {
			t.Errorf("%s in the cache differs from the mirror's", name)
		}
	}
	// Not a terminal: one line at the start and one at the end of each file.
	if n := strings.Count(log.String(), "dataset: downloading "); n != 4 {
		t.Errorf("%d start lines in log:\n%s", n, log.String())
	}
	if !strings.Contains(log.String(), "dataset: downloaded "+TrainImages+".gz ("+strconv.Itoa(len(fx.files[TrainImages+".gz"]))+" bytes)") {
		t.Errorf("log:\n%s", log.String())
	}

	// The second time, the cache serves and the mirror is not asked.
	hits.Store(0)
	got, err = Load(opt)
	if err != nil || got.Kind != FromCache || hits.Load() != 0 {
		t.Fatalf("second load: %v, kind %v, %d requests", err, got.Kind, hits.Load())
	}
	fx.check(t, got)
}

// TestDownloadPartialCache fetches only the files the cache lacks.
func TestDownloadPartialCache(t *testing.T) {
	cache := isolate(t)
	fx := newFixture(t, 10, 10)
	fx.write(t, cache, TrainImages+".gz", TrainLabels+".gz")
	var asked []string
	srv, _ := mirror(t, fx, func(w http.ResponseWriter, r *http.Request) bool {
		asked = append(asked, path.Base(r.URL.Path))
		return false
	})
	got, err := Load(Options{Sums: fx.sums, CacheDir: cache, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	fx.check(t, got)
	if !slices.Equal(asked, []string{TestImages + ".gz", TestLabels + ".gz"}) {
		t.Errorf("asked for %v", asked)
	}
}

func TestDownloadFailures(t *testing.T) {
	fx := newFixture(t, 30, 10)
	other := newFixture(t, 31, 10) // valid files with other contents
	victim := TrainImages + ".gz"
	for _, tc := range []struct {
		name     string
		serve    func(w http.ResponseWriter, r *http.Request)
		noVerify bool
		timeout  time.Duration
		want     []error
		text     string
	}{
		{"404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
			false, 0, []error{ErrDownload, ErrNotFound}, "HTTP 404 Not Found"},
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", 500) },
			false, 0, []error{ErrDownload, ErrNotFound}, "HTTP 500"},
		{"other valid file", func(w http.ResponseWriter, r *http.Request) { w.Write(other.files[victim]) },
			false, 0, []error{ErrChecksum}, "gzip MD5 " + other.sums[0].GzipMD5 + ", want " + fx.sums[0].GzipMD5},
		{"garbage, verified", func(w http.ResponseWriter, r *http.Request) { w.Write(bytes.Repeat([]byte("garbage "), 500)) },
			false, 0, []error{ErrChecksum}, "gzip MD5"},
		// NoVerify is for local files: a download is checked all the same.
		{"garbage, NoVerify", func(w http.ResponseWriter, r *http.Request) { w.Write(bytes.Repeat([]byte("garbage "), 500)) },
			true, 0, []error{ErrChecksum}, "gzip MD5"},
		{"flipped byte, NoVerify", func(w http.ResponseWriter, r *http.Request) {
			b := slices.Clone(fx.files[victim])
			b[len(b)/2] ^= 0x40
			w.Write(b)
		}, true, 0, []error{ErrChecksum}, "gzip MD5"},
		{"stops mid-file", func(w http.ResponseWriter, r *http.Request) {
			b := fx.files[victim]
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.Write(b[:len(b)/2])
		}, false, 0, []error{ErrDownload, ErrNotFound}, "unexpected EOF"},
		{"stops mid-file, chunked", func(w http.ResponseWriter, r *http.Request) {
			b := fx.files[victim]
			w.Write(b[:len(b)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}, false, 0, []error{ErrDownload, ErrNotFound}, "unexpected EOF"},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(fx.files[victim])))
			w.Write(fx.files[victim][:100])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, false, 200 * time.Millisecond, []error{ErrDownload, ErrNotFound}, "timed out after 200ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := isolate(t)
			srv, _ := mirror(t, fx, func(w http.ResponseWriter, r *http.Request) bool {
				if path.Base(r.URL.Path) != victim {
					return false
				}
				tc.serve(w, r)
				return true
			})
			start := time.Now()
			_, err := Load(Options{Sums: fx.sums, CacheDir: cache, BaseURL: srv.URL, NoVerify: tc.noVerify, Timeout: tc.timeout})
			for _, want := range tc.want {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want %v", err, want)
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.text) || !strings.Contains(err.Error(), victim) {
				t.Errorf("error %q lacks %q or the file name", err, tc.text)
			}
			if errors.Is(err, ErrDownload) && !strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist") {
				t.Errorf("error %q does not say how to get the files", err)
			}
			if tc.timeout > 0 && time.Since(start) > 10*tc.timeout+2*time.Second {
				t.Errorf("took %v with a %v timeout", time.Since(start), tc.timeout)
			}
			// The victim is the first file fetched: nothing at all may be
			// left behind, not even a temp file.
			if names := cacheFiles(t, cache); len(names) != 0 {
				t.Errorf("cache holds %v after a failure", names)
			}
		})
	}
}

// TestDownloadUnreachable is the offline case: nothing local and no
// network. The error must say what to do.
func TestDownloadUnreachable(t *testing.T) {
	cache := isolate(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	_, err := Load(Options{CacheDir: cache, BaseURL: url, Timeout: 5 * time.Second})
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrDownload) {
		t.Fatalf("err = %v, want ErrNotFound and ErrDownload", err)
	}
	for _, s := range []string{"apt-get install dataset-fashion-mnist", "--data DIR", "FMNIST_DATA"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if names := cacheFiles(t, cache); len(names) != 0 {
		t.Errorf("cache holds %v", names)
	}
}

func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, "x.gz", 2000000)
	if b.Len() != 0 && !strings.Contains(b.String(), "downloading x.gz (2.0 MB)") {
		t.Errorf("start line %q", b.String())
	}
	b.Reset()
	p.tty = true // draw as on a terminal
	p.Write(make([]byte, 500000))
	p.done(true)
	out := b.String()
	if !strings.Contains(out, "\rx.gz") || !strings.Contains(out, " 25% [=======                       ] 0.5 MB / 2.0 MB") || !strings.HasSuffix(out, "\n") {
		t.Errorf("bar %q", out)
	}
	if isTerminal(&b) {
		t.Error("a buffer is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a regular file is a terminal")
	}
}

// The mirror comes from Options.BaseURL, else $FMNIST_MIRROR, else the
// official one; from any of them a file that is not the official one is
// refused, and a URL that is not http(s) is refused before any request.
func TestMirror(t *testing.T) {
	fx := newFixture(t, 30, 10)
	other := newFixture(t, 31, 10)
	good, goodHits := mirror(t, fx, nil)
	bad, _ := mirror(t, other, nil)
	for _, tc := range []struct {
		name, base, env string
		noVerify        bool
		want            error  // nil: loads
		text            string // in the error, or in Source
	}{
		{"option", good.URL + "/m/", "", false, nil, good.URL},
		{"env", "", good.URL, false, nil, good.URL},
		{"option over env", good.URL, "http://127.0.0.1:1/", false, nil, good.URL},
		{"env, wrong files", "", bad.URL, false, ErrChecksum, "gzip MD5"},
		{"option, wrong files, NoVerify", bad.URL, "", true, ErrChecksum, "gzip MD5"},
		{"env not a URL", "", "fashion-mnist.example", false, nil, `$FMNIST_MIRROR "fashion-mnist.example": want an http:// or https:// URL`},
		{"option ftp", "ftp://example.com/f/", "", false, nil, `mirror "ftp://example.com/f/": want an http:// or https:// URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := isolate(t)
			t.Setenv(MirrorEnv, tc.env)
			f, err := Load(Options{Sums: fx.sums, CacheDir: cache, BaseURL: tc.base, NoVerify: tc.noVerify})
			switch {
			case tc.want != nil:
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
					t.Fatalf("err %v, want %v with %q", err, tc.want, tc.text)
				}
			case strings.Contains(tc.text, "want an http"):
				if err == nil || !strings.Contains(err.Error(), tc.text) {
					t.Fatalf("err %v, want %q", err, tc.text)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if f.Kind != FromDownload || !f.Verified || !strings.Contains(f.Source, tc.text) {
					t.Errorf("source %v %q verified %v", f.Kind, f.Source, f.Verified)
				}
				fx.check(t, f)
			}
		})
	}
	if goodHits.Load() == 0 {
		t.Error("the good mirror was never asked")
	}
}
