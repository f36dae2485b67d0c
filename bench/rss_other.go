//go:build !unix

package bench

// peakRSSMiB is 0 where getrusage does not exist (Windows): unknown.
func peakRSSMiB() float64 { return 0 }
