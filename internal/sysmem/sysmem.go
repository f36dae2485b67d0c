package sysmem

// Limit is the memory this process can count on, in bytes: the smallest of
// the physical memory and the limits set on the process; 0 when unknown.
func Limit() uint64 {
	n := physical()
	for _, l := range limits() {
		if l > 0 && (n == 0 || l < n) {
			n = l
		}
	}
	return n
}

// PeakRSS is the peak resident memory of this process in bytes; 0 when the
// system does not say.
func PeakRSS() uint64 { return peakRSS() }
