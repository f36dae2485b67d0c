package serve

import (
	"context"
	"sync"
	"time"

	"github.com/fmnist/fmnist/classifier"
)

// batcher groups the requests for one model into forward passes.
type batcher struct {
	c      *classifier.Classifier
	max    int
	window time.Duration
	jobs   chan *job // unbuffered: a waiting sender is a queued request
	wg     sync.WaitGroup
	m      *metrics
}

type job struct {
	px   *[classifier.Pixels]uint8
	done chan result // buffered, so a worker never waits for a client that left
}

type result struct {
	p   classifier.Prediction
	err error
}

// newBatcher starts one worker per replica of c, so each worker's batch
// has a replica to itself.
func newBatcher(c *classifier.Classifier, max int, window time.Duration, m *metrics) *batcher {
	b := &batcher{c: c, max: min(max, c.MaxBatch()), window: window, jobs: make(chan *job), m: m}
	for range c.Replicas() {
		b.wg.Go(b.work)
	}
	return b
}

// classify queues one image and waits for its prediction.
func (b *batcher) classify(ctx context.Context, px *[classifier.Pixels]uint8) (classifier.Prediction, error) {
	j := &job{px: px, done: make(chan result, 1)}
	select {
	case b.jobs <- j:
	case <-ctx.Done():
		return classifier.Prediction{}, ctx.Err()
	}
	select {
	case r := <-j.done:
		return r.p, r.err
	case <-ctx.Done():
		return classifier.Prediction{}, ctx.Err()
	}
}

// close stops the workers once no classify call is running.
func (b *batcher) close() {
	close(b.jobs)
	b.wg.Wait()
}

func (b *batcher) work() {
	var batch []*job
	var px []uint8
	for first := range b.jobs {
		batch = append(batch[:0], first)
		b.gather(&batch)
		px = px[:0]
		for _, j := range batch {
			px = append(px, j.px[:]...)
		}
		preds, err := b.c.ClassifyPixels(px)
		b.m.batched(len(batch))
		for i, j := range batch {
			if err != nil {
				j.done <- result{err: err}
			} else {
				j.done <- result{p: preds[i]}
			}
		}
	}
}

// gather adds the requests already waiting and, with a window, those that
// come within it, up to b.max.
func (b *batcher) gather(batch *[]*job) {
	var timeout <-chan time.Time
	if b.window > 0 {
		t := time.NewTimer(b.window)
		defer t.Stop()
		timeout = t.C
	}
	for len(*batch) < b.max {
		if timeout == nil {
			select {
			case j, ok := <-b.jobs:
				if !ok {
					return
				}
				*batch = append(*batch, j)
			default:
				return
			}
			continue
		}
		select {
		case j, ok := <-b.jobs:
			if !ok {
				return
			}
			*batch = append(*batch, j)
		case <-timeout:
			return
		}
	}
}
