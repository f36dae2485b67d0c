package imageprep

import "math"

// tap is one source pixel's weight in an output pixel.
type tap struct {
	i int
	w float64
}

// axisTaps returns, for each of m output pixels along an axis of n source
// pixels, the source pixels it reads and their weights (summing to 1).
// Shrinking (m < n) averages the source area each output pixel covers,
// with exact integer overlaps; enlarging interpolates linearly between the
// two nearest source centres, pixel centres aligned.
func axisTaps(n, m int) [][]tap {
	out := make([][]tap, m)
	switch {
	case m == n:
		for j := range out {
			out[j] = []tap{{j, 1}}
		}
	case m < n:
		// In units of 1/(n·m) of the axis, source pixel i is [i·m, (i+1)·m)
		// and output pixel j is [j·n, (j+1)·n).
		for j := range out {
			lo, hi := j*n, (j+1)*n
			for i := lo / m; i*m < hi; i++ {
				ov := min((i+1)*m, hi) - max(i*m, lo)
				out[j] = append(out[j], tap{i, float64(ov) / float64(n)})
			}
		}
	default:
		for j := range out {
			u := (float64(2*j+1)*float64(n) - float64(m)) / float64(2*m)
			switch i0 := int(math.Floor(u)); {
			case u <= 0:
				out[j] = []tap{{0, 1}}
			case i0 >= n-1:
				out[j] = []tap{{n - 1, 1}}
			case u == float64(i0):
				out[j] = []tap{{i0, 1}}
			default:
				f := u - float64(i0)
				out[j] = []tap{{i0, 1 - f}, {i0 + 1, f}}
			}
		}
	}
	return out
}

// resample scales the cw×ch picture at src (rows stride bytes apart), its
// values mapped through lut, to tw×th, rows first then columns.
func resample(src []uint8, stride, cw, ch, tw, th int, lut *[256]float64) []float64 {
	tx, ty := axisTaps(cw, tw), axisTaps(ch, th)
	tmp := make([]float64, ch*tw)
	for y := range ch {
		row := src[y*stride : y*stride+cw]
		for j, taps := range tx {
			var s float64
			for _, t := range taps {
				s += lut[row[t.i]] * t.w
			}
			tmp[y*tw+j] = s
		}
	}
	out := make([]float64, th*tw)
	for j, taps := range ty {
		dst := out[j*tw : (j+1)*tw]
		for _, t := range taps {
			for x, v := range tmp[t.i*tw : (t.i+1)*tw] {
				dst[x] += v * t.w
			}
		}
	}
	return out
}
