package kernels

import "unsafe"

// im2col and col2im for a 3×3, stride 1, pad 1 convolution on NHWC. A task
// is a group of image rows (b, y): for im2col the col rows they produce, for
// col2im the rows of dx it owns. Both are copies at memory speed; these are
// the times on one core at batch 128 (ms, median of 5, the AMD EPYC with a
// 32 MB L3 this was written on):
//
//	                         conv2  conv3  conv4  conv5   col size
//	                         115    58     29     11      MB
//	im2col, ordinary stores  6.4    3.3    1.2    0.18
//	im2col, streaming        4.45   2.2    1.0    0.29
//	col2im gather            9.3    3.6    0.98   0.105
//	col2im gather+prefetch   8.0    2.8    1.1    0.175
//	col2im scatter (asm)     5.9    3.5    1.3    0.15
//
// Hence streaming stores from 16 MB of col and prefetching from 32 MB.
//
// col2im gives every dx pixel the additions of Col2im3x3Ref, in its order,
// starting from zero, so the bits are its bits. The assembly gathers: each
// pixel sums its (at most nine) patch entries in registers and is written
// once; the col rows two image rows ahead are prefetched, since the gather's
// stride defeats the hardware prefetcher. The Go code scatters like the
// reference, reading col in order: a task zeroes its dx rows, then adds the
// col rows that reach them, keeping only what lands in its rows. (A scatter
// in assembly for small c would save 2 ms at conv2.)

// convRowsPerTask groups image rows so that a task moves about 256 KiB.
func convRowsPerTask(w, c int) int {
	return max(1, (1<<16)/max(1, 9*w*c))
}

// im2colNTMin is the size of col (in floats) from which im2col stores bypass
// the caches: a col buffer that large would be evicted before the GEMM reads
// it anyway, and streaming stores save reading each line before writing it.
// Below it the buffer can stay in the L3 for the GEMM.
const im2colNTMin = 16 << 20 / 4

type im2colJob struct {
	k          *kset
	col, x     []float32
	n, h, w, c int
	per        int
	nt         bool
}

func (j *im2colJob) task(t, _ int) {
	lo, hi := parSpan(t, j.per, j.n*j.h)
	j.rows(lo, hi)
}

func (e exec) im2col3x3(col, x []float32, n, h, w, c int) {
	rows := n * h
	size := rows * w * 9 * c
	if size == 0 {
		return
	}
	j := im2colJob{k: e.k, col: col, x: x, n: n, h: h, w: w, c: c, per: convRowsPerTask(w, c)}
	// Streaming stores need 32-byte alignment; col rows are 36·c bytes. The
	// assembly fences them before it returns, on the core that made them.
	j.nt = size >= im2colNTMin && uintptr(unsafe.Pointer(&col[0]))%32 == 0
	if !parRun(e, &e.pool.slots.im2col, j, parCount(j.per, rows), size) {
		j.rows(0, rows)
	}
}

// rows fills the col rows of image rows [lo, hi).
func (j *im2colJob) rows(lo, hi int) {
	h, w, c := j.h, j.w, j.c
	k := 9 * c
	for r := lo; r < hi; r++ {
		b, y := r/h, r%h
		dst := j.col[r*w*k : (r+1)*w*k]
		var src [3][]float32
		for ky := range 3 {
			if iy := y + ky - 1; iy >= 0 && iy < h {
				src[ky] = j.x[(b*h+iy)*w*c : (b*h+iy+1)*w*c]
			}
		}
		j.k.im2colRow(dst, src, w, c, j.nt)
	}
}

// im2colRowGo writes the w col rows of one image row from its three input
// rows (nil above or below the image). nt (streaming stores) is for the
// assembly.
func im2colRowGo(dst []float32, src [3][]float32, w, c int, nt bool) {
	if c == 1 {
		im2colRowC1(dst, &src, w)
		return
	}
	k := 9 * c
	for ky, s := range src {
		for xx := 0; xx < w; xx++ {
			d := dst[xx*k+ky*3*c : xx*k+(ky+1)*3*c]
			if s == nil {
				clear(d)
				continue
			}
			// Pixels [lo, hi) of the input row fall in the patch; the
			// others are padding.
			lo, hi := max(xx-1, 0), min(xx+2, w)
			at := (lo - (xx - 1)) * c
			clear(d[:at])
			seg := s[lo*c : hi*c]
			if c < 8 {
				dd := d[at : at+len(seg)]
				for i, v := range seg {
					dd[i] = v
				}
			} else {
				copy(d[at:], seg)
			}
			clear(d[at+len(seg):])
		}
	}
}

// im2colRowC1 is im2colRowGo for one channel (the first convolution), where
// a segment is a single float.
func im2colRowC1(dst []float32, src *[3][]float32, w int) {
	for ky, s := range src {
		if s == nil {
			for xx := 0; xx < w; xx++ {
				d := dst[xx*9+ky*3 : xx*9+ky*3+3]
				d[0], d[1], d[2] = 0, 0, 0
			}
			continue
		}
		s = s[:w]
		for xx, v := range s {
			d := dst[xx*9+ky*3 : xx*9+ky*3+3]
			var l, r float32
			if xx > 0 {
				l = s[xx-1]
			}
			if xx+1 < w {
				r = s[xx+1]
			}
			d[0], d[1], d[2] = l, v, r
		}
	}
}

// col2imPrefetchMin is the size of col (in floats) from which col2im
// prefetches: beyond a 32 MB L3, col comes from memory.
const col2imPrefetchMin = 32 << 20 / 4

type col2imJob struct {
	k          *kset
	dx, col    []float32
	n, h, w, c int
	per        int
	pf         bool // prefetch col: it is too large to be in the caches
}

func (j *col2imJob) task(t, _ int) {
	lo, hi := parSpan(t, j.per, j.n*j.h)
	j.k.col2imRows(*j, lo, hi)
}

func (e exec) col2im3x3(dx, col []float32, n, h, w, c int) {
	rows := n * h
	size := rows * w * 9 * c
	if size == 0 {
		return
	}
	j := col2imJob{k: e.k, dx: dx, col: col, n: n, h: h, w: w, c: c, per: convRowsPerTask(w, c), pf: size >= col2imPrefetchMin}
	if !parRun(e, &e.pool.slots.col2im, j, parCount(j.per, rows), size) {
		j.k.col2imRows(j, 0, rows)
	}
}

// col2imRowsGo writes dx for image rows [lo, hi) (flat over n·h) by
// scattering the col rows that reach them.
func col2imRowsGo(j col2imJob, lo, hi int) {
	h, w, c := j.h, j.w, j.c
	k := 9 * c
	clear(j.dx[lo*w*c : hi*w*c])
	// Col image row r feeds dx rows r-1, r, r+1 of the same image.
	for r := max(lo-1, 0); r < min(hi+1, j.n*h); r++ {
		b, y := r/h, r%h
		var dst [3][]float32
		for ky := range 3 {
			iy := y + ky - 1
			if t := b*h + iy; iy >= 0 && iy < h && t >= lo && t < hi {
				dst[ky] = j.dx[t*w*c : (t+1)*w*c]
			}
		}
		col2imRowGo(&dst, j.col[r*w*k:(r+1)*w*k], w, c)
	}
}

// col2imRowGo adds the w col rows of one image row into the dx rows its
// patch rows reach (nil when not this task's). Col row xx, patch row ky,
// covers pixels xx-1..xx+1 of dst[ky]: one run of up to 3c floats.
func col2imRowGo(dst *[3][]float32, src []float32, w, c int) {
	k := 9 * c
	for xx := 0; xx < w; xx++ {
		lo, hi := max(xx-1, 0), min(xx+2, w)
		skip := (lo - (xx - 1)) * c
		for ky, d := range dst {
			if d == nil {
				continue
			}
			at := xx*k + ky*3*c + skip
			s := src[at : at+(hi-lo)*c]
			o := d[lo*c : hi*c]
			o = o[:len(s)]
			for i, v := range s {
				o[i] += v
			}
		}
	}
}
