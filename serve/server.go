package serve

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fmnist/fmnist/classifier"
	"github.com/fmnist/fmnist/imageprep"
)

// Model is one classifier served under a name.
type Model struct {
	Name       string
	Classifier *classifier.Classifier
	// TestAcc is the model's test accuracy when known, shown by /models.
	TestAcc *float64
}

// Config tunes a Server. The zero value is the default.
type Config struct {
	// MaxBody caps a request body in bytes; 0 means 8 MiB.
	MaxBody int64
	// MaxPixels caps width×height of an uploaded picture; 0 means 16
	// megapixels (64 MB decoded as RGBA).
	MaxPixels int
	// MaxInFlight is how many /predict requests may decode and classify
	// at once; 0 means 4×GOMAXPROCS. The others wait up to QueueWait.
	MaxInFlight int
	// QueueWait is how long a request waits for a slot before a 503; 0
	// means 10 s.
	QueueWait time.Duration
	// MaxBatch caps the images of one micro-batch; 0 means 32.
	MaxBatch int
	// BatchWindow is how long a batch waits for more requests after its
	// first; 0 takes only those already queued, negative turns batching
	// off (each request is its own forward pass).
	BatchWindow time.Duration
	// Log receives one structured line per request; nil discards.
	Log *slog.Logger
}

func (c *Config) defaults() {
	if c.MaxBody <= 0 {
		c.MaxBody = 8 << 20
	}
	if c.MaxPixels <= 0 {
		c.MaxPixels = 16_000_000
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 4 * runtime.GOMAXPROCS(0)
	}
	if c.QueueWait <= 0 {
		c.QueueWait = 10 * time.Second
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 32
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Server serves a set of models. Close it after the HTTP server stops.
type Server struct {
	cfg     Config
	models  []*served
	byName  map[string]*served
	slots   chan struct{}
	metrics *metrics
	mux     *http.ServeMux
}

type served struct {
	Model
	batch *batcher // nil when batching is off
}

//go:embed page.html
var page []byte

// New returns a server of models, which must have distinct, non-empty
// names.
func New(models []Model, cfg Config) (*Server, error) {
	cfg.defaults()
	if len(models) == 0 {
		return nil, errors.New("serve: no models")
	}
	s := &Server{cfg: cfg, byName: map[string]*served{}, slots: make(chan struct{}, cfg.MaxInFlight),
		metrics: newMetrics(), mux: http.NewServeMux()}
	for _, m := range models {
		if m.Name == "" || m.Classifier == nil {
			return nil, fmt.Errorf("serve: model %q: want a name and a classifier", m.Name)
		}
		if _, dup := s.byName[m.Name]; dup {
			return nil, fmt.Errorf("serve: two models named %q", m.Name)
		}
		sm := &served{Model: m}
		s.models = append(s.models, sm)
		s.byName[m.Name] = sm
	}
	// The workers start once nothing can fail, so an error leaks none.
	if cfg.BatchWindow >= 0 {
		for _, sm := range s.models {
			sm.batch = newBatcher(sm.Classifier, cfg.MaxBatch, cfg.BatchWindow, s.metrics)
		}
	}
	s.route("/{$}", s.handlePage, http.MethodGet, http.MethodHead)
	s.route("/predict", s.handlePredict, http.MethodPost)
	s.route("/models", s.handleModels, http.MethodGet, http.MethodHead)
	s.route("/healthz", s.handleHealth, http.MethodGet, http.MethodHead)
	s.route("/metrics", s.handleMetrics, http.MethodGet, http.MethodHead)
	s.route("/", func(w http.ResponseWriter, r *http.Request) error {
		return httpErrorf(http.StatusNotFound, "no such page: %s", r.URL.Path)
	})
	return s, nil
}

// Close stops the batch workers. Call it once no request is in flight,
// after http.Server.Shutdown.
func (s *Server) Close() {
	for _, m := range s.models {
		if m.batch != nil {
			m.batch.close()
		}
	}
}

// Answered is how many /predict requests got the status code so far.
func (s *Server) Answered(code int) int {
	s.metrics.mu.Lock()
	defer s.metrics.mu.Unlock()
	return int(s.metrics.requests[reqKey{"/predict", code}])
}

// ServeHTTP serves the endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// httpError is a refusal with its status.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func httpErrorf(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// route registers h for pattern, answering 405 to other methods. A
// handler's error becomes a JSON error response, logged and counted.
func (s *Server) route(pattern string, h func(http.ResponseWriter, *http.Request) error, methods ...string) {
	label := pattern
	if label == "/{$}" {
		label = "/"
	} else if label == "/" {
		label = "other"
	}
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		var err error
		if len(methods) > 0 && !slices.Contains(methods, r.Method) {
			rec.Header().Set("Allow", strings.Join(methods, ", "))
			err = httpErrorf(http.StatusMethodNotAllowed, "method %s not allowed, use %s", r.Method, strings.Join(methods, ", "))
		} else {
			err = h(rec, r)
		}
		if err != nil {
			writeError(rec, err)
		}
		d := time.Since(start)
		s.metrics.observe(label, rec.status, d)
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", rec.status,
			"ms", float64(d.Microseconds()) / 1000, "bytes", rec.bytes, "remote", r.RemoteAddr}
		if m := r.URL.Query().Get("model"); m != "" {
			attrs = append(attrs, "model", m)
		}
		if err != nil {
			attrs = append(attrs, "error", err.Error())
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		} else if rec.status >= 400 {
			level = slog.LevelWarn
		}
		s.cfg.Log.Log(r.Context(), level, "request", attrs...)
	})
}

// recorder remembers a response's status and size.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// ErrorBody is the JSON of every error response.
type ErrorBody struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var he *httpError
	if errors.As(err, &he) {
		status = he.status
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, ErrorBody{Error: err.Error(), Status: status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) // the status is sent; a failed write only means the client left
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data: blob:")
	w.Write(page)
	return nil
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "models": len(s.models)})
	return nil
}

// ModelInfo is one entry of GET /models.
type ModelInfo struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Params  int      `json:"params"`
	TestAcc *float64 `json:"test_acc"`
	Classes []string `json:"classes"`
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) error {
	list := make([]ModelInfo, len(s.models))
	for i, m := range s.models {
		list[i] = ModelInfo{Name: m.Name, Kind: m.Classifier.Kind(), Params: m.Classifier.Params(),
			TestAcc: m.TestAcc, Classes: m.Classifier.ClassNames()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": list})
	return nil
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.metrics.write(w, len(s.slots))
	return nil
}

// Response is the JSON of POST /predict: the shape of `fmnist predict
// --json` with one image, plus every class's probability and, when asked
// with pixels=1, the 28×28 image the model saw.
type Response struct {
	Model  string  `json:"model"`
	Kind   string  `json:"kind"`
	Images []Image `json:"images"`
}

// Image is the result for one picture.
type Image struct {
	File     string             `json:"file,omitempty"`
	Top      []classifier.Class `json:"top"`
	Inverted bool               `json:"inverted,omitempty"`
	Logits   []float32          `json:"logits,omitempty"`
	Probs    []float64          `json:"probs"`
	Pixels   []int              `json:"pixels,omitempty"` // 784 bytes, row-major, as the model saw them
}

func (s *Server) handlePredict(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	m, err := s.model(q.Get("model"))
	if err != nil {
		return err
	}
	top := 3
	if v := q.Get("top"); v != "" {
		if top, err = strconv.Atoi(v); err != nil || top < 1 {
			return httpErrorf(http.StatusBadRequest, "top %q: want a number from 1", v)
		}
	}
	inv := imageprep.InvertAuto
	if v := q.Get("invert"); v != "" {
		if inv, err = imageprep.ParseInvert(v); err != nil {
			return httpErrorf(http.StatusBadRequest, "invert %q: want auto, yes or no", v)
		}
	}

	// Wait for a slot before reading the body, so that waiting requests
	// hold no decoded pictures.
	ctx := r.Context()
	wait := time.NewTimer(s.cfg.QueueWait)
	defer wait.Stop()
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-wait.C:
		return httpErrorf(http.StatusServiceUnavailable, "server busy: no slot within %v", s.cfg.QueueWait)
	case <-ctx.Done():
		return httpErrorf(http.StatusServiceUnavailable, "request cancelled while waiting: %v", ctx.Err())
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return httpErrorf(http.StatusRequestEntityTooLarge, "body over the limit of %d bytes", mb.Limit)
		}
		return httpErrorf(http.StatusBadRequest, "reading the body: %v", err)
	}
	if len(body) == 0 {
		return httpErrorf(http.StatusBadRequest, "empty body: send the picture's bytes (PNG, JPEG or GIF)")
	}
	img, err := imageprep.Decode(bytes.NewReader(body), s.cfg.MaxPixels)
	if err != nil {
		return imageError(err)
	}
	prep, err := imageprep.Prepare(img, imageprep.Options{Invert: inv})
	if err != nil {
		return imageError(err)
	}
	var p classifier.Prediction
	if m.batch != nil {
		p, err = m.batch.classify(ctx, &prep.Pixels)
	} else {
		var ps []classifier.Prediction
		if ps, err = m.Classifier.ClassifyPixels(prep.Pixels[:]); err == nil {
			p = ps[0]
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return httpErrorf(http.StatusServiceUnavailable, "request cancelled: %v", ctx.Err())
		}
		return err
	}
	im := Image{File: q.Get("file"), Top: p.Top(top), Inverted: prep.Inverted, Probs: p.Probs}
	if q.Get("logits") == "1" {
		im.Logits = p.Logits
	}
	if q.Get("pixels") == "1" {
		im.Pixels = make([]int, len(prep.Pixels))
		for i, v := range prep.Pixels {
			im.Pixels[i] = int(v)
		}
	}
	writeJSON(w, http.StatusOK, Response{Model: m.Name, Kind: m.Classifier.Kind(), Images: []Image{im}})
	return nil
}

// model finds a model by name; with one model loaded, the name may be left
// out.
func (s *Server) model(name string) (*served, error) {
	if name == "" {
		if len(s.models) == 1 {
			return s.models[0], nil
		}
		return nil, httpErrorf(http.StatusBadRequest, "which model? add ?model=NAME (see /models)")
	}
	m, ok := s.byName[name]
	if !ok {
		return nil, httpErrorf(http.StatusNotFound, "unknown model %q (see /models)", name)
	}
	return m, nil
}

func imageError(err error) error {
	switch {
	case errors.Is(err, imageprep.ErrFormat):
		return httpErrorf(http.StatusUnsupportedMediaType, "%v", err)
	case errors.Is(err, imageprep.ErrTooLarge):
		return httpErrorf(http.StatusRequestEntityTooLarge, "%v", err)
	}
	return httpErrorf(http.StatusBadRequest, "%v", err)
}
