package serve

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// latencyBuckets are the upper bounds, in seconds, of the latency
// histogram: from a cached page to a slow CNN batch.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// batchBuckets are the upper bounds of the batch-size histogram.
var batchBuckets = []float64{1, 2, 4, 8, 16, 32, 64}

// metrics counts what /metrics shows, in the Prometheus text format
// (version 0.0.4). Written by hand: a few counters and two histograms do
// not need a client library.
type metrics struct {
	mu       sync.Mutex
	requests map[reqKey]uint64
	latency  map[string]*histogram
	batches  histogram
}

type reqKey struct {
	handler string
	code    int
}

type histogram struct {
	bounds []float64
	counts []uint64 // per bucket, not cumulative; one more for +Inf
	sum    float64
	n      uint64
}

func newHistogram(bounds []float64) histogram {
	return histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) add(v float64) {
	i, _ := slices.BinarySearch(h.bounds, v) // first bound >= v: le is inclusive
	h.counts[i]++
	h.sum += v
	h.n++
}

func newMetrics() *metrics {
	return &metrics{requests: map[reqKey]uint64{}, latency: map[string]*histogram{}, batches: newHistogram(batchBuckets)}
}

func (m *metrics) observe(handler string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[reqKey{handler, code}]++
	h := m.latency[handler]
	if h == nil {
		nh := newHistogram(latencyBuckets)
		h = &nh
		m.latency[handler] = h
	}
	h.add(d.Seconds())
}

func (m *metrics) batched(n int) {
	m.mu.Lock()
	m.batches.add(float64(n))
	m.mu.Unlock()
}

func (m *metrics) write(w io.Writer, inFlight int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b reqKey) int {
		if a.handler != b.handler {
			return strings.Compare(a.handler, b.handler)
		}
		return a.code - b.code
	})
	fmt.Fprintln(w, "# HELP fmnist_http_requests_total HTTP requests answered, by handler and status code.")
	fmt.Fprintln(w, "# TYPE fmnist_http_requests_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "fmnist_http_requests_total{handler=%q,code=\"%d\"} %d\n", k.handler, k.code, m.requests[k])
	}
	errs := map[string]uint64{}
	for _, k := range keys {
		if k.code >= 400 {
			errs[k.handler] += m.requests[k]
		}
	}
	fmt.Fprintln(w, "# HELP fmnist_http_errors_total HTTP requests answered with a 4xx or 5xx status, by handler.")
	fmt.Fprintln(w, "# TYPE fmnist_http_errors_total counter")
	for _, h := range sortedKeys(errs) {
		fmt.Fprintf(w, "fmnist_http_errors_total{handler=%q} %d\n", h, errs[h])
	}
	fmt.Fprintln(w, "# HELP fmnist_http_request_duration_seconds Time to answer an HTTP request, by handler.")
	fmt.Fprintln(w, "# TYPE fmnist_http_request_duration_seconds histogram")
	for _, h := range sortedKeys(m.latency) {
		m.latency[h].write(w, "fmnist_http_request_duration_seconds", fmt.Sprintf("handler=%q,", h))
	}
	fmt.Fprintln(w, "# HELP fmnist_predict_batch_size Images per forward pass of the micro-batcher.")
	fmt.Fprintln(w, "# TYPE fmnist_predict_batch_size histogram")
	m.batches.write(w, "fmnist_predict_batch_size", "")
	fmt.Fprintln(w, "# HELP fmnist_predict_in_flight Predict requests holding a slot now.")
	fmt.Fprintln(w, "# TYPE fmnist_predict_in_flight gauge")
	fmt.Fprintf(w, "fmnist_predict_in_flight %d\n", inFlight)
}

func (h *histogram) write(w io.Writer, name, labels string) {
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(w, "%s_bucket{%sle=%q} %d\n", name, labels, strconv.FormatFloat(b, 'g', -1, 64), cum)
	}
	cum += h.counts[len(h.bounds)]
	fmt.Fprintf(w, "%s_bucket{%sle=\"+Inf\"} %d\n", name, labels, cum)
	trim := labels
	if trim != "" {
		trim = "{" + trim[:len(trim)-1] + "}"
	}
	fmt.Fprintf(w, "%s_sum%s %s\n", name, trim, strconv.FormatFloat(h.sum, 'g', -1, 64))
	fmt.Fprintf(w, "%s_count%s %d\n", name, trim, h.n)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
