package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// splitArgs reads flags as the flag package does, wherever they stand.
func TestSplitArgs(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Bool("json", false, "")
	fs.String("out", "", "")
	fs.Int("n", 0, "")
	fs.Duration("every", time.Second, "")
	for _, tc := range []struct {
		args       []string
		flags, pos []string
		dangling   bool
	}{
		{nil, nil, nil, false},
		{[]string{"a", "b"}, nil, []string{"a", "b"}, false},
		{[]string{"a", "--json", "b"}, []string{"--json"}, []string{"a", "b"}, false},
		{[]string{"--json=false", "a"}, []string{"--json=false"}, []string{"a"}, false},
		{[]string{"a", "--out", "dir", "b"}, []string{"--out", "dir"}, []string{"a", "b"}, false},
		{[]string{"a", "-out=dir", "b"}, []string{"-out=dir"}, []string{"a", "b"}, false},
		// A flag's value may start with a dash, as with the flag package.
		{[]string{"--out", "-x", "a"}, []string{"--out", "-x"}, []string{"a"}, false},
		{[]string{"--n", "-3"}, []string{"--n", "-3"}, nil, false},
		// -- ends the flags.
		{[]string{"a", "--", "--json", "-n"}, nil, []string{"a", "--json", "-n"}, false},
		{[]string{"--json", "--", "--"}, []string{"--json"}, []string{"--"}, false},
		{[]string{"-", "a"}, nil, []string{"-", "a"}, false},
		// Unknown flags stay flags, for Parse to refuse.
		{[]string{"a", "--colour", "red"}, []string{"--colour"}, []string{"a", "red"}, false},
		// A value flag at the end has no value: Parse says so.
		{[]string{"a", "--out"}, []string{"--out"}, []string{"a"}, true},
	} {
		flags, pos, dangling := splitArgs(fs, tc.args)
		if !reflect.DeepEqual(flags, tc.flags) || !reflect.DeepEqual(pos, tc.pos) || dangling != tc.dangling {
			t.Errorf("splitArgs(%q) = %q, %q, %v; want %q, %q, %v", tc.args, flags, pos, dangling, tc.flags, tc.pos, tc.dangling)
		}
	}
}

// parseFlags gives the same values and arguments whatever the order.
func TestParseFlagsAnywhere(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		json    bool
		out     string
		pos     []string
		wantErr string
	}{
		{[]string{"m", "i1", "i2", "--json", "--out", "o"}, true, "o", []string{"m", "i1", "i2"}, ""},
		{[]string{"--json", "m", "--out=o", "i1", "i2"}, true, "o", []string{"m", "i1", "i2"}, ""},
		{[]string{"--out", "o", "m", "--", "--json"}, false, "o", []string{"m", "--json"}, ""},
		{[]string{"m", "--colour"}, false, "", nil, "flag provided but not defined: -colour"},
		{[]string{"m", "--out"}, false, "", nil, "flag needs an argument: -out"},
		{[]string{"m", "--json=maybe"}, false, "", nil, `invalid boolean value "maybe"`},
	} {
		fs := newFlags("t", "t [flags] ARGS", "test")
		asJSON := fs.Bool("json", false, "")
		out := fs.String("out", "", "")
		err := parseFlags(fs, tc.args)
		if tc.wantErr != "" {
			if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want a usage error with %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || *asJSON != tc.json || *out != tc.out || !reflect.DeepEqual(fs.Args(), tc.pos) {
			t.Errorf("%q: json %v out %q args %q err %v; want %v %q %q", tc.args, *asJSON, *out, fs.Args(), err,
				tc.json, tc.out, tc.pos)
		}
	}
}

// Every command reads its flags before and after its arguments: each row
// gives one command line twice, the flags placed differently, and both
// must end the same way, with an error that only the flags cause (so a
// flag taken for an argument, or an argument for a flag's value, shows).
func TestFlagPositions(t *testing.T) {
	f := newCLIFixtures(t)
	img := filepath.Join(t.TempDir(), "shoe.png")
	writePNG(t, img, shoe())
	exportDir := filepath.Join(t.TempDir(), "export")
	out := filepath.Join(t.TempDir(), "out")
	for _, tc := range []struct {
		name          string
		before, after []string
		code          int
		want          string
	}{
		{"run", []string{"run", "--epochs", "-1", "--out", out}, []string{"run", "--out", out, "--epochs", "-1"}, 2, "--epochs -1"},
		{"train", []string{"train", "--epochs", "1", "--subset", "-1", "mlp"}, []string{"train", "mlp", "--epochs", "1", "--subset", "-1"}, 2, "--subset -1"},
		{"train split", []string{"train", "--epochs", "1", "mlp", "--subset", "-1"}, []string{"train", "mlp", "--subset=-1", "--epochs=1"}, 2, "--subset -1"},
		{"train bool", []string{"train", "--no-verify", "rnn"}, []string{"train", "rnn", "--no-verify"}, 2, `unknown model "rnn"`},
		{"eval", []string{"eval", "--tta", "rotate", f.model}, []string{"eval", f.model, "--tta", "rotate"}, 2, `--tta "rotate": want flip`},
		{"data", []string{"data", "--val", "-1", "--json"}, []string{"data", "--json", "--val", "-1"}, 2, "--val -1"},
		{"data export", []string{"data", "export", "--n", "-3", exportDir}, []string{"data", "export", exportDir, "--n", "-3"}, 2, "--n -3"},
		{"predict", []string{"predict", "--json", "--top", "0", f.model, img}, []string{"predict", f.model, img, "--json", "--top", "0"}, 2, "--top 0"},
		{"predict split", []string{"predict", "--logits", f.model, img}, []string{"predict", f.model, "--logits", img}, 2, "--logits needs --json"},
		{"report", []string{"report", "--mistakes", "0", f.reportDir}, []string{"report", f.reportDir, "--mistakes", "0"}, 2, "--mistakes 0"},
		{"bench", []string{"bench", "--only", "lstm", "--mlp-steps", "0"}, []string{"bench", "--mlp-steps", "0", "--only", "lstm"}, 2, "must be positive"},
		{"version", []string{"version", "--bogus"}, []string{"version", "--bogus"}, 2, "flag provided but not defined: -bogus"},

		// After --, a dash is an argument's.
		{"run --", []string{"run", "--", "--epochs"}, []string{"run", "--", "--epochs"}, 2, `unexpected argument "--epochs"`},
		{"train --", []string{"train", "--", "--cnn"}, []string{"train", "--", "--cnn"}, 2, `unknown model "--cnn"`},
		{"eval --", []string{"eval", "--no-verify", "--", "--tta", "flip"}, []string{"eval", "--", "--tta", "flip"}, 2, "got 2 arguments"},
		{"eval -- flag", []string{"eval", "--", "--tta", "flip", "--no-verify"}, []string{"eval", "--", "--tta", "flip", "--no-verify"}, 2, "got 3 arguments"},
		{"run dangling", []string{"run", "--epochs"}, []string{"run", "--out", out, "--epochs"}, 2, "flag needs an argument: -epochs"},
		{"eval -- file", []string{"eval", "--", "-m.safetensors"}, []string{"eval", "--", "-m.safetensors"}, 1, "-m.safetensors: no such file"},
		{"report --", []string{"report", "--no-images", "--", "-dir"}, []string{"report", "--no-images", "--", "-dir"}, 1, "stat -dir"},
		{"data export --", []string{"data", "export", "--n", "-1", "--", "-d"}, []string{"data", "export", "--", "-d", "--n"}, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]string
			for i, args := range [][]string{tc.before, tc.after} {
				var stderr bytes.Buffer
				code := run(args, &stderr)
				got[i] = stderr.String()
				if code != tc.code || !strings.Contains(got[i], tc.want) {
					t.Errorf("%q: exit %d, stderr %q; want %d and %q", args, code, got[i], tc.code, tc.want)
				}
			}
			if tc.want != "" && got[0] != got[1] {
				t.Errorf("the two orders differ:\n%s%s", got[0], got[1])
			}
		})
	}
	if _, err := os.Stat(exportDir); err == nil {
		t.Errorf("a refused export wrote %s", exportDir)
	}
}

// withHelpOut runs fn with the asked-for help going to a buffer.
func withHelpOut(t *testing.T, fn func()) string {
	t.Helper()
	var b bytes.Buffer
	old := helpOut
	helpOut = &b
	defer func() { helpOut = old }()
	fn()
	return b.String()
}

// Every command, the ones added later included, prints its help on
// stdout with exit 0 when asked, wherever --help stands, with its flags
// spelt with two dashes and each default said once.
func TestHelpEveryCommand(t *testing.T) {
	names := []string{""}
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, args := range [][]string{{name, "--help"}, {name, "ARG", "-h"}, {name, "--help", "--bogus"}} {
			if name == "" {
				if args[1] == "ARG" {
					continue
				}
				args = args[1:]
			}
			var stderr bytes.Buffer
			var code int
			help := withHelpOut(t, func() { code = run(args, &stderr) })
			if code != 0 || stderr.Len() > 0 {
				t.Errorf("%q: exit %d, stderr %q; want 0 and nothing", args, code, stderr.String())
			}
			if !strings.HasPrefix(help, "Usage: fmnist "+name) && !(name == "" && strings.Contains(help, "Commands:")) {
				t.Errorf("%q: help on stdout is %q", args, help)
			}
			for _, line := range strings.Split(help, "\n") {
				if strings.HasPrefix(line, "  -") && !strings.HasPrefix(line, "  --") {
					t.Errorf("%q: flag with one dash: %q", args, line)
				}
				if strings.Count(line, "(default") > 1 {
					t.Errorf("%q: two defaults: %q", args, line)
				}
			}
		}
	}
}

// The help of run lists the data export subcommand, and every flag of run.
func TestHelpContents(t *testing.T) {
	top := withHelpOut(t, func() { run([]string{"--help"}, &bytes.Buffer{}) })
	for _, want := range []string{"data export", "version", "run"} {
		if !strings.Contains(top, "  "+want+" ") {
			t.Errorf("top-level help lacks %q:\n%s", want, top)
		}
	}
	help := withHelpOut(t, func() { run([]string{"run", "--help"}, &bytes.Buffer{}) })
	for _, want := range []string{"--seed int", "--preset string", `(default "default")`, "--keep int", "(default 2)",
		"--no-verify\n", "(default: the config's, 1)\n"} {
		if !strings.Contains(help, want) {
			t.Errorf("run help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "(default -1)") {
		t.Errorf("run help shows the sentinel default of --seed:\n%s", help)
	}
}

// `fmnist run --help | grep seed` works: the help is on the real stdout.
func TestHelpOnStdout(t *testing.T) {
	cmd := cliCommand(t, nil, "run", "--help")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run --help: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "--seed") || strings.Contains(stderr.String(), "seed") {
		t.Errorf("stdout %q\nstderr %q", stdout.String(), stderr.String())
	}
}
