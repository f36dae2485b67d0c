package main

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"
)

// Every command that reads the data takes the same --data, --mirror and
// --no-verify, and they reach dataset.Options; a mirror that is no http(s)
// URL, from the flag or from $FMNIST_MIRROR, is a usage error.
func TestDataFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
		want string // the error; "" when the flags are fine
	}{
		{"none", nil, "", ""},
		{"all", []string{"--data", "d", "--mirror", "https://example.com/fm/", "--no-verify"}, "", ""},
		{"env", nil, "http://127.0.0.1:8000/", ""},
		{"mirror not a URL", []string{"--mirror", "example.com"}, "", `usage: dataset: mirror "example.com": want an http:// or https:// URL`},
		{"env ftp", nil, "ftp://example.com/", `usage: dataset: $FMNIST_MIRROR "ftp://example.com/": want an http:// or https:// URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("FMNIST_MIRROR", tc.env)
			var d dataFlags
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			d.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			opt, err := d.options(io.Discard)
			if tc.want != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
					t.Fatalf("err %v, want %s", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opt.Dir != d.dir || opt.BaseURL != d.mirror || opt.NoVerify != d.noVerify {
				t.Errorf("options %+v from flags %+v", opt, d)
			}
		})
	}
	// The commands that read the data all have the three flags; those that
	// need nothing else first refuse the bad mirror with exit 2.
	t.Setenv("FMNIST_MIRROR", "")
	for _, tc := range []struct {
		args   []string
		refuse bool
	}{
		{[]string{"run", "--out", t.TempDir()}, true},
		{[]string{"train", "mlp", "--out", t.TempDir()}, true},
		{[]string{"data"}, true},
		{[]string{"data", "export", t.TempDir()}, true},
		{[]string{"eval", "missing.safetensors"}, false},
		{[]string{"report", "--no-verify", t.TempDir()}, false},
	} {
		var stderr bytes.Buffer
		args := append(tc.args, "--mirror", "nope", "--data", "nowhere", "--no-verify")
		code := run(args, &stderr)
		if strings.Contains(stderr.String(), "not defined") {
			t.Errorf("%v: %s", tc.args, stderr.String())
		}
		if tc.refuse && (code != 2 || !strings.Contains(stderr.String(), `mirror "nope": want an http:// or https:// URL`)) {
			t.Errorf("%v: exit %d, %s", tc.args, code, stderr.String())
		}
	}
}
