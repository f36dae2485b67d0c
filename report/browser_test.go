package report_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fmnist/fmnist/report"
	"github.com/fmnist/fmnist/report/reporttest"
)

// findBrowser returns a headless-capable Chromium, or "".
func findBrowser() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser loads the page in headless Chromium and checks, from the DOM
// after load, that every embedded image decoded at its natural size.
//
// It skips when no Chromium is installed, but fails in CI (CI=true), where
// .ci/run installs it for the serve page's test: a skip there would pass
// without checking anything.
func TestBrowser(t *testing.T) {
	browser := findBrowser()
	if browser == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium on PATH (CI=true): .ci/run installs chromium")
		}
		t.Skip("no chromium on PATH (apt-get install chromium)")
	}
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	dir, run := newRun(t, reporttest.Spec{Epochs: 3, Images: 200, Seed: 5})
	if _, err := report.Build(dir, opts(run)); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	// The report has no script; this copy gets one that records each
	// image's decoded size where --dump-dom shows it.
	const probe = `<script>window.addEventListener("load", function () {
  var s = [];
  for (var i = 0; i < document.images.length; i++) {
    var im = document.images[i];
    s.push(im.alt + "=" + (im.complete ? im.naturalWidth + "x" + im.naturalHeight : "pending"));
  }
  document.body.setAttribute("data-probe", s.join(";"));
});</script>`
	probed := bytes.Replace(page, []byte("</body>"), []byte(probe+"</body>"), 1)
	path := filepath.Join(dir, "probe.html")
	if err := os.WriteFile(path, probed, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, stderr.String())
	}
	dom := stdout.String()

	if n := strings.Count(dom, `src="data:image/png;base64,`); n != 9 {
		t.Errorf("DOM has %d embedded images, want 9", n)
	}
	m := regexp.MustCompile(`data-probe="([^"]*)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe did not run; DOM starts %.300q", dom)
	}
	sizes := map[string]string{}
	for _, kv := range strings.Split(m[1], ";") {
		k, v, _ := strings.Cut(kv, "=")
		sizes[k] = v
	}
	for _, model := range []string{"mlp", "cnn", "cnn_mlp"} {
		for alt, want := range map[string]string{
			model + ": loss and accuracy per epoch": "1056x384",
			model + ": confusion matrix":            "720x672",
			model + ": most confident mistakes":     "840x",
		} {
			if got := sizes[alt]; !strings.HasPrefix(got, want) {
				t.Errorf("image %q decoded as %q, want %s...", alt, got, want)
			}
		}
	}
	for _, s := range []string{"Results", "cnn_mlp", "macro average", "Per-epoch metrics"} {
		if !strings.Contains(dom, s) {
			t.Errorf("DOM lacks %q", s)
		}
	}
}
