//go:build !unix && !windows

package runlock

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("would block")

// Elsewhere (wasm, plan9) there is no lock: one process is all there is.
func lock(*os.File) error   { return nil }
func unlock(*os.File) error { return nil }
