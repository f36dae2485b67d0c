package runfolder

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/fmnist/fmnist/internal/safefile"
)

// csvTable reads a CSV file whose header must contain want (in any order,
// extra columns ignored) and calls row for each record with the column
// positions of want, then of opt (-1 for those absent). line is the
// record's line number in the file.
func csvTable(path string, want, opt []string, row func(rec []string, col []int, line int) error) error {
	f, _, err := safefile.OpenLimited(path, maxCSVBytes)
	if err != nil {
		return fmt.Errorf("runfolder: %w", err)
	}
	defer f.Close()
	end := &endReader{r: f}
	cr := csv.NewReader(end)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return badf(path, 0, "empty file, want a header")
	}
	if err != nil {
		return csvErr(path, err)
	}
	col := make([]int, len(want), len(want)+len(opt))
	for i, name := range want {
		col[i] = slices.Index(head, name)
		if col[i] < 0 {
			return badf(path, 1, "header has no column %q (want %v)", name, want)
		}
	}
	for _, name := range opt {
		col = append(col, slices.Index(head, name))
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return end.complete(path)
		}
		if err != nil {
			return csvErr(path, err)
		}
		line, _ := cr.FieldPos(0)
		if err := row(rec, col, line); err != nil {
			return err
		}
	}
}

func csvErr(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return badf(path, pe.Line, "%v", pe.Err)
	}
	return fmt.Errorf("runfolder: %s: %w", path, err)
}

// field parsers return a short message on failure; the caller adds the place.
func parseFloat(name, s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a number", name, clip(s))
	}
	return v, nil
}

func parseInt(name, s string, lo, hi int) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not an integer", name, clip(s))
	}
	if v < lo || v > hi {
		if hi == math.MaxInt32 {
			return 0, fmt.Errorf("%s %d: want >= %d", name, v, lo)
		}
		return 0, fmt.Errorf("%s %d outside [%d, %d]", name, v, lo, hi)
	}
	return v, nil
}
