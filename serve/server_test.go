package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fmnist/fmnist/classifier"
	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/imageprep"
	"github.com/fmnist/fmnist/serve"
)

func load(t testing.TB, kind string) *classifier.Classifier {
	t.Helper()
	c, err := classifier.LoadOptions(filepath.Join("..", "model", "testdata", "torch_"+kind+".safetensors"),
		classifier.Options{Replicas: 2, MaxBatch: 32})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// start serves models on a loopback port until the test ends, and returns
// the base URL and a function that shuts the server down and returns
// Serve's error.
func start(t testing.TB, cfg serve.Config, models ...serve.Model) (string, func() error) {
	t.Helper()
	s, err := serve.New(models, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve.Serve(ctx, ln, s, nil, nil) }()
	var once sync.Once
	var serr error
	stop := func() error {
		once.Do(func() {
			cancel()
			serr = <-done
		})
		return serr
	}
	t.Cleanup(func() { stop() })
	return "http://" + ln.Addr().String(), stop
}

// testImages returns n test items as PNG files' bytes and their pixels:
// real ones when the dataset is installed (it must be in CI), else seeded
// noise.
func testImages(t testing.TB, n int) ([][]byte, [][]uint8) {
	t.Helper()
	var pix [][]uint8
	if _, err := os.Stat(filepath.Join(dataset.DebianDir, dataset.TestImages+".gz")); err == nil {
		f, err := loadData()
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			pix = append(pix, slices.Clone(f.Test.Image(i)))
		}
	} else {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dataset not installed (CI=true): %v", err)
		}
		t.Log("dataset not installed, using noise:", err)
		r := rand.New(rand.NewPCG(1, 2))
		for range n {
			p := make([]uint8, classifier.Pixels)
			for j := range p {
				p[j] = uint8(r.IntN(256))
			}
			pix = append(pix, p)
		}
	}
	var pngs [][]byte
	for _, p := range pix {
		g := image.NewGray(image.Rect(0, 0, 28, 28))
		copy(g.Pix, p)
		var b bytes.Buffer
		if err := png.Encode(&b, g); err != nil {
			t.Fatal(err)
		}
		pngs = append(pngs, b.Bytes())
	}
	return pngs, pix
}

// loadData reads the dataset once for all the tests.
var loadData = sync.OnceValues(func() (*dataset.Fashion, error) {
	return dataset.Load(dataset.Options{Dir: dataset.DebianDir})
})

func post(t testing.TB, url string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestPredictHTTP: one request at a time, the answer is the classifier's
// own for the picture, bit for bit, for each kind of model.
func TestPredictHTTP(t *testing.T) {
	pngs, pix := testImages(t, 8)
	var models []serve.Model
	for _, k := range []string{"mlp", "cnn", "cnn_mlp"} {
		models = append(models, serve.Model{Name: k, Classifier: load(t, k)})
	}
	base, _ := start(t, serve.Config{}, models...)
	for _, m := range models {
		for i, b := range pngs {
			code, body := post(t, base+"/predict?model="+m.Name+"&top=4&logits=1&pixels=1&file=x.png", b)
			if code != 200 {
				t.Fatalf("%s: %d %s", m.Name, code, body)
			}
			var got serve.Response
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			want, err := m.Classifier.ClassifyPixels(pix[i])
			if err != nil {
				t.Fatal(err)
			}
			if got.Model != m.Name || got.Kind != m.Name || len(got.Images) != 1 {
				t.Fatalf("%s: %+v", m.Name, got)
			}
			im := got.Images[0]
			if !slices.Equal(im.Top, want[0].Top(4)) || !slices.Equal(im.Probs, want[0].Probs) ||
				!slices.Equal(im.Logits, want[0].Logits) || im.File != "x.png" || im.Inverted {
				t.Errorf("%s image %d: got %+v, want top %+v", m.Name, i, im, want[0].Top(4))
			}
			if len(im.Pixels) != classifier.Pixels {
				t.Fatalf("%d pixels", len(im.Pixels))
			}
			for j, v := range im.Pixels {
				if v != int(pix[i][j]) {
					t.Fatalf("%s image %d: pixel %d is %d, want %d", m.Name, i, j, v, pix[i][j])
				}
			}
		}
	}
}

// TestConcurrentBatches: concurrent requests are grouped into batches (the
// batch-size histogram says so) and each gets its own image's answer.
func TestConcurrentBatches(t *testing.T) {
	pngs, pix := testImages(t, 16)
	c := load(t, "cnn")
	base, _ := start(t, serve.Config{BatchWindow: 20 * time.Millisecond}, serve.Model{Name: "cnn", Classifier: c})
	var wg sync.WaitGroup
	for i := range pngs {
		wg.Go(func() {
			for range 3 {
				code, body := post(t, base+"/predict?top=10", pngs[i])
				var got serve.Response
				if err := json.Unmarshal(body, &got); code != 200 || err != nil {
					t.Errorf("image %d: %d %s", i, code, body)
					return
				}
				want, _ := c.ClassifyPixels(pix[i])
				for j, p := range got.Images[0].Probs {
					// A batch's rows may differ from a lone image's in the
					// last bits: the GEMM's blocking depends on the batch.
					if d := p - want[0].Probs[j]; d > 1e-6 || d < -1e-6 {
						t.Errorf("image %d class %d: %v, want %v", i, j, p, want[0].Probs[j])
					}
				}
			}
		})
	}
	wg.Wait()
	_, m := get(t, base+"/metrics")
	// 48 images in batches: fewer batches than images.
	var n, images float64
	for _, l := range strings.Split(string(m), "\n") {
		scan(l, "fmnist_predict_batch_size_count ", &n)
		scan(l, "fmnist_predict_batch_size_sum ", &images)
	}
	if images != 48 || !(n < 48) {
		t.Errorf("%v images in %v batches", images, n)
	}
	t.Logf("%v images in %v batches", images, n)
}

func scan(line, prefix string, v *float64) {
	if s, ok := strings.CutPrefix(line, prefix); ok {
		json.Unmarshal([]byte(s), v)
	}
}

func get(t testing.TB, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func bigPNG(t testing.TB, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(3, 4))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256)) // noise does not compress
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestErrors(t *testing.T) {
	pngs, _ := testImages(t, 1)
	big := bigPNG(t, 300, 300)
	wide := image.NewGray(image.Rect(0, 0, 3000, 1))
	var wideB bytes.Buffer
	png.Encode(&wideB, wide)
	base, _ := start(t, serve.Config{MaxBody: 100_000, MaxPixels: 2000},
		serve.Model{Name: "mlp", Classifier: load(t, "mlp")}, serve.Model{Name: "cnn", Classifier: load(t, "cnn")})
	for _, tc := range []struct {
		name, method, path string
		body               []byte
		code               int
		msg                string
	}{
		{"get predict", "GET", "/predict?model=mlp", nil, 405, "method GET not allowed, use POST"},
		{"put predict", "PUT", "/predict?model=mlp", pngs[0], 405, "use POST"},
		{"post models", "POST", "/models", nil, 405, "use GET, HEAD"},
		{"unknown model", "POST", "/predict?model=vgg", pngs[0], 404, `unknown model "vgg"`},
		{"no model", "POST", "/predict", pngs[0], 400, "which model?"},
		{"not an image", "POST", "/predict?model=mlp", []byte("hello, world\n"), 415, "not a PNG, JPEG or GIF image"},
		{"truncated", "POST", "/predict?model=mlp", pngs[0][:len(pngs[0])/2], 400, "imageprep: "},
		{"empty", "POST", "/predict?model=mlp", nil, 400, "empty body"},
		{"body too large", "POST", "/predict?model=mlp", big, 413, "body over the limit of 100000 bytes"},
		{"too many pixels", "POST", "/predict?model=mlp", wideB.Bytes(), 413, "image too large: 3000×1"},
		{"bad top", "POST", "/predict?model=mlp&top=0", pngs[0], 400, `top "0"`},
		{"bad invert", "POST", "/predict?model=mlp&invert=maybe", pngs[0], 400, `invert "maybe"`},
		{"no page", "GET", "/favicon.ico", nil, 404, "no such page: /favicon.ico"},
	} {
		req, err := http.NewRequest(tc.method, base+tc.path, bytes.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e serve.ErrorBody
		if err := json.Unmarshal(b, &e); err != nil || resp.StatusCode != tc.code || e.Status != tc.code ||
			!strings.Contains(e.Error, tc.msg) || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q (%v), want %d and %q", tc.name, resp.StatusCode, b, err, tc.code, tc.msg)
		}
		if tc.code == 405 && resp.Header.Get("Allow") == "" {
			t.Errorf("%s: no Allow header", tc.name)
		}
	}
	_, m := get(t, base+"/metrics")
	for _, want := range []string{
		`fmnist_http_requests_total{handler="/predict",code="400"} 5`,
		`fmnist_http_requests_total{handler="/predict",code="413"} 2`,
		`fmnist_http_errors_total{handler="/predict"} 11`,
		`fmnist_http_errors_total{handler="other"} 1`,
		`fmnist_http_request_duration_seconds_count{handler="/predict"} 11`,
		`fmnist_http_request_duration_seconds_bucket{handler="/predict",le="+Inf"} 11`,
		"# TYPE fmnist_http_request_duration_seconds histogram",
	} {
		if !strings.Contains(string(m), want) {
			t.Errorf("/metrics has no %q:\n%s", want, m)
		}
	}
}

func TestInfoPages(t *testing.T) {
	acc := 0.875
	base, _ := start(t, serve.Config{}, serve.Model{Name: "a", Classifier: load(t, "cnn_mlp"), TestAcc: &acc},
		serve.Model{Name: "b", Classifier: load(t, "mlp")})
	_, b := get(t, base+"/models")
	var ms struct{ Models []serve.ModelInfo }
	if err := json.Unmarshal(b, &ms); err != nil {
		t.Fatal(err)
	}
	if len(ms.Models) != 2 || ms.Models[0].Name != "a" || ms.Models[0].Kind != "cnn_mlp" || *ms.Models[0].TestAcc != 0.875 ||
		ms.Models[1].TestAcc != nil || ms.Models[1].Params != 12746 || len(ms.Models[1].Classes) != 10 {
		t.Errorf("/models: %s", b)
	}
	resp, b := get(t, base+"/healthz")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"status": "ok"`) {
		t.Errorf("/healthz: %d %s", resp.StatusCode, b)
	}
	resp, b = get(t, base+"/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(b), `<canvas id="pad"`) || strings.Contains(string(b), "http://") || strings.Contains(string(b), "https://") {
		t.Errorf("/: %d, %d bytes, or the page loads something from elsewhere", resp.StatusCode, len(b))
	}
	resp, _ = get(t, base+"/metrics")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Errorf("/metrics content type %q", resp.Header.Get("Content-Type"))
	}
}

// slowUpload starts a predict request whose body is written only when the
// returned function is called; the server takes a slot before reading it.
func slowUpload(t *testing.T, url string, body []byte) (finish func() (int, []byte)) {
	pr, pw := io.Pipe()
	type res struct {
		code int
		body []byte
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		resp, err := http.Post(url, "image/png", pr)
		if err != nil {
			ch <- res{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		ch <- res{resp.StatusCode, b, err}
	}()
	pw.Write(body[:10]) // the request is sent and the handler is reading
	return func() (int, []byte) {
		pw.Write(body[10:])
		pw.Close()
		r := <-ch
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.code, r.body
	}
}

// TestBusyAndShutdown: with every slot taken a request gets 503; a
// shutdown waits for the request in flight, which is answered.
func TestBusyAndShutdown(t *testing.T) {
	pngs, _ := testImages(t, 1)
	base, stop := start(t, serve.Config{MaxInFlight: 1, QueueWait: 50 * time.Millisecond},
		serve.Model{Name: "mlp", Classifier: load(t, "mlp")})
	finish := slowUpload(t, base+"/predict", pngs[0])
	time.Sleep(100 * time.Millisecond)
	code, b := post(t, base+"/predict", pngs[0])
	if code != 503 || !strings.Contains(string(b), "server busy") {
		t.Errorf("busy: %d %s", code, b)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-stopped:
		t.Fatalf("Serve returned (%v) with a request in flight", err)
	default:
	}
	if code, b := finish(); code != 200 {
		t.Errorf("in-flight request: %d %s", code, b)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

func TestNewErrors(t *testing.T) {
	c := load(t, "mlp")
	for _, tc := range []struct {
		models []serve.Model
		want   string
	}{
		{nil, "serve: no models"},
		{[]serve.Model{{Name: "", Classifier: c}}, "want a name"},
		{[]serve.Model{{Name: "a"}}, "want a name and a classifier"},
		{[]serve.Model{{Name: "a", Classifier: c}, {Name: "a", Classifier: c}}, `two models named "a"`},
	} {
		if _, err := serve.New(tc.models, serve.Config{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.models, err, tc.want)
		}
	}
}

// TestDrawnPicture: a dark shape on white, as the page's pad sends it, is
// inverted and framed like imageprep does for predict.
func TestDrawnPicture(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 280, 280))
	for y := range 280 {
		for x := range 280 {
			c := color.RGBA{255, 255, 255, 255}
			if x > 100 && x < 180 && y > 40 && y < 240 {
				c = color.RGBA{0, 0, 0, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	c := load(t, "cnn")
	base, _ := start(t, serve.Config{}, serve.Model{Name: "cnn", Classifier: c})
	code, body := post(t, base+"/predict?pixels=1", b.Bytes())
	var got serve.Response
	if err := json.Unmarshal(body, &got); code != 200 || err != nil {
		t.Fatalf("%d %s", code, body)
	}
	want, err := c.ClassifyImage(img, imageprep.Options{})
	if err != nil {
		t.Fatal(err)
	}
	im := got.Images[0]
	if !im.Inverted || !slices.Equal(im.Probs, want.Probs) || im.Pixels[14*28+14] != int(want.Prepared.Pixels[14*28+14]) || im.Pixels[14*28+14] != 255 {
		t.Errorf("got %+v, want %+v", im, want)
	}
}
