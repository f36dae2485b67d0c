package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Sentinel errors, for errors.Is.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("file too large")
)

// Open opens path for reading after checking that it is a regular file
// (symbolic links are followed). The returned info is of the opened file.
func Open(path string) (*os.File, fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Op = "open" // what the caller asked for
		}
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, notRegular(path, st)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|oNonblock, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err = f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, notRegular(path, st)
	}
	if err := clearNonblock(f); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

func notRegular(path string, st fs.FileInfo) error {
	if st.IsDir() {
		return &fs.PathError{Op: "open", Path: path, Err: isDir{}}
	}
	return &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kind(st.Mode()))}
}

// isDir reads as the system's own message for a folder, and is
// ErrNotRegular.
type isDir struct{}

func (isDir) Error() string        { return "is a directory" }
func (isDir) Is(target error) bool { return target == ErrNotRegular }

// kind names a file type the way a user knows it.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

// ReadFile reads a regular file of at most limit bytes whole. A larger file
// is refused with ErrTooLarge before its content is read.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, path, st.Size(), limit)
}

// readLimited reads r whole, refusing more than limit bytes whatever size
// says.
func readLimited(r io.Reader, path string, size, limit int64) ([]byte, error) {
	if size > limit {
		return nil, tooLarge(path, size, limit)
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(path, int64(len(b)), limit)
	}
	return b, nil
}

func tooLarge(path string, size, limit int64) error {
	return &fs.PathError{Op: "read", Path: path,
		Err: fmt.Errorf("%w: %d bytes or more, the limit is %d", ErrTooLarge, size, limit)}
}

// Reader is a regular file opened for reading that fails with ErrTooLarge
// once more than its limit has been read, for callers that stream.
type Reader struct {
	f     *os.File
	path  string
	left  int64
	limit int64
}

// OpenLimited opens path as Open does and refuses it at once if it is over
// limit bytes; reads past limit (a file still growing) fail too.
func OpenLimited(path string, limit int64) (*Reader, fs.FileInfo, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	if st.Size() > limit {
		f.Close()
		return nil, nil, tooLarge(path, st.Size(), limit)
	}
	return &Reader{f: f, path: path, left: limit, limit: limit}, st, nil
}

// Read reads from the file, failing once more than the limit has come.
func (r *Reader) Read(p []byte) (int, error) {
	if r.left < 0 {
		return 0, tooLarge(r.path, r.limit+1, r.limit)
	}
	if int64(len(p)) > r.left+1 {
		p = p[:r.left+1]
	}
	n, err := r.f.Read(p)
	if int64(n) > r.left {
		n, r.left = int(r.left), -1
		return n, tooLarge(r.path, r.limit+1, r.limit)
	}
	r.left -= int64(n)
	return n, err
}

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }
