package runlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fmnist/fmnist/internal/safefile"
)

// Name is the lock file inside a run folder.
const Name = ".lock"

// ErrLocked says another process holds the folder.
var ErrLocked = errors.New("in use by another fmnist process")

// Lock is a held run folder.
type Lock struct {
	f   *os.File
	dir string
}

// Acquire takes dir, which must exist, for this process, or fails at once
// with ErrLocked (never waits). Release it when done; the system releases
// it if the process dies first.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, Name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("runlock: %w", err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("runlock: %s: %w", path, safefile.ErrNotRegular)
	}
	if err := lock(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			who := ""
			if b, err := safefile.ReadFile(path, 64); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
					who = fmt.Sprintf(" (pid %d)", pid)
				}
			}
			return nil, fmt.Errorf("runlock: %s: %w%s", dir, ErrLocked, who)
		}
		return nil, fmt.Errorf("runlock: locking %s: %w", path, err)
	}
	// Best effort: the pid is only for the message of the next process.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f, dir: dir}, nil
}

// Release gives the folder back. It is safe to call on nil and twice.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// Dir is the locked folder.
func (l *Lock) Dir() string { return l.dir }
