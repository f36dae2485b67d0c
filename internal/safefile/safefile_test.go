package safefile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// special makes the special files of the table: a FIFO, a folder, and links
// to /dev/zero and to a FIFO. It returns "" for what the system lacks.
func special(t *testing.T, dir, what string) string {
	t.Helper()
	p := filepath.Join(dir, what)
	switch what {
	case "fifo", "link-to-fifo":
		if runtime.GOOS == "windows" {
			return ""
		}
		fifo := filepath.Join(dir, "the-fifo")
		if _, err := os.Stat(fifo); err != nil {
			if err := mkfifo(fifo); err != nil {
				t.Fatal(err)
			}
		}
		if what == "fifo" {
			return fifo
		}
		if err := os.Symlink(fifo, p); err != nil {
			t.Fatal(err)
		}
	case "dev-zero", "link-to-dev-zero":
		if _, err := os.Stat("/dev/zero"); err != nil {
			return ""
		}
		if what == "dev-zero" {
			return "/dev/zero"
		}
		if err := os.Symlink("/dev/zero", p); err != nil {
			t.Fatal(err)
		}
	case "folder":
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	case "missing":
	case "empty":
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	default:
		if err := os.WriteFile(p, bytes.Repeat([]byte("x"), len(what)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		what  string // a special kind, or a regular file of len(what) bytes
		limit int64
		want  error // nil: the content is read
	}{
		{"small", 10, nil},
		{"exactly10!", 10, nil},
		{"eleven-byte", 10, ErrTooLarge},
		{"empty", 0, nil},
		{"fifo", 1 << 20, ErrNotRegular},
		{"link-to-fifo", 1 << 20, ErrNotRegular},
		{"dev-zero", 1 << 20, ErrNotRegular},
		{"link-to-dev-zero", 1 << 20, ErrNotRegular},
		{"folder", 1 << 20, ErrNotRegular},
		{"missing", 1 << 20, fs.ErrNotExist},
	} {
		t.Run(c.what, func(t *testing.T) {
			p := special(t, dir, c.what)
			if p == "" {
				t.Skipf("no %s on %s", c.what, runtime.GOOS)
			}
			done := make(chan struct{})
			var b []byte
			var err error
			go func() { b, err = ReadFile(p, c.limit); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("ReadFile hangs") // a FIFO opened blocking
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("ReadFile(%s, %d): error %v, want %v", c.what, c.limit, err, c.want)
			}
			want := string(bytes.Repeat([]byte("x"), len(c.what)))
			if c.what == "empty" {
				want = ""
			}
			if c.want == nil && string(b) != want {
				t.Fatalf("ReadFile(%s) = %q", c.what, b)
			}
			if c.want != nil && !errors.Is(c.want, fs.ErrNotExist) {
				var pe *fs.PathError
				if !errors.As(err, &pe) || pe.Path != p {
					t.Fatalf("error %v does not name the path %s", err, p)
				}
			}
		})
	}
}

// TestReaderGrows checks that OpenLimited's reader stops at the limit even
// when the file is larger than it was at open: a file still being written.
func TestReaderGrows(t *testing.T) {
	p := filepath.Join(t.TempDir(), "grows")
	if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		grow  int // bytes appended after opening
		limit int64
		want  error
	}{
		{"same size", 0, 8, nil},
		{"grows to the limit", 3, 8, nil},
		{"grows past the limit", 4, 8, ErrTooLarge},
		{"over at open", 0, 4, ErrTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
				t.Fatal(err)
			}
			r, _, err := OpenLimited(p, c.limit)
			if err == nil {
				defer r.Close()
				f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
				f.Write(bytes.Repeat([]byte("+"), c.grow))
				f.Close()
				var b []byte
				b, err = io.ReadAll(r)
				if int64(len(b)) > c.limit {
					t.Fatalf("read %d bytes past the limit %d", len(b), c.limit)
				}
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
}

func TestOpenRegular(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, st, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil || string(b) != "hello" || st.Size() != 5 {
		t.Fatalf("read %q, %v, size %d", b, err, st.Size())
	}
}
