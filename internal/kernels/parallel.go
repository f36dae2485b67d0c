package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// All kernels, SGEMM included, share one small pool of persistent
// goroutines. A kernel cuts its work into a fixed number of tasks that
// depends only on the shapes, never on GOMAXPROCS or on the pool; the
// goroutines take tasks in any order, and each output element belongs to
// exactly one task. Results are therefore the same bits whatever runs them.
//
// A region allocates nothing: the job's arguments live in a slot of the pool
// (parSlots), and the caller holds the pool's mutex while the region runs. A
// caller that finds the pool busy (another goroutine's region, or a task of
// a region calling a kernel) runs its tasks itself.

// parJob is one kernel's tasks: task(t, w) computes task t on goroutine w
// of the region (the caller is 0), which names the goroutine's scratch
// (parPool.gemm) for the jobs that need some. Which goroutine runs a task
// must not change its result.
type parJob interface{ task(t, w int) }

// parMinWork is the size (in elements touched) below which a kernel stays on
// the calling goroutine: waking a parked goroutine costs a few microseconds,
// the time to stream about this much memory. Tests run with an exec whose
// minWork is lower, to send small shapes through the pool.
const parMinWork = 1 << 16

// parGrain is the number of elements per task of the element-wise kernels:
// large enough to amortise taking a task, small enough to balance two cores.
const parGrain = 1 << 15

// parSpin is how long an idle helper keeps polling for a region before it
// parks. Waking a parked goroutine takes an idle CPU out of its sleep,
// which under a hypervisor can cost tens of microseconds, a good part of a
// mid-sized product; back-to-back regions (the backward pass) then find
// the helper awake. runtime.Gosched in the loop yields the CPU to any other
// goroutine that wants it. Measured on the 2-core Zen 4 VM: 128×256×512
// goes from about 150 to 175 GFLOP/s in a loop; 20 µs does as well as 50.
const parSpin = 20 * time.Microsecond

type parPool struct {
	mu    sync.Mutex // held by the goroutine running a region
	job   parJob
	n     int64 // tasks in the region
	next  atomic.Int64
	done  sync.WaitGroup
	wake  []chan struct{} // one per started helper
	slots parSlots
	f64   []float64         // per-task partial sums of a reduction, grown once
	gemm  []*sgemmWorkspace // per goroutine of an SGEMM region, grown once

	// helped counts the times a helper ran tasks of a region, for the
	// tests that check the pool's path allocates nothing.
	helped atomic.Int64
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
	winoGemm winoGemmJob
	winoBack winoBackJob
	winoSum  winoSumJob
	tapsFwd  tapsFwdJob
	tapsBack tapsBackJob
	sgemm    sgemmJob
}

// parShared is the pool of the exported kernels.
var parShared parPool

// parRun runs tasks [0, tasks) of the job stored in *slot (a field of
// e.pool.slots, filled here from job), on the pool when work is at least
// e.minWork, e.procs allows it and the pool is free. It reports false,
// having done nothing, when the caller must run the tasks itself.
func parRun[J any, P interface {
	*J
	parJob
}](e exec, slot P, job J, tasks, work int) bool {
	return parRunN(e, slot, job, tasks, work, e.procs)
}

// parRunN is parRun on at most procs goroutines.
func parRunN[J any, P interface {
	*J
	parJob
}](e exec, slot P, job J, tasks, work, procs int) bool {
	if tasks < 2 || work < e.minWork {
		return false
	}
	if procs < 2 || !e.pool.mu.TryLock() {
		return false
	}
	*slot = job
	e.pool.gemmSpaces(procs)
	e.pool.region(slot, tasks, procs)
	var zero J
	*slot = zero
	e.pool.mu.Unlock()
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

// gemmSpaces returns n SGEMM workspaces, one per goroutine of a region;
// only the goroutine holding the pool's mutex may call it. It gives each
// the largest buffers any has: a task of a region that ran before then
// finds room whichever goroutine takes it, and a loop of calls allocates
// nothing after its first ones.
func (p *parPool) gemmSpaces(n int) []*sgemmWorkspace {
	for len(p.gemm) < n {
		p.gemm = append(p.gemm, new(sgemmWorkspace))
	}
	var a, b, t int
	for _, ws := range p.gemm {
		a, b, t = max(a, cap(ws.a)), max(b, cap(ws.b)), max(t, cap(ws.t))
	}
	for _, ws := range p.gemm {
		ws.a, ws.b, ws.t = grow(ws.a, a), grow(ws.b, b), grow(ws.t, t)
	}
	return p.gemm[:n]
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

// helper runs as goroutine w of every region that wakes it, until wake is
// closed.
func (p *parPool) helper(wake chan struct{}, w int) {
	for parAwait(wake) {
		p.drain(w)
		p.done.Done()
	}
}

// parAwait waits for a token on wake, polling for up to parSpin before it
// parks; it reports false once wake is closed.
func parAwait(wake chan struct{}) bool {
	start := time.Now()
	for {
		select {
		case _, ok := <-wake:
			return ok
		default:
		}
		if time.Since(start) > parSpin {
			return parPark(wake)
		}
		runtime.Gosched()
	}
}

// parPark blocks on wake. The runtime takes a record for the parked
// goroutine from a per-P cache, which it refills now and then by
// allocating; the allocation tests recognise those by this function.
//
//go:noinline
func parPark(wake chan struct{}) bool {
	_, ok := <-wake
	return ok
}

// stop ends the pool's helpers; the pool must be idle and is not used
// again. For tests, which run on pools of their own.
func (p *parPool) stop() {
	p.mu.Lock()
	for _, ch := range p.wake {
		close(ch)
	}
	p.wake = nil
}

func (p *parPool) drain(w int) {
	for ran := false; ; ran = true {
		t := p.next.Add(1) - 1
		if t >= p.n {
			if ran && w > 0 {
				p.helped.Add(1)
			}
			return
		}
		p.job.task(int(t), w)
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
