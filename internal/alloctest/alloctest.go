// Package alloctest counts the allocations that fmnist's own code makes,
// for the tests that check a steady state allocates nothing.
//
// Counting runtime.MemStats.Mallocs is not enough once work runs on more
// than one goroutine: the runtime allocates now and then for a goroutine
// that parks (the records of runtime.acquireSudog, refilled per P), however
// often the code under test allocates. So the count here comes from the
// heap profile at rate 1, by call site, and leaves those records out.
// testing.AllocsPerRun cannot serve either: it runs with GOMAXPROCS 1, so
// the parallel paths never run.
//
// It is imported by tests only (internal/kernels' tests too: the package
// itself imports nothing of ours, and this package imports only the runtime).
package alloctest

import (
	"runtime"
	"strings"
)

// Profile is the number of allocations so far by stack.
type Profile map[[32]uintptr]int64

// Start sets the heap profile rate to 1, so that every allocation is
// recorded, and returns the function that restores it.
func Start() (stop func()) {
	old := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	return func() { runtime.MemProfileRate = old }
}

// Snapshot reads the heap profile after the collections that publish it.
// Start must have been called before the allocations to count.
func Snapshot() Profile {
	runtime.GC()
	runtime.GC()
	n, _ := runtime.MemProfile(nil, true)
	recs := make([]runtime.MemProfileRecord, n+100)
	n, _ = runtime.MemProfile(recs, true)
	m := make(Profile, n)
	for _, r := range recs[:n] {
		m[r.Stack0] += r.AllocObjects
	}
	return m
}

// Ours is the number of allocations between before and after that
// fmnist's non-test code made, and the stack of one of them ("" if none).
func Ours(before, after Profile) (n int64, site string) {
	for stack, a := range after {
		if d := a - before[stack]; d > 0 {
			if s := ourSite(stack); s != "" {
				n += d
				site = s
			}
		}
	}
	return n, site
}

// Count runs f runs times after one warm-up call and returns what Ours
// counts over those runs.
func Count(runs int, f func()) (n int64, site string) {
	defer Start()()
	f()
	before := Snapshot()
	for range runs {
		f()
	}
	return Ours(before, Snapshot())
}

// ourSite is the stack, innermost first, of an allocation that a function
// of this module (outside _test.go files) made, or "". Runtime frames are
// looked through; the runtime's parking records do not count.
func ourSite(stack [32]uintptr) string {
	pcs := stack[:]
	for i, pc := range pcs {
		if pc == 0 {
			pcs = pcs[:i]
			break
		}
	}
	var names []string
	frames := runtime.CallersFrames(pcs)
	for {
		fr, more := frames.Next()
		names = append(names, fr.Function)
		switch {
		case fr.Function == "runtime.acquireSudog",
			strings.HasPrefix(fr.Function, "github.com/fmnist/fmnist/internal/alloctest."): // a snapshot's own
			return ""
		case strings.HasPrefix(fr.Function, "runtime.") || strings.HasPrefix(fr.Function, "internal/runtime/"):
		case strings.HasPrefix(fr.Function, "github.com/fmnist/fmnist/") && !strings.HasSuffix(fr.File, "_test.go"):
			return strings.Join(names, " <- ")
		default:
			return ""
		}
		if !more {
			return ""
		}
	}
}
