//go:build unix

package safefile

import (
	"os"
	"syscall"
)

// oNonblock makes open(2) return at once on a FIFO instead of waiting for a
// writer, so that the descriptor's type can be checked.
const oNonblock = syscall.O_NONBLOCK

// clearNonblock puts a regular file back into blocking mode (a no-op for
// regular files on Linux, but not promised elsewhere).
func clearNonblock(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}
