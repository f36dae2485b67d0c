package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/runfolder"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/nn"
)

// runFiles are the files two runs of one config must hold byte for byte
// (results.json also holds train_s, a time, so it is compared without it).
var runFiles = []string{"config.json", "metrics.csv", "predictions.csv",
	"mlp.safetensors", "cnn.safetensors", "cnn_mlp.safetensors"}

// runPipeline runs the tiny pipeline into out, stopping at the k-th poll of
// Stop (never when k is 0), from a checkpoint when resume is set.
func runPipeline(t *testing.T, d *Splits, out string, k int, resume *Checkpoint) error {
	t.Helper()
	cfg := tinyConfig()
	if resume != nil {
		cfg = resume.Config
	}
	n := 0
	p := &Pipeline{Config: cfg, Data: d, Out: out, Resume: resume,
		Hooks: fit.Hooks{Stop: func() bool { n++; return n == k }}}
	_, err := p.Run()
	return err
}

func resultsNoTime(t *testing.T, dir string) map[string]runfolder.Result {
	t.Helper()
	r, err := runfolder.ReadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	for m, v := range r {
		v.TrainS = 0
		r[m] = v
	}
	return r
}

// A pipeline stopped anywhere (mid-epoch, at an epoch's last step, between
// stages, twice in a row) and resumed from its latest checkpoint writes the
// same files as one never stopped.
func TestPipelineResume(t *testing.T) {
	n := 640
	if testing.Short() || raceEnabled {
		n = 192 // every stop, on fewer images, under the race detector (342 s with 640 here)
	}
	d := synthSplitsN(t, n)
	ref := t.TempDir()
	if err := runPipeline(t, d, ref, 0, nil); err != nil {
		t.Fatal(err)
	}
	// Stop polls: 2s steps of mlp, one after it, 2s of cnn, one after it,
	// 2s of the head, with s steps an epoch.
	s := (n + 63) / 64
	mlpEnd, cnnEnd := 2*s+1, 4*s+2
	stops := [][]int{{1}, {s / 2}, {s}, {2 * s}, {mlpEnd}, {mlpEnd + 1}, {mlpEnd + s + 3, 5}, {cnnEnd - 1, 1},
		{cnnEnd}, {cnnEnd + s + 2}, {cnnEnd + 2*s}, {3, 3, 3}}
	if testing.Short() {
		stops = [][]int{{mlpEnd + s, 2}} // twice, in the second stage
	}
	for _, ks := range stops {
		t.Run(fmt.Sprint(ks), func(t *testing.T) {
			out := t.TempDir()
			var ck *Checkpoint
			for _, k := range ks {
				err := runPipeline(t, d, out, k, ck)
				var ie *fit.InterruptedError
				if !errors.As(err, &ie) || ie.Checkpoint == "" {
					t.Fatalf("stop at %d: err %v, want an fit.InterruptedError with a checkpoint", k, err)
				}
				if ck, err = LatestCheckpoint(out); err != nil {
					t.Fatal(err)
				}
				if ck.Path != ie.Checkpoint {
					t.Errorf("latest checkpoint %s, the error named %s", ck.Path, ie.Checkpoint)
				}
			}
			if err := runPipeline(t, d, out, 0, ck); err != nil {
				t.Fatal(err)
			}
			sameFiles(t, ref, out, runFiles...)
			if a, b := resultsNoTime(t, ref), resultsNoTime(t, out); !reflect.DeepEqual(a, b) {
				t.Errorf("results %v, want %v", b, a)
			}
			names, err := runfolder.ListCheckpoints(out)
			if err != nil || len(names) != 2 || names[1] != "4-done-e0000-b000000.safetensors" {
				t.Errorf("checkpoints left %v (%v), want 2 ending with the done one", names, err)
			}
		})
	}
}

// Two runs of one config give the same bytes, and the checkpoints of the
// two are the same too but for times.
func TestPipelineDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("two pipelines; TestPipelineResume compares runs too")
	}
	d := synthSplits(t)
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := runPipeline(t, d, dir, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	sameFiles(t, a, b, runFiles...)
	for _, dir := range []string{a, b} {
		b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "seconds") || !strings.HasPrefix(string(b), strings.Join(runfolder.MetricsColumns, ",")+"\n") {
			t.Errorf("metrics.csv holds timings or lacks its header:\n%s", b)
		}
		tb, err := os.ReadFile(filepath.Join(dir, "timing.csv"))
		if err != nil || strings.Count(string(tb), "\n") != 7 {
			t.Errorf("timing.csv: %v\n%s", err, tb)
		}
	}
}

// The pipeline's checkpoint hook: Keep sets how many stay, negative none.
func TestPipelineKeep(t *testing.T) {
	d := synthSplits(t)
	// Two epochs and the end: three checkpoints at most.
	for _, tc := range []struct{ keep, want int }{{0, 2}, {1, 1}, {4, 3}, {-1, 0}} {
		out := t.TempDir()
		p := &Pipeline{Config: tinyConfig(), Data: d, Out: out, Keep: tc.keep, Command: "train", Stages: []string{"mlp"}}
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		if err := p.RunStage("mlp"); err != nil {
			t.Fatal(err)
		}
		names, _ := runfolder.ListCheckpoints(out)
		if len(names) != tc.want {
			t.Errorf("keep %d: %d checkpoints %v, want %d", tc.keep, len(names), names, tc.want)
		}
		if tc.want >= 2 && names[len(names)-2] != "1-mlp-e0002-b000000.safetensors" {
			t.Errorf("keep %d: %v", tc.keep, names)
		}
	}
}

// A diverging stage stops the pipeline with where and why; the stages
// before it keep their files and results.
func TestPipelineDivergedKeepsResults(t *testing.T) {
	d := synthSplits(t)
	out := t.TempDir()
	cfg := tinyConfig()
	cfg.CNN.Train.Optimizer, cfg.CNN.Train.LR, cfg.CNN.Train.Schedule, cfg.CNN.Train.WeightDecay = "sgd", 1e12, "constant", 0
	cfg.CNN.Spec.BatchNorm = false
	p := &Pipeline{Config: cfg, Data: d, Out: out}
	_, err := p.Run()
	if !errors.Is(err, fit.ErrDiverged) || !strings.Contains(err.Error(), "cnn epoch 1 step") ||
		!strings.Contains(err.Error(), "learning rate") {
		t.Fatalf("err %v, want fit.ErrDiverged in cnn epoch 1 naming the learning rate", err)
	}
	r, err := runfolder.ReadResults(out)
	if _, cnn := r["cnn"]; err != nil || r["mlp"].TestAcc == 0 || cnn {
		t.Errorf("results.json %v (%v), want mlp only", r, err)
	}
	if _, err := model.LoadModel(filepath.Join(out, "mlp.safetensors")); err != nil {
		t.Error(err)
	}
	m, err := os.ReadFile(filepath.Join(out, "metrics.csv"))
	if err != nil || strings.Count(string(m), "\nmlp,") != 2 {
		t.Errorf("metrics.csv %q (%v), want the two mlp epochs", m, err)
	}
}

// writeRun leaves a run folder stopped in the cnn stage, and returns the
// folder and its checkpoints, oldest first.
func writeRun(t *testing.T, d *Splits) (string, []string) {
	t.Helper()
	out := t.TempDir()
	if err := runPipeline(t, d, out, 25, nil); !errors.Is(err, fit.ErrInterrupted) {
		t.Fatal(err)
	}
	names, err := runfolder.ListCheckpoints(out)
	if err != nil || len(names) != 2 {
		t.Fatalf("checkpoints %v, %v", names, err)
	}
	return out, names
}

// rewrite replaces the content of a safetensors file, keeping it valid.
func rewrite(t *testing.T, path string, edit func(f *checkpoint.File)) {
	t.Helper()
	f, err := checkpoint.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	edit(f)
	delete(f.Metadata, "format")
	delete(f.Metadata, "checksum")
	if err := checkpoint.Write(path, f); err != nil {
		t.Fatal(err)
	}
}

// Loading a damaged or foreign checkpoint fails with one line naming the
// file and the problem, before anything is trained.
func TestResumeLoadErrors(t *testing.T) {
	d := synthSplits(t)
	template, names := writeRun(t, d)
	for _, tc := range []struct {
		name  string
		edit  func(t *testing.T, out, newest, older string)
		want  []string
		atRun bool // the error comes from Pipeline.Run, not LatestCheckpoint
	}{
		{"truncated", func(t *testing.T, out, newest, older string) {
			b, _ := os.ReadFile(newest)
			os.WriteFile(newest, b[:len(b)/2], 0o644)
		}, []string{"{newest}", "truncated", "remove it to resume from {older}"}, false},
		{"bit flipped in the data", func(t *testing.T, out, newest, older string) {
			b, _ := os.ReadFile(newest)
			b[len(b)-10] ^= 4
			os.WriteFile(newest, b, 0o644)
		}, []string{"{newest}", "checksum mismatch"}, false},
		{"empty file", func(t *testing.T, out, newest, older string) {
			os.WriteFile(newest, nil, 0o644)
		}, []string{"{newest}", "truncated: 0 bytes"}, false},
		{"a model file, not a checkpoint", func(t *testing.T, out, newest, older string) {
			b, _ := os.ReadFile(filepath.Join(out, "mlp.safetensors"))
			os.WriteFile(newest, b, 0o644)
		}, []string{"{newest}", "no resume_format in the metadata: not an fmnist checkpoint"}, false},
		{"newer format", func(t *testing.T, out, newest, older string) {
			rewrite(t, newest, func(f *checkpoint.File) { f.Metadata["resume_format"] = "fmnist-resume/9" })
		}, []string{"{newest}", `resume_format "fmnist-resume/9"`}, false},
		{"config.json edited", func(t *testing.T, out, newest, older string) {
			var c RunConfig
			b, _ := os.ReadFile(filepath.Join(out, "config.json"))
			json.Unmarshal(b, &c)
			c.MLP.Train.LR *= 2
			b, _ = json.Marshal(c)
			os.WriteFile(filepath.Join(out, "config.json"), b, 0o644)
		}, []string{"config.json differs from the config saved in {newest}"}, false},
		{"records garbled", func(t *testing.T, out, newest, older string) {
			rewrite(t, newest, func(f *checkpoint.File) { f.Metadata["records"] = `[{"model": "mlp", "epoch": "one"}]` })
		}, []string{"{newest}", "records:"}, false},
		{"weights of another architecture", func(t *testing.T, out, newest, older string) {
			// Both copies of the config now say hidden [8]: the weights are of [4, 8].
			edit := func(c *RunConfig) { c.CNN.Spec.Widths = []int{8, 8} }
			rewrite(t, newest, func(f *checkpoint.File) {
				var c RunConfig
				json.Unmarshal([]byte(f.Metadata["config"]), &c)
				edit(&c)
				b, _ := json.Marshal(c)
				f.Metadata["config"] = string(b)
			})
			var c RunConfig
			b, _ := os.ReadFile(filepath.Join(out, "config.json"))
			json.Unmarshal(b, &c)
			edit(&c)
			b, _ = json.Marshal(c)
			os.WriteFile(filepath.Join(out, "config.json"), b, 0o644)
		}, []string{"{newest}", "checkpoint does not match: cnn: nn: state dict:", `"backbone.0.weight": shape (4, 1, 3, 3), want (8, 1, 3, 3)`}, true},
		{"finished model file damaged", func(t *testing.T, out, newest, older string) {
			b, _ := os.ReadFile(filepath.Join(out, "mlp.safetensors"))
			os.WriteFile(filepath.Join(out, "mlp.safetensors"), b[:100], 0o644)
		}, []string{"resuming after mlp", filepath.Join("{out}", "mlp.safetensors"), "truncated"}, true},
		{"no checkpoints folder", func(t *testing.T, out, newest, older string) {
			os.RemoveAll(filepath.Join(out, runfolder.CheckpointDir))
		}, []string{"{out} has no checkpoints folder"}, false},
		{"no checkpoint in it", func(t *testing.T, out, newest, older string) {
			os.Remove(newest)
			os.Remove(filepath.Join(filepath.Dir(newest), older))
		}, []string{"no checkpoint to resume from"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			if err := os.CopyFS(out, os.DirFS(template)); err != nil {
				t.Fatal(err)
			}
			cdir := filepath.Join(out, runfolder.CheckpointDir)
			newest, older := filepath.Join(cdir, names[1]), names[0]
			tc.edit(t, out, newest, older)
			ck, err := LatestCheckpoint(out)
			if tc.atRun {
				if err != nil {
					t.Fatalf("LatestCheckpoint: %v", err)
				}
				err = runPipeline(t, d, out, 0, ck)
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tc.want {
				w = strings.NewReplacer("{newest}", newest, "{older}", older, "{out}", out).Replace(w)
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nlacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
		})
	}
}

// A resume checks that it sees the same command, stages and data.
func TestResumeMismatch(t *testing.T) {
	d := synthSplits(t)
	out, _ := writeRun(t, d)
	ck, err := LatestCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	other := *d
	other.Mean += 0.01
	for _, tc := range []struct {
		name string
		p    Pipeline
		want string
	}{
		{"other data", Pipeline{Data: &other}, "not the same data"},
		{"train, not run", Pipeline{Data: d, Command: "train", Stages: []string{"cnn"}}, "it is of run [mlp cnn cnn_mlp], not train [cnn]"},
	} {
		p := tc.p
		p.Config, p.Out, p.Resume = ck.Config, out, ck
		if err := p.Start(); !errors.Is(err, fit.ErrCheckpoint) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}

// model.LoadModel on damaged, foreign and absurd files: one line naming the file
// and what is wrong, and no panic or huge allocation.
func TestLoadModelErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	m := nn.MustBuild(nn.Spec{Kind: "mlp", In: 16, Hidden: []int{8}}, 1)
	if err := model.SaveModel(good, m, map[string]string{"pixel_mean": "0.3", "pixel_std": "0.35"}); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.LoadModel(good); err != nil {
		t.Fatal(err)
	}
	variant := func(name string, edit func(f *checkpoint.File)) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, full, 0o644); err != nil {
			t.Fatal(err)
		}
		rewrite(t, path, edit)
		return path
	}
	raw := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	flipped := append([]byte(nil), full...)
	flipped[len(flipped)-3] ^= 0x10
	arch := func(js string) func(f *checkpoint.File) {
		return func(f *checkpoint.File) { f.Metadata["arch"] = js }
	}
	tests := []struct {
		name, path string
		want       string
		sentinel   error
	}{
		{"missing", filepath.Join(dir, "nope.safetensors"), "no such file", os.ErrNotExist},
		{"folder", dir, "not a regular file", nil},
		{"empty", raw("empty", nil), "truncated: 0 bytes", checkpoint.ErrTruncated},
		{"cut in the header", raw("cut1", full[:40]), "truncated", checkpoint.ErrTruncated},
		{"cut in the data", raw("cut2", full[:len(full)-5]), "truncated", checkpoint.ErrTruncated},
		{"bit flipped", raw("flip", flipped), "checksum mismatch", checkpoint.ErrChecksum},
		{"not safetensors", raw("json", []byte(`{"kind": "mlp"}`)), "invalid safetensors", checkpoint.ErrFormat},
		{"unknown kind", variant("rnn", func(f *checkpoint.File) { f.Metadata["kind"] = "rnn" }), `unknown model kind "rnn"`, nil},
		{"no arch", variant("noarch", func(f *checkpoint.File) { delete(f.Metadata, "arch") }), `no "arch" in the metadata`, nil},
		{"arch not JSON", variant("badarch", arch("{hidden")), `bad "arch" metadata`, nil},
		{"arch of an unknown kind", variant("archkind", arch(`{"kind": "rnn"}`)), `unknown model kind "rnn"`, nn.ErrSpec},
		{"wrong architecture", variant("wide", arch(`{"kind": "mlp", "in": 16, "hidden": [16], "classes": 10}`)),
			`"1.weight": shape (8, 16), want (16, 16)`, nn.ErrStateDict},
		{"huge architecture", variant("huge", arch(`{"kind": "cnn", "widths": [60000, 60000], "classes": 10}`)),
			"more than 134217728 weights", nil},
		{"a tensor missing", variant("missing", func(f *checkpoint.File) { f.Tensors = f.Tensors[1:] }),
			`missing "1.weight"`, nn.ErrStateDict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := model.LoadModel(tc.path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.path) || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q\nwant one line naming %s and saying %q", msg, tc.path, tc.want)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v does not wrap %v", err, tc.sentinel)
			}
		})
	}
	// Every truncation fails cleanly.
	step := 1
	if testing.Short() {
		step = 97
	}
	for n := 0; n < len(full); n += step {
		if _, err := model.LoadModel(raw("prefix", full[:n])); err == nil {
			t.Fatalf("a file cut at %d of %d bytes loaded", n, len(full))
		}
	}
}

// A checkpoint written and read back is what was written, floats to the
// bit (NaN included) and predictions to the probability.
func TestCheckpointRoundTrip(t *testing.T) {
	d := synthSplits(t)
	out, _ := writeRun(t, d)
	ck, err := LatestCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	ck.Records[0].ValLoss = math.NaN()
	ck.Records[1].TrainLoss = 1.0 / 3
	ck.Fit.LossSum = 12345.678901234567
	dir := t.TempDir()
	path, err := WriteCheckpoint(dir, ck, 2)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	back.Path = ck.Path
	if !math.IsNaN(back.Records[0].ValLoss) {
		t.Errorf("NaN read back as %v", back.Records[0].ValLoss)
	}
	back.Records[0].ValLoss, ck.Records[0].ValLoss = 0, 0
	if !reflect.DeepEqual(back, ck) {
		t.Errorf("read back\n%+v\nwant\n%+v", back, ck)
	}
	if ck.Stage != "cnn" || len(ck.Done) != 1 || len(ck.Preds["mlp"]) != 200 || ck.Fit.Epoch != 0 || ck.Fit.Batch != 4 {
		t.Errorf("checkpoint at %s %v: %d predictions, epoch %d batch %d", ck.Stage, ck.Done, len(ck.Preds["mlp"]),
			ck.Fit.Epoch, ck.Fit.Batch)
	}
}

// A head trained on augmented features (through the backbone, a new
// augmentation every epoch) is deterministic and resumes mid-epoch to the
// same files as a run never stopped.
func TestPipelineHeadAugmentResume(t *testing.T) {
	d := synthSplitsN(t, 192)
	cfg := tinyConfig()
	cfg.CNNMLP.Augment.Pad, cfg.CNNMLP.Augment.Flip = 1, true
	run := func(out string, k int, resume *Checkpoint) error {
		n := 0
		p := &Pipeline{Config: cfg, Data: d, Out: out, Resume: resume,
			Hooks: fit.Hooks{Stop: func() bool { n++; return n == k }}}
		_, err := p.Run()
		return err
	}
	ref, plain := t.TempDir(), t.TempDir()
	if err := run(ref, 0, nil); err != nil {
		t.Fatal(err)
	}
	// The augmentation changes what the head learns.
	noAug := cfg
	noAug.CNNMLP.Augment = dataset.Augment{}
	p := &Pipeline{Config: noAug, Data: d, Out: plain}
	if _, err := p.Run(); err != nil {
		t.Fatal(err)
	}
	if a, b := readFile(t, ref, "cnn_mlp.safetensors"), readFile(t, plain, "cnn_mlp.safetensors"); string(a) == string(b) {
		t.Error("the head trained on augmented features equals the one trained on plain features")
	}
	// Stop in the head's second epoch: 2 epochs of 3 steps for mlp and cnn,
	// one poll after each stage.
	out := t.TempDir()
	err := run(out, 2*3+1+2*3+1+3+2, nil)
	var ie *fit.InterruptedError
	if !errors.As(err, &ie) {
		t.Fatalf("err %v, want an fit.InterruptedError", err)
	}
	ck, err := LatestCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Stage != "cnn_mlp" || ck.Fit == nil || ck.Fit.Epoch != 1 || ck.Fit.Batch != 2 {
		t.Fatalf("stopped in stage %q at %+v, want cnn_mlp's epoch 2 after 2 batches", ck.Stage, ck.Fit)
	}
	if err := run(out, 0, ck); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, ref, out, runFiles...)
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A fit's state passed through a checkpoint file continues bit for bit as
// the state itself does (fit's tests cover the state at every step).
func TestFitStateThroughFile(t *testing.T) {
	d := synthSplits(t)
	spec := nn.Spec{Kind: "cnn", Widths: []int{4, 6}, PoolAfter: []int{0, 1}, BatchNorm: true, Dropout: 0.2}
	cfg := fit.Config{Epochs: 2, Batch: 100, Optimizer: "sgd", LR: 0.02, Schedule: "step", Momentum: 0.9, EMA: 0.95}
	run := func(seed uint64, h fit.Hooks, from *fit.State) (*nn.Model, error) {
		m := nn.MustBuild(spec, seed)
		tr := d.loader(d.Train, cfg.Batch, true, 11, dataset.Augment{Pad: 1, Flip: true})
		va := d.loader(d.Val, 100, false, 0, dataset.Augment{})
		_, err := fit.FitFrom("cnn", m, tr, va, cfg, h, from)
		return m, err
	}
	want, err := run(1, fit.Hooks{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var saved *fit.State
	_, err = run(1, fit.Hooks{Stop: func() bool { n++; return n == 10 },
		Checkpoint: func(s *fit.State) error { saved = s; return nil }}, nil)
	if !errors.Is(err, fit.ErrInterrupted) {
		t.Fatal(err)
	}
	ck := &Checkpoint{Command: "train", Stages: []string{"cnn"}, Stage: "cnn", Config: tinyConfig(),
		Mean: d.Mean, Std: d.Std, Records: saved.Records, Fit: saved}
	path, err := WriteCheckpoint(t.TempDir(), ck, 2)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := run(99, fit.Hooks{}, back.Fit)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "weights resumed from a file", want.StateDict(), got.StateDict())
}

// A run folder written before the cnn_mlp stage had one name holds "head"
// in its config.json and in its checkpoints' config: it still resumes, to
// the same result.
func TestResumeLegacyHeadKey(t *testing.T) {
	d := synthSplits(t)
	out, names := writeRun(t, d)
	old := func(b []byte) []byte { return bytes.Replace(b, []byte(`"cnn_mlp": {`), []byte(`"head": {`), 1) }
	cfgPath := filepath.Join(out, runfolder.ConfigFile)
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(old(b), []byte(`"head": {`)) {
		t.Fatalf("config.json has no cnn_mlp key to rename:\n%s", b)
	}
	if err := os.WriteFile(cfgPath, old(b), 0o644); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(out, runfolder.CheckpointDir, names[len(names)-1])
	rewrite(t, ck, func(f *checkpoint.File) {
		f.Metadata["config"] = strings.Replace(f.Metadata["config"], `"cnn_mlp":{`, `"head":{`, 1)
		if !strings.Contains(f.Metadata["config"], `"head":{`) {
			t.Fatalf("checkpoint config has no cnn_mlp key: %s", f.Metadata["config"])
		}
	})
	c, err := LatestCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Config, tinyConfig()) {
		t.Errorf("config read back %+v, want %+v", c.Config, tinyConfig())
	}
	if err := runPipeline(t, d, out, 0, c); err != nil {
		t.Fatal(err)
	}
	ref := t.TempDir()
	if err := runPipeline(t, d, ref, 0, nil); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, ref, out, "metrics.csv", "predictions.csv", "mlp.safetensors", "cnn.safetensors", "cnn_mlp.safetensors")
}

// --resume checks the model files of the stages already done before going
// on: of their kind, of the architecture the config describes, and of the
// checksum the checkpoint recorded.
func TestResumeChecksModelFiles(t *testing.T) {
	d := synthSplits(t)
	cfg := tinyConfig()
	// Another mlp of the same architecture but other weights, a wider one,
	// and a cnn.
	twin := nn.MustBuild(cfg.MLP.Spec, 77)
	wider := cfg.MLP.Spec
	wider.Hidden = []int{40}
	cnn := nn.MustBuild(cfg.CNN.Spec, 1)
	meta := model.PixelMeta(d.Mean, d.Std)
	for _, tc := range []struct {
		name  string
		edit  func(path string) error // of mlp.safetensors; nil leaves it
		noSum bool                    // the checkpoint of an older run, without checksums
		want  string                  // "" when the resume goes on
	}{
		{"untouched", nil, false, ""},
		{"other weights", func(p string) error { return model.SaveModel(p, twin, meta) }, false, "the checkpoint recorded"},
		{"other weights, old checkpoint", func(p string) error { return model.SaveModel(p, twin, meta) }, true, ""},
		{"other architecture", func(p string) error { return model.SaveModel(p, nn.MustBuild(wider, 1), meta) }, true,
			`"hidden":[40]`},
		{"other kind", func(p string) error { return model.SaveModel(p, cnn, meta) }, false, "it holds a cnn model, want mlp"},
		{"missing", os.Remove, false, "resuming after mlp:"},
		{"not a model", func(p string) error { return os.WriteFile(p, []byte("junk"), 0o644) }, false, "resuming after mlp:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, names := writeRun(t, d)
			ck := filepath.Join(out, runfolder.CheckpointDir, names[len(names)-1])
			if tc.noSum {
				rewrite(t, ck, func(f *checkpoint.File) { delete(f.Metadata, "model_checksums") })
			}
			if tc.edit != nil {
				if err := tc.edit(filepath.Join(out, "mlp.safetensors")); err != nil {
					t.Fatal(err)
				}
			}
			c, err := LatestCheckpoint(out)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.noSum && c.ModelSums["mlp"] == "" {
				t.Fatalf("the checkpoint has no checksum of mlp.safetensors: %v", c.ModelSums)
			}
			p := &Pipeline{Config: c.Config, Data: d, Out: out, Resume: c, Keep: -1}
			err = p.Start()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, fit.ErrCheckpoint) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrCheckpoint and %q", err, tc.want)
			}
		})
	}
}
