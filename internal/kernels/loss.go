package kernels

import "math"

// sceBlock is the number of rows whose losses are summed together before the
// block sums are added in order. The blocking depends only on n, so the loss
// has the same bits whatever GOMAXPROCS is; for n <= sceBlock it is the sum
// SoftmaxCrossEntropyRef forms.
const sceBlock = 256

type sceJob struct {
	dlogits, logits []float32
	labels          []uint8
	n, classes      int
	eps             float32
	part            []float64 // per block: summed loss, then hits
}

func (j *sceJob) task(t, _ int) {
	lo, hi := parSpan(t, sceBlock, j.n)
	l, c := sceRows(j.dlogits, j.logits, j.labels, j.n, j.classes, j.eps, lo, hi)
	j.part[2*t], j.part[2*t+1] = l, float64(c)
}

// softmaxCrossEntropy is SoftmaxCrossEntropy after the argument checks.
func (e exec) softmaxCrossEntropy(dlogits, logits []float32, labels []uint8, n, classes int, eps float32) (float64, int) {
	if n == 0 {
		return math.NaN(), 0 // 0/0, as the reference
	}
	blocks := parCount(sceBlock, n)
	var loss float64
	var correct int
	if blocks > 1 && e.procs > 1 && n*classes >= e.minWork/4 && e.pool.mu.TryLock() {
		// The pool is ours: its scratch holds the block sums. parRun would
		// take the lock again, so the region is started directly.
		p := e.pool
		part := p.partials(2 * blocks)
		p.slots.sce = sceJob{dlogits: dlogits, logits: logits, labels: labels, n: n, classes: classes, eps: eps, part: part}
		p.region(&p.slots.sce, blocks, e.procs)
		for b := 0; b < blocks; b++ {
			loss += part[2*b]
			correct += int(part[2*b+1])
		}
		p.slots.sce = sceJob{}
		p.mu.Unlock()
	} else {
		for b := 0; b < blocks; b++ {
			lo, hi := parSpan(b, sceBlock, n)
			l, c := sceRows(dlogits, logits, labels, n, classes, eps, lo, hi)
			loss += l
			correct += c
		}
	}
	return loss / float64(n), correct
}

// sceRows does rows [lo, hi) with SoftmaxCrossEntropyRef's arithmetic and
// returns their summed loss and hits. n is the batch size the gradient is
// averaged over.
func sceRows(dlogits, logits []float32, labels []uint8, n, classes int, eps float32, lo, hi int) (loss float64, correct int) {
	fn := float64(n)
	off := float64(eps) / float64(classes)
	on := off + (1 - float64(eps))
	for i := lo; i < hi; i++ {
		row := logits[i*classes : i*classes+classes]
		lab := int(labels[i])
		mx, arg := row[0], 0
		for j, v := range row {
			if v > mx {
				mx, arg = v, j
			}
		}
		if arg == lab {
			correct++
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v - mx))
		}
		lse := float64(mx) + math.Log(sum)
		var l float64
		if dlogits == nil {
			for j, v := range row {
				t := off
				if j == lab {
					t = on
				}
				l -= t * (float64(v) - lse)
			}
		} else {
			d := dlogits[i*classes : i*classes+classes]
			d = d[:len(row)]
			for j, v := range row {
				t := off
				if j == lab {
					t = on
				}
				l -= t * (float64(v) - lse)
				d[j] = float32((math.Exp(float64(v)-lse) - t) / fn)
			}
		}
		loss += l
	}
	return loss, correct
}
