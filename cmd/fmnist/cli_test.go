package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/pipeline"
	"github.com/fmnist/fmnist/report/reporttest"
	"github.com/fmnist/fmnist/runfolder"
)

// cliFixtures are the files the CLI error table points at.
type cliFixtures struct {
	dir        string
	file       string // a regular file
	missing    string // a path that does not exist
	noRead     string // a file without read permission
	noWrite    string // a folder without write permission
	config     string // a valid config
	model      string // a valid mlp model file
	truncated  string // that file cut short
	rnn        string // a model file of an unknown kind
	wrongArch  string // a model file whose weights do not fit its arch
	runDir     string // a `run` folder stopped with a checkpoint
	trainDir   string // a `train mlp` folder stopped with a checkpoint
	doneDir    string // a finished run folder
	reportDir  string // a run folder with report files
	emptyDir   string
	badConfigs map[string]string
}

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// stoppedRun writes the folder a stopped run leaves: config.json and one
// checkpoint.
func stoppedRun(t *testing.T, dir, command string, stages []string, stage string) string {
	t.Helper()
	cfg := pipeline.DefaultConfig()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "config.json"), b)
	var done []string
	res := map[string]*runfolder.Result{}
	preds := map[string][]runfolder.Prediction{}
	for _, s := range stages {
		if s == stage {
			break
		}
		done = append(done, s)
		res[s], preds[s] = &runfolder.Result{TestAcc: 0.5}, []runfolder.Prediction{{Label: 1, Pred: 1, Prob: 0.9}}
	}
	ck := &pipeline.Checkpoint{Command: command, Stages: stages, Done: done, Stage: stage, Config: cfg,
		Mean: 0.3, Std: 0.35, Results: res, Preds: preds}
	if _, err := pipeline.WriteCheckpoint(dir, ck, 2); err != nil {
		t.Fatal(err)
	}
	return dir
}

func newCLIFixtures(t *testing.T) *cliFixtures {
	t.Helper()
	dir := t.TempDir()
	f := &cliFixtures{dir: dir, missing: filepath.Join(dir, "missing")}
	f.file = writeFile(t, filepath.Join(dir, "file"), []byte("just text\n"))
	f.noRead = writeFile(t, filepath.Join(dir, "noread.json"), []byte("{}"))
	if err := os.Chmod(f.noRead, 0); err != nil {
		t.Fatal(err)
	}
	f.noWrite = filepath.Join(dir, "nowrite")
	if err := os.Mkdir(f.noWrite, 0o555); err != nil {
		t.Fatal(err)
	}
	f.config = writeFile(t, filepath.Join(dir, "ok.yaml"), []byte("mlp:\n  train: {epochs: 1}\n"))
	f.badConfigs = map[string]string{}
	for name, body := range map[string]string{
		"kind.json":    `{"mlp": {"model": {"kind": "transformer"}}}`,
		"batch.json":   `{"cnn": {"train": {"batch": 0}}}`,
		"width.json":   `{"cnn": {"model": {"widths": [-8]}}}`,
		"huge.json":    `{"cnn": {"model": {"widths": [100000000], "pool_after": []}}}`,
		"typo.json":    `{"mlp": {"train": {"epoch": 3}}}`,
		"broken.yaml":  "mlp: [1, 2\n",
		"dupkey.yaml":  "val: 1\nval: 2\n",
		"negval.yaml":  "val: -5\n",
		"lr.yaml":      "cnn:\n  train:\n    lr: -0.1\n",
		"pools.json":   `{"cnn": {"model": {"widths": [4, 4, 4, 4, 4, 4], "pool_after": [0, 1, 2, 3, 4, 5]}}}`,
		"notjson.json": "epochs = 3",
	} {
		f.badConfigs[name] = writeFile(t, filepath.Join(dir, name), []byte(body))
	}
	f.model = filepath.Join(dir, "mlp.safetensors")
	m := nn.MustBuild(nn.Spec{Kind: "mlp", In: 784, Hidden: []int{8}}, 1)
	if err := model.SaveModel(f.model, m, map[string]string{"pixel_mean": "0.3", "pixel_std": "0.35"}); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(f.model)
	if err != nil {
		t.Fatal(err)
	}
	f.truncated = writeFile(t, filepath.Join(dir, "cut.safetensors"), full[:len(full)/2])
	edit := func(name string, change func(meta map[string]string)) string {
		cf, err := checkpoint.Read(f.model)
		if err != nil {
			t.Fatal(err)
		}
		change(cf.Metadata)
		delete(cf.Metadata, "checksum")
		path := filepath.Join(dir, name)
		if err := checkpoint.Write(path, cf); err != nil {
			t.Fatal(err)
		}
		return path
	}
	f.rnn = edit("rnn.safetensors", func(m map[string]string) { m["kind"] = "rnn" })
	f.wrongArch = edit("wide.safetensors", func(m map[string]string) {
		m["arch"] = `{"kind": "mlp", "in": 784, "hidden": [64], "classes": 10}`
	})
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.runDir = stoppedRun(t, mk("run"), "run", pipeline.Stages, "cnn")
	f.trainDir = stoppedRun(t, mk("trainmlp"), "train", []string{"mlp"}, "mlp")
	f.doneDir = stoppedRun(t, mk("done"), "run", pipeline.Stages, "")
	f.reportDir = mk("report")
	if _, err := reporttest.Write(f.reportDir, reporttest.Spec{Models: []string{"cnn"}, Epochs: 1, Images: 10}); err != nil {
		t.Fatal(err)
	}
	f.emptyDir = mk("empty")
	return f
}

// Every command, given a missing file, a folder for a file, an unreadable
// file, an unwritable output, a nonsense flag, a size of zero or less, or
// an unknown architecture, exits non-zero with one line on stderr saying
// what is wrong, and never panics.
func TestCLIErrors(t *testing.T) {
	f := newCLIFixtures(t)
	root := os.Geteuid() == 0
	out := func() string { return filepath.Join(t.TempDir(), "out") }
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		want   string
		unroot bool // needs permissions to bite: skipped as root
	}{
		{"no command", nil, 2, "", false},
		{"unknown command", []string{"fly"}, 2, `unknown command "fly"`, false},

		{"run: nonsense flag", []string{"run", "--colour", "red"}, 2, "flag provided but not defined: -colour", false},
		{"run: stray argument", []string{"run", "now"}, 2, `unexpected argument "now"`, false},
		{"run: flag without value", []string{"run", "--epochs"}, 2, "flag needs an argument: -epochs", false},
		{"run: flag not a number", []string{"run", "--epochs", "ten"}, 2, `invalid value "ten" for flag -epochs`, false},
		{"run: negative epochs", []string{"run", "--epochs", "-1", "--out", out()}, 2, "--epochs -1", false},
		{"run: negative subset", []string{"run", "--subset", "-5", "--out", out()}, 2, "--subset -5", false},
		{"run: negative seed", []string{"run", "--seed", "-7", "--out", out()}, 2, "--seed -7", false},
		{"run: unknown preset", []string{"run", "--preset", "fast", "--out", out()}, 2, `--preset "fast": want default or long or quick`, false},
		{"train: unknown preset", []string{"train", "cnn", "--preset", "", "--out", out()}, 2, `--preset "": want default or long or quick`, false},
		{"run: resume with preset", []string{"run", "--resume", f.runDir, "--preset", "quick"}, 2, "--preset: --resume continues", false},
		{"run: keep zero", []string{"run", "--keep", "0"}, 2, "--keep 0: want at least 1", false},
		{"run: keep negative", []string{"run", "--keep", "-2"}, 2, "--keep -2", false},
		{"run: negative progress", []string{"run", "--progress-every", "-1s"}, 2, "--progress-every -1s", false},
		{"run: missing config", []string{"run", "--config", f.missing, "--out", out()}, 1, f.missing + ": no such file", false},
		{"run: config is a folder", []string{"run", "--config", f.dir, "--out", out()}, 1, f.dir + ": is a directory", false},
		{"run: config unreadable", []string{"run", "--config", f.noRead, "--out", out()}, 1, "permission denied", true},
		{"run: unknown architecture", []string{"run", "--config", f.badConfigs["kind.json"], "--out", out()}, 2, `unknown model kind "transformer"`, false},
		{"run: batch zero", []string{"run", "--config", f.badConfigs["batch.json"], "--out", out()}, 2, "cnn: fit: batch 0", false},
		{"run: negative width", []string{"run", "--config", f.badConfigs["width.json"], "--out", out()}, 2, "width -8", false},
		{"run: absurd width", []string{"run", "--config", f.badConfigs["huge.json"], "--out", out()}, 2, "100000000 wide", false},
		{"run: pools to nothing", []string{"run", "--config", f.badConfigs["pools.json"], "--out", out()}, 2, "pools shrink", false},
		{"run: config typo", []string{"run", "--config", f.badConfigs["typo.json"], "--out", out()}, 1, `unknown field "epoch"`, false},
		{"run: config not JSON", []string{"run", "--config", f.badConfigs["notjson.json"], "--out", out()}, 1, "invalid character", false},
		{"run: config bad YAML", []string{"run", "--config", f.badConfigs["broken.yaml"], "--out", out()}, 1, "yaml: line 1", false},
		{"run: config duplicate key", []string{"run", "--config", f.badConfigs["dupkey.yaml"], "--out", out()}, 1, `mapping key "val" already defined`, false},
		{"run: negative val", []string{"run", "--config", f.badConfigs["negval.yaml"], "--out", out()}, 2, "val -5", false},
		{"run: negative lr", []string{"run", "--config", f.badConfigs["lr.yaml"], "--out", out()}, 2, "learning rate -0.1", false},
		{"run: out under a file", []string{"run", "--config", f.config, "--out", filepath.Join(f.file, "out")}, 1, "not a directory", false},
		{"run: out unwritable", []string{"run", "--config", f.config, "--out", filepath.Join(f.noWrite, "out")}, 1, "permission denied", true},
		{"run: out holds a run", []string{"run", "--config", f.config, "--out", f.runDir}, 1, "already holds a run; continue it with --resume " + f.runDir, false},
		{"run: data missing", []string{"run", "--config", f.config, "--out", out(), "--data", f.missing}, 1, "Fashion-MNIST files not found", false},
		{"run: data is a file", []string{"run", "--config", f.config, "--out", out(), "--data", f.file}, 1, "Fashion-MNIST files not found", false},
		{"run: resume missing", []string{"run", "--resume", f.missing}, 1, "run folder: stat " + f.missing + ": no such file", false},
		{"run: resume a file", []string{"run", "--resume", f.file}, 1, f.file + ": not a directory", false},
		{"run: resume no checkpoints", []string{"run", "--resume", f.emptyDir}, 1, f.emptyDir + " has no checkpoints folder", false},
		{"run: resume with recipe flags", []string{"run", "--resume", f.runDir, "--epochs", "3", "--seed", "2"}, 2, "--epochs, --seed: --resume continues with the config", false},
		{"run: resume with out", []string{"run", "--resume", f.runDir, "--out", out()}, 2, "--out: --resume", false},
		{"run: resume a train folder", []string{"run", "--resume", f.trainDir}, 2, "holds a run of `fmnist train`: resume it with `fmnist train --resume " + f.trainDir + "`", false},
		{"run: resume a finished run", []string{"run", "--resume", f.doneDir}, 1, "the run finished; there is nothing to resume", false},

		{"train: no model", []string{"train"}, 2, "want a model to train: mlp, cnn or cnn_mlp", false},
		{"train: the old name of cnn_mlp", []string{"train", "head"}, 2, `"head" is now called cnn_mlp: fmnist train cnn_mlp --backbone FILE`, false},
		{"train: unknown model", []string{"train", "rnn"}, 2, `unknown model "rnn": want mlp, cnn or cnn_mlp`, false},
		{"train: nonsense flag", []string{"train", "mlp", "--fast"}, 2, "flag provided but not defined: -fast", false},
		{"train: stray argument", []string{"train", "mlp", "cnn"}, 2, `unexpected argument "cnn"`, false},
		{"train: zero subset is all, negative is not", []string{"train", "mlp", "--subset", "-1", "--out", out()}, 2, "--subset -1", false},
		{"train: keep zero", []string{"train", "mlp", "--keep", "0"}, 2, "--keep 0", false},
		{"train: cnn_mlp without backbone", []string{"train", "cnn_mlp"}, 2, "train cnn_mlp needs --backbone FILE", false},
		{"train: backbone for mlp", []string{"train", "mlp", "--backbone", f.model}, 2, "--backbone is for train cnn_mlp", false},
		{"train: backbone missing", []string{"train", "cnn_mlp", "--backbone", f.missing, "--out", out()}, 1, f.missing + ": no such file", false},
		{"train: backbone a folder", []string{"train", "cnn_mlp", "--backbone", f.dir, "--out", out()}, 1, f.dir + ": not a regular file", false},
		{"train: backbone unreadable", []string{"train", "cnn_mlp", "--backbone", f.noRead, "--out", out()}, 1, "permission denied", true},
		{"train: backbone truncated", []string{"train", "cnn_mlp", "--backbone", f.truncated, "--out", out()}, 1, f.truncated + ": truncated", false},
		{"train: backbone not a cnn", []string{"train", "cnn_mlp", "--backbone", f.model, "--out", out()}, 1, "holds a mlp model, want a cnn", false},
		{"train: backbone unknown kind", []string{"train", "cnn_mlp", "--backbone", f.rnn, "--out", out()}, 1, `unknown model kind "rnn"`, false},
		{"train: unknown architecture", []string{"train", "cnn", "--config", f.badConfigs["kind.json"], "--out", out()}, 2, `unknown model kind "transformer"`, false},
		{"train: out under a file", []string{"train", "mlp", "--out", filepath.Join(f.file, "x")}, 1, "not a directory", false},
		{"train: resume a run folder", []string{"train", "--resume", f.runDir}, 2, "holds a run of `fmnist run`", false},
		{"train: resume as another model", []string{"train", "cnn", "--resume", f.trainDir}, 2, "holds a `train mlp` run, not train cnn", false},
		{"train: resume with a backbone", []string{"train", "--resume", f.trainDir, "--backbone", f.model}, 2, "--backbone: --resume", false},

		{"eval: unknown tta", []string{"eval", "--tta", "rotate", "m.safetensors"}, 2, `--tta "rotate": want flip`, false},
		{"eval: no file", []string{"eval"}, 2, "want one model file, got 0 arguments", false},
		{"eval: two files", []string{"eval", f.model, f.model}, 2, "got 2 arguments", false},
		{"eval: nonsense flag", []string{"eval", "--fast", f.model}, 2, "flag provided but not defined: -fast", false},
		{"eval: missing", []string{"eval", f.missing}, 1, f.missing + ": no such file", false},
		{"eval: a folder", []string{"eval", f.dir}, 1, f.dir + ": not a regular file", false},
		{"eval: unreadable", []string{"eval", f.noRead}, 1, "permission denied", true},
		{"eval: not a model", []string{"eval", f.file}, 1, f.file + ": invalid safetensors", false},
		{"eval: truncated", []string{"eval", f.truncated}, 1, f.truncated + ": truncated", false},
		{"eval: unknown architecture", []string{"eval", f.rnn}, 1, f.rnn + `: unknown model kind "rnn"`, false},
		{"eval: wrong architecture", []string{"eval", f.wrongArch}, 1, f.wrongArch + `: nn: state dict: "1.weight": shape (8, 784), want (64, 784)`, false},
		{"eval: data missing", []string{"eval", "--data", f.missing, f.model}, 1, "Fashion-MNIST files not found", false},

		{"export: no file", []string{"export"}, 2, "want one model file, got 0 arguments", false},
		{"export: two files", []string{"export", f.model, f.model}, 2, "got 2 arguments", false},
		{"export: unknown format", []string{"export", "--format", "tflite", f.model}, 2, `--format "tflite": want onnx`, false},
		{"export: onto the model", []string{"export", "-o", f.model, f.model}, 2, "that is the model file itself", false},
		{"export: missing", []string{"export", f.missing}, 1, f.missing + ": no such file", false},
		{"export: not a model", []string{"export", "-o", out(), f.file}, 1, f.file + ": invalid safetensors", false},
		{"export: truncated", []string{"export", "-o", out(), f.truncated}, 1, f.truncated + ": truncated", false},
		{"export: unknown architecture", []string{"export", "-o", out(), f.rnn}, 1, f.rnn + `: unknown model kind "rnn"`, false},
		{"export: out under a file", []string{"export", "-o", filepath.Join(f.file, "m.onnx"), f.model}, 1, "not a directory", false},

		{"data: missing folder", []string{"data", "--data", f.missing}, 1, "Fashion-MNIST files not found", false},
		{"data: a file", []string{"data", "--data", f.file}, 1, "Fashion-MNIST files not found", false},
		{"data: negative val", []string{"data", "--val", "-1"}, 2, "--val -1", false},
		{"data: nonsense flag", []string{"data", "--colour"}, 2, "flag provided but not defined: -colour", false},
		{"data: stray argument", []string{"data", "now"}, 2, `unexpected argument "now"`, false},

		{"bench: zero steps", []string{"bench", "--mlp-steps", "0"}, 2, "--mlp-steps and --cnn-steps must be positive", false},
		{"bench: negative steps", []string{"bench", "--cnn-steps", "-3"}, 2, "must be positive", false},
		{"bench: nothing matches", []string{"bench", "--only", "lstm"}, 2, `--only "lstm" matches no benchmark`, false},
		{"bench: nonsense flag", []string{"bench", "--turbo"}, 2, "flag provided but not defined: -turbo", false},
		{"bench: stray argument", []string{"bench", "now"}, 2, `unexpected argument "now"`, false},
		{"bench: recipe without --to-accuracy", []string{"bench", "--seed", "3", "--marks", "90"}, 2, "--marks, --seed: only with --to-accuracy", false},
		{"bench: rows with --to-accuracy", []string{"bench", "--to-accuracy", "--only", "sgemm"}, 2, "--only: not with --to-accuracy", false},
		{"bench: bad marks", []string{"bench", "--to-accuracy", "--marks", "93,x"}, 2, `--marks "93,x": want percentages`, false},
		{"bench: mark over 100", []string{"bench", "--to-accuracy", "--marks", "101"}, 2, `--marks "101"`, false},
		{"bench: accuracy of cnn_mlp", []string{"bench", "--to-accuracy", "--model", "cnn_mlp"}, 2, `--model "cnn_mlp": want cnn or mlp`, false},
		{"bench: unknown preset", []string{"bench", "--to-accuracy", "--preset", "fast"}, 2, `--preset "fast"`, false},
		{"bench: against without plot", []string{"bench", "--to-accuracy", "--against", f.file}, 2, "--against: only with --plot", false},
		{"bench: plot as jpeg", []string{"bench", "--to-accuracy", "--plot", "tta.jpg"}, 2, `--plot "tta.jpg": want a file name ending in .png or .svg`, false},
		{"bench: plot alone, nothing to draw", []string{"bench", "--plot", "tta.png"}, 2, "--plot without --to-accuracy draws --against's runs", false},
		{"bench: plot alone with a recipe", []string{"bench", "--plot", "tta.png", "--against", f.file, "--seed", "2"}, 2, "--seed: not with --plot alone", false},
		{"bench: against missing", []string{"bench", "--plot", "tta.png", "--against", f.missing}, 1, f.missing + ": no such file", false},
		{"bench: against not JSON", []string{"bench", "--plot", "tta.png", "--against", f.file}, 1, "--against " + f.file + ": not the JSON of a time-to-accuracy run", false},
		{"bench: against before training", []string{"bench", "--to-accuracy", "--plot", "tta.svg", "--against", f.missing}, 1, f.missing + ": no such file", false},

		{"predict: arguments swapped", []string{"predict", f.file, f.model}, 1, "the model file comes first: fmnist predict MODEL.safetensors IMAGE...", false},

		{"report: no folder", []string{"report"}, 2, "want one run folder, got 0 arguments", false},
		{"report: missing", []string{"report", "--no-images", f.missing}, 1, "run folder: stat " + f.missing, false},
		{"report: a file", []string{"report", "--no-images", f.file}, 1, f.file + " is not a run folder (a file, not a folder); give the folder a `fmnist run` wrote", false},
		{"report: empty folder", []string{"report", "--no-images", f.emptyDir}, 1, f.emptyDir + " is not a run folder (no config.json); give the folder a `fmnist run` wrote", false},
		{"report: zero mistakes", []string{"report", "--mistakes", "0", f.reportDir}, 2, "--mistakes 0", false},
		{"report: nonsense flag", []string{"report", "--colour", f.reportDir}, 2, "flag provided but not defined: -colour", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.unroot && root {
				t.Skip("running as root: permissions do not bite")
			}
			var stderr bytes.Buffer
			code := run(tc.args, &stderr)
			msg := stderr.String()
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, msg)
			}
			if tc.args == nil {
				return // the usage text
			}
			first, rest, _ := strings.Cut(msg, "\n")
			prefix := "fmnist " + tc.args[0] + ": "
			if tc.name == "unknown command" {
				prefix = "fmnist: " // and the list of commands after a blank line
			} else if rest != "" {
				t.Errorf("stderr is more than one line:\n%s", msg)
			}
			if !strings.HasPrefix(first, prefix) || !strings.Contains(first, tc.want) {
				t.Errorf("stderr %q\nwant %q...%q", first, prefix, tc.want)
			}
			for _, bad := range []string{"panic", "goroutine ", ".go:"} {
				if strings.Contains(msg, bad) {
					t.Errorf("stderr looks like a crash: %q", msg)
				}
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"runs/2024-01-02": "runs/2024-01-02",
		"my runs":         "'my runs'",
		"it's":            `'it'\''s'`,
		"":                "''",
		"a;rm -rf":        "'a;rm -rf'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
