package serve_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fmnist/fmnist/classifier"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/pipeline"
	"github.com/fmnist/fmnist/serve"
)

// TestLoad puts 16 concurrent clients on the default CNN (untrained: the
// weights do not change the time) through loopback, for the duration in
// $FMNIST_LOAD (e.g. 20s), once per batching mode, and shuts the last
// server down under load. It is a measurement, off unless asked:
//
//	FMNIST_LOAD=20s go test ./serve -run TestLoad -v
func TestLoad(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("FMNIST_LOAD"))
	if err != nil {
		t.Skip("a load measurement; set FMNIST_LOAD=20s to run it")
	}
	d = min(d, time.Minute) // bounded, whatever is asked
	path := filepath.Join(t.TempDir(), "cnn.safetensors")
	spec := pipeline.DefaultConfig().CNN.Spec
	m, err := nn.Build(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := model.SaveModel(path, m, map[string]string{"pixel_mean": "0.286", "pixel_std": "0.353"}); err != nil {
		t.Fatal(err)
	}
	pngs, _ := testImages(t, 64)
	for _, mode := range []struct {
		name   string
		window time.Duration
	}{
		{"no batching", -1},
		{"batches of the queued requests", 0},
		{"batches with a 2 ms window", 2 * time.Millisecond},
	} {
		c, err := classifier.LoadOptions(path, classifier.Options{MaxBatch: 32})
		if err != nil {
			t.Fatal(err)
		}
		r := runLoad(t, c, mode.window, pngs, d)
		t.Logf("%-32s %s", mode.name, r)
	}
}

type loadResult struct {
	ok, failed, refused int
	rps                 float64
	p50, p99            time.Duration
	heap                []uint64 // MiB in use, sampled each second
	served200           int
	batch               float64 // mean images per forward pass, 0 without batching
}

func (r loadResult) String() string {
	return fmt.Sprintf("%6.1f req/s  p50 %6.1f ms  p99 %6.1f ms  mean batch %4.1f  ok %d  failed %d  refused after shutdown %d  server 200s %d  heap MiB %v",
		r.rps, ms(r.p50), ms(r.p99), r.batch, r.ok, r.failed, r.refused, r.served200, r.heap)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// runLoad runs 16 clients for d, then shuts the server down while they still
// send, and checks that every request the server answered reached its
// client with a 200.
func runLoad(t *testing.T, c *classifier.Classifier, window time.Duration, pngs [][]byte, d time.Duration) loadResult {
	s, err := serve.New([]serve.Model{{Name: "cnn", Classifier: c}}, serve.Config{BatchWindow: window})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve.Serve(ctx, ln, s, nil, nil) }()
	url := "http://" + ln.Addr().String() + "/predict"

	var (
		mu       sync.Mutex
		lat      []time.Duration
		failed   []string
		refused  atomic.Int64
		stopping atomic.Bool
	)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for w := range 16 {
		wg.Go(func() {
			for i := w; ; i += 16 {
				if stopping.Load() && time.Now().After(end.Add(time.Second)) {
					return
				}
				t0 := time.Now()
				resp, err := client.Post(url, "image/png", bytes.NewReader(pngs[i%len(pngs)]))
				if err != nil {
					if stopping.Load() {
						// Refused or closed by the shutdown before the
						// server read the request: not accepted.
						refused.Add(1)
						return
					}
					mu.Lock()
					failed = append(failed, err.Error())
					mu.Unlock()
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				if resp.StatusCode != 200 || err != nil {
					failed = append(failed, fmt.Sprintf("%d %v", resp.StatusCode, err))
				} else {
					lat = append(lat, time.Since(t0))
				}
				mu.Unlock()
			}
		})
	}
	var heap []uint64
	for time.Now().Before(end) {
		time.Sleep(time.Second)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = append(heap, ms.HeapInuse>>20)
	}
	mu.Lock()
	n := len(lat)
	mu.Unlock()
	rps := float64(n) / d.Seconds()

	// The mean batch, then shut down under load: the clients keep sending.
	_, mb := get(t, "http://"+ln.Addr().String()+"/metrics")
	var bsum, bn float64
	for _, l := range strings.Split(string(mb), "\n") {
		scan(l, "fmnist_predict_batch_size_sum ", &bsum)
		scan(l, "fmnist_predict_batch_size_count ", &bn)
	}
	stopping.Store(true)
	cancel()
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	wg.Wait()

	slices.Sort(lat)
	r := loadResult{ok: len(lat), failed: len(failed), refused: int(refused.Load()), rps: rps, heap: heap}
	if bn > 0 {
		r.batch = bsum / bn
	}
	if len(lat) > 0 {
		r.p50, r.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	r.served200 = s.Answered(http.StatusOK)
	if len(failed) > 0 {
		t.Errorf("%d requests failed, the first: %s", len(failed), failed[0])
	}
	if r.served200 != r.ok {
		t.Errorf("the server answered %d requests with 200, the clients got %d", r.served200, r.ok)
	}
	return r
}
