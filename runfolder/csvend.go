package runfolder

import "io"

// endReader remembers the last byte read, so that a CSV file cut inside
// its last line is refused: the line would read as a shorter number (a
// probability 0.63741 cut to 0.6) rather than as an error. Every run file
// ends its lines with a newline.
type endReader struct {
	r    io.Reader
	last byte
	n    int64
}

func (e *endReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if n > 0 {
		e.last, e.n = p[n-1], e.n+int64(n)
	}
	return n, err
}

// complete is nil when the file read so far ends with a whole line.
func (e *endReader) complete(path string) error {
	if e.n > 0 && e.last != '\n' {
		return badf(path, 0, "the last line has no newline: the file was cut short")
	}
	return nil
}
