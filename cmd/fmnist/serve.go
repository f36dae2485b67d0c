package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fmnist/fmnist/classifier"
	"github.com/fmnist/fmnist/runfolder"
	"github.com/fmnist/fmnist/serve"
)

func init() {
	register(command{name: "serve", order: 47, run: cmdServe,
		summary: "serve saved models over HTTP, with a web page to try them"})
}

func cmdServe(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveMain(ctx, args, stdout, stderr, nil)
}

// serveMain runs the server until ctx is done; ready, when not nil, gets
// the address it listens on.
func serveMain(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(net.Addr)) error {
	fs := newFlags("serve", "serve [flags] MODEL.safetensors... (or NAME=MODEL.safetensors)",
		"Serves model files written by run or train over HTTP, each under the name of its file without\n"+
			".safetensors (or the NAME given before '='):\n\n"+
			"  POST /predict?model=NAME   the picture's bytes (PNG, JPEG or GIF) as the body; answers the JSON of\n"+
			"                             'fmnist predict --json' for one image, plus all 10 probabilities\n"+
			"                             (query: top=K, invert=auto|yes|no, logits=1, pixels=1 for the 28×28\n"+
			"                             image the model saw, file=NAME to echo)\n"+
			"  GET  /models               the models: name, kind, parameters, test accuracy when known\n"+
			"  GET  /healthz, /metrics    liveness, and counters in the Prometheus text format\n"+
			"  GET  /                     a page to upload or draw a picture\n\n"+
			"The test accuracy comes from results.json in the model's folder when the file is a run's.\n"+
			"Logs go to stderr, one structured line per request. SIGINT or SIGTERM stops the server once the\n"+
			"requests in flight are answered.")
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	maxBody := fs.Int64("max-body", 8<<20, "largest request body in bytes")
	inFlight := fs.Int("max-inflight", 0, "predict requests decoded and classified at once (0: 4 × CPUs)")
	replicas := fs.Int("replicas", 0, "copies of each model that run at once (0: one per CPU)")
	maxBatch := fs.Int("max-batch", 32, "most images in one forward pass of the micro-batcher")
	window := fs.Duration("batch-window", 2*time.Millisecond, "how long a batch waits for more requests after its first (0: only those already waiting; negative: no batching)")
	logJSON := fs.Bool("log-json", false, "log JSON lines instead of key=value text")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErrorf("want at least one model file")
	}
	if *maxBody < 1 || *inFlight < 0 || *replicas < 0 || *maxBatch < 1 {
		return usageErrorf("--max-body and --max-batch want 1 or more, --max-inflight and --replicas 0 or more")
	}
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if *logJSON {
		h = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(h)

	var models []serve.Model
	for _, arg := range fs.Args() {
		name, path := modelName(arg)
		c, err := classifier.LoadOptions(path, classifier.Options{Replicas: *replicas, MaxBatch: *maxBatch})
		if err != nil {
			return err
		}
		m := serve.Model{Name: name, Classifier: c}
		if acc, ok := c.TestAccuracy(); ok {
			m.TestAcc = &acc
		} else if acc, ok := runTestAcc(path); ok {
			m.TestAcc = &acc
		}
		log.Info("loaded", "model", name, "path", path, "kind", c.Kind(), "params", c.Params())
		models = append(models, m)
	}
	srv, err := serve.New(models, serve.Config{MaxBody: *maxBody, MaxInFlight: *inFlight, MaxBatch: *maxBatch,
		BatchWindow: *window, Log: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		srv.Close()
		return fmt.Errorf("serve: %w", err)
	}
	return serve.Serve(ctx, ln, srv, log, func(a net.Addr) {
		fmt.Fprintf(stdout, "serving %d model(s) on http://%s/\n", len(models), a)
		if ready != nil {
			ready(a)
		}
	})
}

// modelName splits NAME=PATH, or names a file after its base name.
func modelName(arg string) (name, path string) {
	if n, p, ok := strings.Cut(arg, "="); ok && n != "" && !strings.ContainsRune(n, filepath.Separator) {
		return n, p
	}
	return strings.TrimSuffix(filepath.Base(arg), ".safetensors"), arg
}

// runTestAcc reads the test accuracy of a run's model file from the run
// folder's results.json, where the pipeline records it under the file's
// name.
func runTestAcc(path string) (float64, bool) {
	r, err := runfolder.ReadResults(filepath.Dir(path))
	if err != nil {
		return 0, false
	}
	m, ok := r[strings.TrimSuffix(filepath.Base(path), ".safetensors")]
	if !ok {
		return 0, false
	}
	return m.TestAcc, true
}
