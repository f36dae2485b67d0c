package dataset

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// maxDownload caps what one file's download may write to disk.
const maxDownload = 1 << 30

const defaultTimeout = 10 * time.Minute

// fetch downloads name.gz from the mirror into dir and decodes it. The bytes
// go to a temp file in dir; only once the file is verified and synced is it
// renamed into place, so an interrupted or bad download leaves nothing
// behind.
func fetch(ctx context.Context, opt Options, dir, name string, images bool, sum FileSum) (data []uint8, n int, err error) {
	base := opt.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.JoinPath(base, name+".gz")
	if err != nil {
		return nil, 0, fmt.Errorf("dataset: base URL %q: %w", base, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, fmt.Errorf("dataset: %w: %w", errNoCache, err)
	}
	tmp, err := os.CreateTemp(dir, name+".gz.*.part")
	if err != nil {
		return nil, 0, fmt.Errorf("dataset: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	md := md5.New()
	if err := get(ctx, u, io.MultiWriter(tmp, md), opt.Log, name+".gz"); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %v: %w", timeout, err)
		}
		// The files are still missing, so the error is also ErrNotFound.
		return nil, 0, fmt.Errorf("dataset: %w %s: %w (%w); %s", ErrDownload, u, err, ErrNotFound, howToGet)
	}
	// A download is checked whatever the mirror and whatever NoVerify
	// says: NoVerify is for files of one's own on disk, not for bytes
	// from the network.
	const verify = true
	if got := hex.EncodeToString(md.Sum(nil)); got != strings.ToLower(sum.GzipMD5) {
		return nil, 0, fmt.Errorf("dataset: %s: %w: gzip MD5 %s, want %s", u, ErrChecksum, got, sum.GzipMD5)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, 0, fmt.Errorf("dataset: %w", err)
	}
	if data, n, err = decodeVerify(tmp, u, images, sum, verify); err != nil {
		return nil, 0, err
	}
	if err = tmp.Sync(); err != nil {
		return nil, 0, fmt.Errorf("dataset: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return nil, 0, fmt.Errorf("dataset: %w", err)
	}
	if err = os.Rename(tmp.Name(), filepath.Join(dir, name+".gz")); err != nil {
		return nil, 0, fmt.Errorf("dataset: %w", err)
	}
	syncDir(dir)
	return data, n, nil
}

// syncDir makes a rename durable; failure only weakens that, so it is
// ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// get copies the body of a GET of u to w, drawing progress on log.
func get(ctx context.Context, u string, w io.Writer, log io.Writer, label string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	if resp.ContentLength > maxDownload {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, resp.ContentLength, maxDownload)
	}
	p := newProgress(log, label, resp.ContentLength)
	m, err := io.Copy(io.MultiWriter(w, p), io.LimitReader(resp.Body, maxDownload+1))
	p.done(err == nil && m <= maxDownload)
	switch {
	case err != nil:
		return err
	case m > maxDownload:
		return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxDownload)
	case resp.ContentLength >= 0 && m != resp.ContentLength:
		return fmt.Errorf("%w: %d of %d bytes", ErrTruncated, m, resp.ContentLength)
	}
	return nil
}

// progress draws a one-line bar on a terminal, and otherwise writes one
// line when the download starts and one when it ends.
type progress struct {
	w     io.Writer
	tty   bool
	label string
	total int64
	n     int64
	last  time.Time
}

func newProgress(w io.Writer, label string, total int64) *progress {
	p := &progress{w: w, tty: isTerminal(w), label: label, total: total}
	if w != nil && !p.tty {
		fmt.Fprintf(w, "dataset: downloading %s (%s)\n", label, mb(total))
	}
	return p
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if p.tty && time.Since(p.last) > 100*time.Millisecond {
		p.last = time.Now()
		p.draw()
	}
	return len(b), nil
}

func (p *progress) draw() {
	const width = 30
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\r%s %s", p.label, mb(p.n))
		return
	}
	fill := int(min(p.n, p.total) * width / p.total)
	fmt.Fprintf(p.w, "\r%-28s %3d%% [%s%s] %s / %s", p.label, p.n*100/p.total,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), mb(p.n), mb(p.total))
}

func (p *progress) done(ok bool) {
	switch {
	case p.w == nil:
	case p.tty:
		p.draw()
		fmt.Fprintln(p.w)
	case ok:
		fmt.Fprintf(p.w, "dataset: downloaded %s (%d bytes)\n", p.label, p.n)
	}
}

func mb(n int64) string {
	if n < 0 {
		return "size unknown"
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// isTerminal reports whether w is a character device, without x/term.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
