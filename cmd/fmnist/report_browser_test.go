package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fmnist/fmnist/report"
)

// The report of a small real run, in headless Chromium: the banner that
// says it is a short run sits above the results, every plot decodes, the
// confusion matrix and the per-class table stand side by side on a wide
// window and one above the other on a narrow one. The screenshot of the
// page's top goes to $FMNIST_ARTIFACTS (or the test's temp folder).
func TestReportInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three small models and starts a browser; skipped with -short")
	}
	exe := chromium(t)
	needRealData(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(cfg, []byte(tinyYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	if b, err := cliCommand(t, nil, "run", "--config", cfg, "--data", realData, "--out", out).CombinedOutput(); err != nil {
		t.Fatalf("fmnist run: %v\n%s", err, b)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900),
		chromedp.Flag("proxy-server", "direct://"), chromedp.Flag("proxy-bypass-list", "*"),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("hide-scrollbars", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelB()
	page := "file://" + filepath.Join(out, report.HTMLFile)
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("short-run"))); err != nil {
		t.Fatal(err)
	}

	// The banner and the run's size, above the results.
	type box struct{ Top, Left, Right, Bottom float64 }
	rect := func(sel string) box {
		t.Helper()
		b, err := chromedp.Run(ctx, chromedp.Evaluate[box](`(() => { const r = document.querySelector(`+"`"+sel+"`"+`).getBoundingClientRect();
			return {Top: r.top + scrollY, Left: r.left, Right: r.right, Bottom: r.bottom + scrollY}; })()`))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return b
	}
	banner, results := rect("#short-run"), rect("#results")
	if banner.Bottom > results.Top || banner.Bottom-banner.Top < 20 {
		t.Errorf("banner at %+v, the results heading at %+v: want a visible banner above", banner, results)
	}
	for sel, want := range map[string][]string{
		"#short-run":   {"Not a full result", "1,500 training images (subset)", "mlp 2 of 40"},
		"#run-summary": {"first 1,500 training images", "1,000 held out for validation", "epochs: mlp 2, cnn 2, cnn_mlp 2"},
	} {
		got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s says %q, want %q in it", sel, got, w)
			}
		}
	}

	// Every plot decoded, at its size.
	imgs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.images).map(im =>
		im.alt + "=" + (im.complete ? im.naturalWidth + "x" + im.naturalHeight : "pending"))`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range imgs {
		k, v, _ := strings.Cut(s, "=")
		got[k] = v
	}
	for _, m := range []string{"mlp", "cnn", "cnn_mlp"} {
		for alt, want := range map[string]string{m + ": loss and accuracy per epoch": "1056x408",
			m + ": confusion matrix": "720x672", m + ": most confident mistakes": "840x"} {
			if !strings.HasPrefix(got[alt], want) {
				t.Errorf("image %q decoded as %q, want %s...", alt, got[alt], want)
			}
		}
	}

	// Side by side at 1280 pixels: the table right of the matrix, tops
	// aligned; at 800 the table below it.
	pair := func(m string) (box, box) {
		return rect("#model-" + m + ` img[alt$="confusion matrix"]`), rect("#model-" + m + " table.per-class")
	}
	for _, m := range []string{"mlp", "cnn", "cnn_mlp"} {
		img, table := pair(m)
		if table.Left < img.Right || math.Abs(table.Top-img.Top) > 10 || img.Right-img.Left < 400 {
			t.Errorf("%s at 1280 px: matrix %+v, table %+v: want them side by side, the matrix at least 400 px wide", m, img, table)
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(800, 900)); err != nil {
		t.Fatal(err)
	}
	if img, table := pair("cnn"); table.Top < img.Bottom {
		t.Errorf("at 800 px: matrix %+v, table %+v: want the table below the matrix", img, table)
	}
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); err != nil || w > 800 {
		t.Errorf("at 800 px the page is %v px wide (%v): it scrolls sideways", w, err)
	}

	art := os.Getenv("FMNIST_ARTIFACTS")
	if art == "" {
		art = t.TempDir()
	}
	if err := os.MkdirAll(art, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(art, "report-page.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))
}
