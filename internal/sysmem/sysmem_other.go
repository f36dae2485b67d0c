//go:build !linux && !darwin && !windows

package sysmem

func physical() uint64 { return 0 }
func limits() []uint64 { return nil }
func peakRSS() uint64  { return 0 }
