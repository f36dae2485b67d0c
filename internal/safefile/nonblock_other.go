//go:build !unix

package safefile

import "os"

// Systems without O_NONBLOCK (Windows) have no FIFOs in the file system;
// the stat before opening is the check there.
const oNonblock = 0

func clearNonblock(*os.File) error { return nil }
