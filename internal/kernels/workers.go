package kernels

import (
	"sync"
	"sync/atomic"
)

// sgemmWorkers are long-lived goroutines that help with Sgemm calls. A `go`
// statement per call would allocate; a job pointer sent on a channel does
// not. Each worker keeps its own packing buffers for its lifetime.
var sgemmWorkers = workerPool{jobs: make(chan *sgemmJob)}

type workerPool struct {
	jobs    chan *sgemmJob // unbuffered: a send succeeds only if a worker is idle
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
	for j := range p.jobs {
		j.work(ws)
		j.release()
	}
}
