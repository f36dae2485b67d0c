package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/fmnist/fmnist/serve"
)

// chromium finds Debian's headless-capable Chromium. Without it the test
// skips, loudly, and in CI (CI=true) it fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not installed (CI=true): .ci/run installs chromium and chromium-driver")
	}
	t.Skip("SKIPPED: no chromium on PATH, the page is not tested in a browser (apt-get install chromium chromium-driver)")
	return ""
}

// checkPage opens the page in headless Chromium, draws on the pad, then
// uploads an exported test image and reads the predicted class from the
// page, which must be the API's. The screenshot goes to $FMNIST_ARTIFACTS
// (or the test's temp folder).
func checkPage(t *testing.T, base, run string, files []string) {
	exe := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1060, 820),
		// Loopback only: no proxy, no updates, no lookups of its own.
		chromedp.Flag("proxy-server", "direct://"), chromedp.Flag("proxy-bypass-list", "*"),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelB()
	// The first action starts the browser, which lives as long as its
	// context: no timeout on it, and one on the rest.
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()

	// The API's answer for the image the page will upload.
	file := files[0]
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/predict?model=cnn", "image/png", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var want serve.Response
	err = json.NewDecoder(resp.Body).Decode(&want)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Do(ctx,
		chromedp.WaitReady(chromedp.CSS(`body[data-models]`)),
		chromedp.SetValue(chromedp.ID("model"), "cnn"),
	); err != nil {
		t.Fatal(err)
	}
	models, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.models`))
	if err != nil || models != "3" {
		t.Fatalf("the page lists %q models (%v), want 3", models, err)
	}
	type rect struct{ X, Y, W, H float64 }
	pad, err := chromedp.Run(ctx, chromedp.Evaluate[rect](`(() => { const r = document.getElementById("pad").getBoundingClientRect();
		return {X: r.left, Y: r.top, W: r.width, H: r.height}; })()`))
	if err != nil {
		t.Fatal(err)
	}

	// Draw a trouser-like shape: two long legs from one waist.
	var draw []chromedp.Action[chromedp.Void]
	for _, x := range []float64{0.38, 0.62} {
		draw = append(draw, chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, pad.X+pad.W*0.5, pad.Y+pad.H*0.15, chromedp.ButtonLeft))
		for i := 0; i <= 10; i++ {
			f := float64(i) / 10
			draw = append(draw, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, pad.X+pad.W*(0.5+(x-0.5)*f), pad.Y+pad.H*(0.15+0.7*f), chromedp.ButtonLeft))
		}
		draw = append(draw, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, pad.X+pad.W*x, pad.Y+pad.H*0.85, chromedp.ButtonLeft))
	}
	draw = append(draw, chromedp.WaitReady(chromedp.CSS(`body[data-state="done"]`)))
	if err := chromedp.Do(ctx, draw...); err != nil {
		t.Fatal(err)
	}
	drawnTop, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("top-class")))
	if err != nil {
		t.Fatal(err)
	}
	seenLit, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Array.from(document.getElementById("seen").getContext("2d").getImageData(0, 0, 28, 28).data)
		.filter((v, i) => i % 4 == 0 && v > 128).length`))
	if err != nil {
		t.Fatal(err)
	}
	if !isClassName(drawnTop) || seenLit < 20 || seenLit > 600 {
		t.Errorf("drawing: top class %q, %d light pixels in the 28×28 image shown", drawnTop, seenLit)
	}
	t.Logf("the drawing is a %q to the cnn; %d light pixels in what it saw", drawnTop, seenLit)

	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.state = "idle"; undefined`),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{abs}),
		chromedp.WaitReady(chromedp.CSS(`body[data-state="done"]`)),
		chromedp.Sleep(300*time.Millisecond), // let the preview image paint
	); err != nil {
		t.Fatal(err)
	}
	var top, prob, shown string
	for _, q := range []struct {
		id  string
		dst *string
	}{{"top-class", &top}, {"top-prob", &prob}, {"preview-note", &shown}} {
		if *q.dst, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID(q.id))); err != nil {
			t.Fatal(err)
		}
	}
	w := want.Images[0].Top[0]
	if top != w.Name || prob != fmt.Sprintf("%.1f%%", 100*w.Prob) || shown != filepath.Base(file) {
		t.Errorf("the page shows %q %q for %s, the API says %q %.4f", top, prob, shown, w.Name, w.Prob)
	}
	t.Logf("the page says %s %s for %s", top, prob, filepath.Base(file))
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}

	dir := os.Getenv("FMNIST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "serve-page.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))
}

func isClassName(s string) bool {
	for _, n := range []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"} {
		if s == n {
			return true
		}
	}
	return false
}
