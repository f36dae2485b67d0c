package sysmem

import (
	"strconv"
	"strings"
	"syscall"

	"github.com/fmnist/fmnist/internal/safefile"
)

func physical() uint64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}

// limits are the cgroup v2 (or v1) memory limit and RLIMIT_AS.
func limits() []uint64 {
	var ls []uint64
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := safefile.ReadFile(p, 64); err == nil {
			if v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
				ls = append(ls, v) // "max" (no limit) does not parse
			}
		}
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err == nil && rl.Cur != ^uint64(0) {
		ls = append(ls, rl.Cur)
	}
	return ls
}

func peakRSS() uint64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return uint64(ru.Maxrss) << 10 // KiB on Linux
}
