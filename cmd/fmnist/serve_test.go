package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/runfolder"
	"github.com/fmnist/fmnist/serve"
)

// servedRun trains the three tiny models on real data and serves them on a
// loopback port until the test ends. It returns the base URL, the run
// folder and 20 exported test images. Without the dataset it skips, and
// fails in CI.
func servedRun(t *testing.T) (base, run string, files []string) {
	t.Helper()
	needRealData(t)
	f, err := dataset.Load(dataset.Options{Dir: dataset.DebianDir})
	if err != nil {
		t.Fatal(err)
	}
	f.Test = f.Test.Subset(500)
	run = tinyRun(t, f, 500, 1000)

	imgDir := filepath.Join(t.TempDir(), "images")
	var out, log bytes.Buffer
	if err := dataMain([]string{"export", "--data", dataset.DebianDir, "--split", "test", "--n", "20", imgDir}, &out, &log); err != nil {
		t.Fatal(err)
	}
	if files, err = filepath.Glob(filepath.Join(imgDir, "*.png")); err != nil || len(files) != 20 {
		t.Fatalf("%d files exported (%v)", len(files), err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	var stdout, stderr bytes.Buffer
	args := []string{"--addr", "127.0.0.1:0"}
	for _, k := range []string{"mlp", "cnn", "cnn_mlp"} {
		args = append(args, filepath.Join(run, k+".safetensors"))
	}
	go func() { done <- serveMain(ctx, args, &stdout, &stderr, func(a net.Addr) { addr <- a }) }()
	select {
	case a := <-addr:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, stderr.String())
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return base, run, files
}

// TestServe trains three tiny models, serves them, and checks the answers
// against predict and, in a real browser, the page.
func TestServe(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three models and starts a browser; skipped with -short")
	}
	base, run, files := servedRun(t)
	t.Run("predict", func(t *testing.T) { checkServeAgrees(t, base, run, files) })
	t.Run("browser", func(t *testing.T) { checkPage(t, base, run, files) })
}

// checkServeAgrees: through HTTP, every model gives each exported test
// image the classes and probabilities of `predict --json`, and /models has
// each model's test accuracy from results.json.
func checkServeAgrees(t *testing.T, base, run string, files []string) {
	results, err := runfolder.ReadResults(run)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(base + "/models")
	if err != nil {
		t.Fatal(err)
	}
	var ms struct{ Models []serve.ModelInfo }
	err = json.NewDecoder(resp.Body).Decode(&ms)
	resp.Body.Close()
	if err != nil || len(ms.Models) != 3 {
		t.Fatalf("/models: %+v %v", ms, err)
	}
	for _, m := range ms.Models {
		if m.TestAcc == nil || *m.TestAcc != results[m.Name].TestAcc || m.Kind != m.Name {
			t.Errorf("/models: %+v, results.json %+v", m, results[m.Name])
		}
	}

	for _, kind := range []string{"mlp", "cnn", "cnn_mlp"} {
		var out, log bytes.Buffer
		model := filepath.Join(run, kind+".safetensors")
		if err := predictMain(append([]string{"--json", "--logits", "--top", "10", model}, files...), &out, &log); err != nil {
			t.Fatal(err)
		}
		var want predOutput
		if err := json.Unmarshal(out.Bytes(), &want); err != nil {
			t.Fatal(err)
		}
		for i, file := range files {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Post(base+"/predict?model="+kind+"&top=10&logits=1", "image/png", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var got serve.Response
			if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 {
				t.Fatalf("%s %s: %d %s", kind, file, resp.StatusCode, b)
			}
			g, w := got.Images[0], want.Images[i]
			if got.Kind != want.Kind || g.Inverted != w.Inverted || len(g.Top) != len(w.Top) || len(g.Probs) != 10 {
				t.Fatalf("%s %s: got %+v, predict %+v", kind, file, g, w)
			}
			// predict runs the 20 images as one batch and the server one
			// at a time; the GEMM may round the two differently.
			for j := range g.Top {
				if g.Top[j].Class != w.Top[j].Class && math.Abs(g.Top[j].Prob-w.Top[j].Prob) > 1e-6 ||
					g.Top[j].Name != dataset.ClassNames[g.Top[j].Class] || math.Abs(g.Top[j].Prob-w.Top[j].Prob) > 1e-6 {
					t.Errorf("%s %s: top %d is %+v, predict says %+v", kind, file, j, g.Top[j], w.Top[j])
				}
				if math.Abs(g.Probs[w.Top[j].Class]-w.Top[j].Prob) > 1e-6 {
					t.Errorf("%s %s: class %d prob %v, predict %v", kind, file, w.Top[j].Class, g.Probs[w.Top[j].Class], w.Top[j].Prob)
				}
			}
			for j := range g.Logits {
				if math.Abs(float64(g.Logits[j]-w.Logits[j])) > 1e-5 {
					t.Errorf("%s %s: logit %d %v, predict %v", kind, file, j, g.Logits[j], w.Logits[j])
				}
			}
		}
	}
}

func TestServeUsage(t *testing.T) {
	for _, c := range []struct {
		args  []string
		usage bool
		msg   string
	}{
		{nil, true, "want at least one model file"},
		{[]string{"--max-batch", "0", "m.safetensors"}, true, "--max-batch want 1 or more"},
		{[]string{filepath.Join(t.TempDir(), "none.safetensors")}, false, "no such file or directory"},
		{[]string{"--addr", "256.0.0.1:0", "../../model/testdata/torch_mlp.safetensors"}, false, "serve: listen tcp"},
		{[]string{"a=../../model/testdata/torch_mlp.safetensors", "a=../../model/testdata/torch_cnn.safetensors"}, false, `two models named "a"`},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var out, log bytes.Buffer
		err := serveMain(ctx, c.args, &out, &log, nil)
		cancel()
		if err == nil || errors.Is(err, errUsage) != c.usage || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%v: %v, want usage %v and %q", c.args, err, c.usage, c.msg)
		}
	}
	for _, c := range []struct{ arg, name, path string }{
		{"runs/x/cnn.safetensors", "cnn", "runs/x/cnn.safetensors"},
		{"best=runs/x/cnn.safetensors", "best", "runs/x/cnn.safetensors"},
		{"odd", "odd", "odd"},
	} {
		if n, p := modelName(c.arg); n != c.name || p != c.path {
			t.Errorf("%s: %s %s", c.arg, n, p)
		}
	}
}
