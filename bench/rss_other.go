//go:build !unix

package bench

// peakRSSMiB is 0 where syscall has no Getrusage (Windows, wasm): unknown.
func peakRSSMiB() float64 { return 0 }
