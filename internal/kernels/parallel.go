package kernels

import (
	"sync"
	"sync/atomic"
)

// The element-wise, pooling and convolution kernels share one small pool of
// persistent goroutines. A kernel cuts its work into a fixed number of tasks
// that depends only on the shapes, never on GOMAXPROCS or on the pool; the
// goroutines take tasks in any order, and each output element belongs to
// exactly one task. Results are therefore the same bits whatever runs them.
//
// A region allocates nothing: the job's arguments live in a slot of the pool
// (parSlots), and the caller holds the pool's mutex while the region runs. A
// caller that finds the pool busy runs its tasks itself.

// parJob is one kernel's tasks; task(t) computes task t.
type parJob interface{ task(t int) }

// parJobW is a job whose tasks need per-goroutine scratch: the pool calls
// taskW(t, w) instead of task(t), where w < the region's goroutines names
// the goroutine (the caller is 0). Which goroutine runs a task must not
// change its result.
type parJobW interface {
	parJob
	taskW(t, w int)
}

// parMinWork is the size (in elements touched) below which a kernel stays on
// the calling goroutine: waking a parked goroutine costs a few microseconds,
// the time to stream about this much memory. Tests run with an exec whose
// minWork is lower, to send small shapes through the pool.
const parMinWork = 1 << 16

// parGrain is the number of elements per task of the element-wise kernels:
// large enough to amortise taking a task, small enough to balance two cores.
const parGrain = 1 << 15

type parPool struct {
	mu    sync.Mutex // held by the goroutine running a region
	job   parJob
	n     int64 // tasks in the region
	next  atomic.Int64
	done  sync.WaitGroup
	wake  []chan struct{} // one per started helper
	slots parSlots
	f64   []float64 // per-task partial sums of a reduction, grown once
}

// parSlots holds the arguments of the region that is running; a slot is
// cleared afterwards so that the pool keeps no caller's slices alive.
type parSlots struct {
	im2col   im2colJob
	col2im   col2imJob
	maxPool  maxPoolJob
	global   globalMaxPoolJob
	maxBack  maxPoolBackJob
	maxBack2 maxPool2x2BackJob
	elem     elemJob
	colSum   colSumJob
	sce      sceJob
	bnStats  bnStatsJob
	bnFwd    bnForwardJob
	bnBack   bnBackJob
	winoFwd  winoFwdJob
	winoBack winoBackJob
	winoSum  winoSumJob
	tapsFwd  tapsFwdJob
	tapsBack tapsBackJob
}

var parShared parPool

// parRun runs tasks [0, tasks) of the job stored in *slot (a field of
// parShared.slots, filled here from job), on the pool when work is at least
// e.minWork, e.procs allows it and the pool is free. It reports false,
// having done nothing, when the caller must run the tasks itself.
func parRun[J any, P interface {
	*J
	parJob
}](e exec, slot P, job J, tasks, work int) bool {
	return parRunN(e, slot, job, tasks, work, e.procs)
}

// parRunN is parRun on at most procs goroutines; a parJobW's scratch must
// cover procs of them.
func parRunN[J any, P interface {
	*J
	parJob
}](e exec, slot P, job J, tasks, work, procs int) bool {
	if tasks < 2 || work < e.minWork {
		return false
	}
	if procs < 2 || !parShared.mu.TryLock() {
		return false
	}
	*slot = job
	parShared.region(slot, tasks, procs)
	var zero J
	*slot = zero
	parShared.mu.Unlock()
	return true
}

// partials returns the pool's float64 scratch of length n; only the
// goroutine holding the pool's mutex may call it.
func (p *parPool) partials(n int) []float64 {
	if cap(p.f64) < n {
		p.f64 = make([]float64, n)
	}
	return p.f64[:n]
}

// region runs the tasks with up to procs goroutines, this one included, and
// returns when all are done.
func (p *parPool) region(job parJob, tasks, procs int) {
	p.job, p.n = job, int64(tasks)
	p.next.Store(0)
	helpers := min(procs, tasks) - 1
	for len(p.wake) < helpers {
		ch := make(chan struct{}, 1)
		p.wake = append(p.wake, ch)
		go p.helper(ch, len(p.wake))
	}
	p.done.Add(helpers)
	for _, ch := range p.wake[:helpers] {
		ch <- struct{}{}
	}
	p.drain(0)
	p.done.Wait()
	p.job = nil
}

// helper runs as goroutine w of every region that wakes it.
func (p *parPool) helper(wake chan struct{}, w int) {
	for range wake {
		p.drain(w)
		p.done.Done()
	}
}

func (p *parPool) drain(w int) {
	jw, _ := p.job.(parJobW)
	for {
		t := p.next.Add(1) - 1
		if t >= p.n {
			return
		}
		if jw != nil {
			jw.taskW(int(t), w)
		} else {
			p.job.task(int(t))
		}
	}
}

// parSpan returns the bounds of part t when total is cut into parts of size
// (the last one shorter).
func parSpan(t, size, total int) (lo, hi int) {
	lo = t * size
	return lo, min(lo+size, total)
}

// parCount is the number of parts of size needed to cover total.
func parCount(size, total int) int {
	return (total + size - 1) / size
}
