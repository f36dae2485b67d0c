package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// sgemmWorkers are long-lived goroutines that help with Sgemm calls. A `go`
// statement per call would allocate; a job pointer sent on a channel does
// not. Each worker keeps its own packing buffers for its lifetime.
//
// The channel is buffered, so that a job reaches a worker that is still
// finishing the previous call rather than being done by the caller alone;
// back-to-back calls are the common case. A worker that takes a job late
// finds its tasks done and only drops its hold on it.
var sgemmWorkers = workerPool{jobs: make(chan *sgemmJob, 256)}

type workerPool struct {
	jobs    chan *sgemmJob
	started atomic.Int64
	mu      sync.Mutex
}

// ensure starts workers until there are at least n.
func (p *workerPool) ensure(n int) {
	if int(p.started.Load()) >= n {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for int(p.started.Load()) < n {
		p.started.Add(1)
		go p.run()
	}
}

func (p *workerPool) run() {
	ws := new(sgemmWorkspace)
	for {
		j := p.next()
		j.work(ws)
		j.release()
	}
}

// workerSpin is how long an idle worker keeps polling for a job before it
// parks. Waking a parked goroutine takes an idle CPU out of its sleep,
// which under a hypervisor can cost tens of microseconds, a good part of a
// mid-sized product; back-to-back products (the backward pass) then find
// the worker awake. runtime.Gosched in the loop yields the CPU to any other
// goroutine that wants it. Measured on the 2-core Zen 4 VM: 128×256×512
// goes from about 150 to 175 GFLOP/s in a loop; 20 µs does as well as 50.
// A variable so that it can be tuned.
var workerSpin = 20 * time.Microsecond

// next returns the next job, spinning for up to workerSpin first.
func (p *workerPool) next() *sgemmJob {
	start := time.Now()
	for {
		select {
		case j := <-p.jobs:
			return j
		default:
		}
		if time.Since(start) > workerSpin {
			return <-p.jobs
		}
		runtime.Gosched()
	}
}
