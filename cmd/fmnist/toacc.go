package main

import (
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/fmnist/fmnist/bench"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/internal/kernels"
	"github.com/fmnist/fmnist/pipeline"
	"github.com/fmnist/fmnist/report"
)

// toAccFlags are bench's flags for --to-accuracy: a real training run of
// one model of a preset, on the real data, timed to marks of validation
// accuracy.
type toAccFlags struct {
	dataFlags
	recipe
	on      bool
	model   string
	marks   string
	plot    string
	against string
}

func (a *toAccFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&a.on, "to-accuracy", false, "instead of the rows above, train --model of --preset on the real data and report "+
		"the wall seconds until its validation accuracy first reaches each of --marks (it stops there), and its real "+
		"epochs' img/s beside this bench's for the same model")
	fs.StringVar(&a.model, "model", "cnn", "with --to-accuracy: cnn or mlp")
	fs.StringVar(&a.marks, "marks", "93,94,94.5", "with --to-accuracy: validation accuracies in percent")
	fs.StringVar(&a.plot, "plot", "", "write a plot of validation accuracy against wall time to this .png or .svg file: with "+
		"--to-accuracy, of this run and --against's; without it, of --against's alone (nothing is trained)")
	fs.StringVar(&a.against, "against", "", "with --plot: comma-separated JSON files of earlier runs to draw too, each "+
		"the output of `fmnist bench --to-accuracy --json` or of scripts/torch_to_accuracy.py --json")
	a.dataFlags.register(fs)
	a.recipe.register(fs)
}

// parseMarks reads "93,94,94.5" as sorted fractions.
func parseMarks(s string) ([]float64, error) {
	var marks []float64
	for f := range strings.SplitSeq(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v > 0 && v <= 100) {
			return nil, usageErrorf("--marks %q: want percentages above 0 and at most 100, separated by commas", s)
		}
		marks = append(marks, v/100)
	}
	slices.Sort(marks)
	return slices.Compact(marks), nil
}

// toAccReport is what --to-accuracy --json prints.
type toAccReport struct {
	Engine  string        `json:"engine"`
	Model   string        `json:"model"`
	Preset  string        `json:"preset"`
	Seed    uint64        `json:"seed"`
	Images  int           `json:"train_images"`
	Kernels string        `json:"kernels"`
	Threads int           `json:"threads"`
	Marks   []fit.Reached `json:"marks"` // epoch 0: not reached
	Epochs  []fit.Record  `json:"epochs"`
	// RealImgPerS is the median of the epochs' training img/s (validation
	// left out), BenchImgPerS bench's for the same model on random
	// batches, and ValShare the part of the epochs' wall time that went to
	// validation.
	RealImgPerS  float64 `json:"real_train_img_per_s"`
	BenchImgPerS float64 `json:"bench_train_img_per_s"`
	ValShare     float64 `json:"validation_share"`
}

func benchToAccuracy(a *toAccFlags, asJSON bool, stdout, stderr io.Writer) error {
	marks, err := parseMarks(a.marks)
	if err != nil {
		return err
	}
	// Everything the plot needs is checked before the training, so that
	// an hour of it is not lost to a typo.
	format, others, _, err := a.plotInputs()
	if err != nil {
		return err
	}
	if a.model != "cnn" && a.model != "mlp" {
		return usageErrorf("--model %q: want cnn or mlp", a.model)
	}
	cfg, err := a.runConfig()
	if err != nil {
		return err
	}
	st := cfg.CNN
	if a.model == "mlp" {
		st = cfg.MLP
	}
	f, err := a.loadNoted(stderr)
	if err != nil {
		return err
	}
	splits, err := pipeline.Prepare(f, cfg)
	if err != nil {
		return err
	}
	rep := toAccReport{Engine: "fmnist " + version, Model: a.model, Preset: a.preset, Seed: cfg.Seed, Images: splits.Train.Len(),
		Kernels: kernels.KernelSet(), Threads: runtime.GOMAXPROCS(0)}
	fmt.Fprintf(stderr, "timing %s training steps on random batches of %d\n", a.model, bench.Batch)
	if rep.BenchImgPerS, err = bench.TrainImgPerS(st.Spec, 12); err != nil {
		return err
	}
	out := stdout
	if asJSON {
		out = stderr
	}
	fmt.Fprintf(out, "time to validation accuracy: %s of the %s preset, seed %d, %d training images, %s kernels, %d threads\n",
		a.model, a.preset, cfg.Seed, rep.Images, rep.Kernels, rep.Threads)
	fmt.Fprintf(out, "%5s %8s %12s %8s %8s\n", "epoch", "val acc", "train img/s", "epoch s", "total s")
	var total, trainSecs float64
	stop, _, release := stopOnSignal(func(s string) { fmt.Fprintln(stderr, s) })
	defer release()
	rep.Epochs, err = pipeline.TrainToAccuracy(splits, cfg, a.model, marks[len(marks)-1], fit.Hooks{
		Stop: stop,
		// Sent as each epoch's training ends: its training time, without
		// the validation that follows.
		Progress: func(p fit.Progress) {
			if p.Phase == fit.PhaseValidate {
				trainSecs += p.Elapsed.Seconds()
			}
		},
		Epoch: func(r fit.Record) {
			total += r.Seconds
			fmt.Fprintf(out, "%5d %7.2f%% %12.1f %8.1f %8.1f\n", r.Epoch, 100*r.ValAcc, r.ImgPerS, r.Seconds, total)
		}})
	if err != nil {
		return err
	}
	rep.Marks = fit.TimeToAccuracy(rep.Epochs, a.model, marks)
	ips := make([]float64, len(rep.Epochs))
	for i, r := range rep.Epochs {
		ips[i] = r.ImgPerS
	}
	rep.RealImgPerS = median(ips)
	if total > 0 {
		rep.ValShare = max(0, 1-trainSecs/total)
	}
	// The results are printed before the plot is written: a full disk
	// loses the picture, not the figures.
	if asJSON {
		if err := json.NewEncoder(stdout).Encode(rep); err != nil {
			return err
		}
		return a.writePlot(format, append([]report.TimedRun{rep.timed()}, others...), marks)
	}
	for _, r := range rep.Marks {
		name := fmt.Sprintf("%s/to-%.4g%%", a.model, 100*r.Mark) // 100·0.07 is 7.000000000000001
		if r.Epoch == 0 {
			fmt.Fprintf(stdout, "%-16s not reached in %d epochs\n", name, len(rep.Epochs))
			continue
		}
		fmt.Fprintf(stdout, "%-16s %8.1f s (epoch %d)\n", name, r.Seconds, r.Epoch)
	}
	fmt.Fprintf(stdout, "real epochs train at %.0f img/s (median), %.0f%% of this bench's %.0f img/s on random batches "+
		"of the same model; validation is %.1f%% of an epoch's wall time\n",
		rep.RealImgPerS, 100*rep.RealImgPerS/rep.BenchImgPerS, rep.BenchImgPerS, 100*rep.ValShare)
	return a.writePlot(format, append([]report.TimedRun{rep.timed()}, others...), marks)
}

// timed is rep's curve for a plot.
func (rep toAccReport) timed() report.TimedRun {
	j := timedJSON{Engine: rep.Engine, Model: rep.Model, Preset: rep.Preset, Seed: &rep.Seed, Threads: rep.Threads}
	for _, e := range rep.Epochs {
		j.Epochs = append(j.Epochs, timedEpoch{ValAcc: e.ValAcc, Seconds: e.Seconds})
	}
	return j.run()
}

// timedJSON is what a plot reads of a run's JSON, written by this command or
// by its PyTorch twin.
type timedJSON struct {
	Engine  string        `json:"engine"`
	Model   string        `json:"model"`
	Preset  string        `json:"preset"`
	Seed    *uint64       `json:"seed"`
	Threads int           `json:"threads"`
	Marks   []fit.Reached `json:"marks"`
	Epochs  []timedEpoch  `json:"epochs"`
}

type timedEpoch struct {
	ValAcc  float64 `json:"val_acc"`
	Seconds float64 `json:"seconds"` // this epoch's, validation included
}

// run is j's curve, named by what is known of it.
func (j timedJSON) run() report.TimedRun {
	name := cmp.Or(j.Engine, "fmnist")
	if j.Model != "" {
		name += ", " + j.Model
		if j.Preset != "" {
			name += " (" + j.Preset + ")"
		}
	}
	if j.Seed != nil {
		name += fmt.Sprintf(", seed %d", *j.Seed)
	}
	if j.Threads > 0 {
		name += fmt.Sprintf(", %d threads", j.Threads)
	}
	r := report.TimedRun{Name: name}
	var total float64
	for _, e := range j.Epochs {
		total += e.Seconds
		r.Seconds = append(r.Seconds, total)
		r.ValAcc = append(r.ValAcc, e.ValAcc)
	}
	return r
}

// plotInputs checks --plot's file name and reads --against's runs and the
// marks they were timed to; format is "" without --plot.
func (a *toAccFlags) plotInputs() (format string, runs []report.TimedRun, marks []float64, err error) {
	if a.plot == "" {
		if a.against != "" {
			return "", nil, nil, usageErrorf("--against: only with --plot")
		}
		return "", nil, nil, nil
	}
	switch ext := strings.ToLower(filepath.Ext(a.plot)); ext {
	case ".png", ".svg":
		format = ext[1:]
	default:
		return "", nil, nil, usageErrorf("--plot %q: want a file name ending in .png or .svg", a.plot)
	}
	if a.against == "" {
		if !a.on {
			return "", nil, nil, usageErrorf("--plot without --to-accuracy draws --against's runs: give at least one")
		}
		return format, nil, nil, nil
	}
	for path := range strings.SplitSeq(a.against, ",") {
		path = strings.TrimSpace(path)
		b, err := os.ReadFile(path)
		if err != nil {
			return "", nil, nil, fmt.Errorf("--against: %w", err)
		}
		var j timedJSON
		if err := json.Unmarshal(b, &j); err != nil {
			return "", nil, nil, fmt.Errorf("--against %s: not the JSON of a time-to-accuracy run: %v", path, err)
		}
		if len(j.Epochs) == 0 {
			return "", nil, nil, fmt.Errorf("--against %s: no epochs (want the JSON of `fmnist bench --to-accuracy --json` or scripts/torch_to_accuracy.py --json)", path)
		}
		r := j.run()
		// Checked now, not after the training.
		if _, err := report.TimeToAccuracy([]report.TimedRun{r}, nil, "svg"); err != nil {
			return "", nil, nil, fmt.Errorf("--against %s: %v", path, err)
		}
		runs = append(runs, r)
		for _, m := range j.Marks {
			marks = append(marks, m.Mark)
		}
	}
	slices.Sort(marks)
	return format, runs, slices.Compact(marks), nil
}

// writePlot writes runs to --plot, if given.
func (a *toAccFlags) writePlot(format string, runs []report.TimedRun, marks []float64) error {
	if format == "" {
		return nil
	}
	b, err := report.TimeToAccuracy(runs, marks, format)
	if err != nil {
		return err
	}
	if err := os.WriteFile(a.plot, b, 0o644); err != nil {
		return fmt.Errorf("--plot: %w", err)
	}
	return nil
}

// plotOnly draws --against's runs to --plot, training nothing; the marks
// are --marks if given, else those of the runs.
func plotOnly(a *toAccFlags, marksSet bool) error {
	format, runs, marks, err := a.plotInputs()
	if err != nil {
		return err
	}
	if marksSet {
		if marks, err = parseMarks(a.marks); err != nil {
			return err
		}
	}
	return a.writePlot(format, runs, marks)
}

// median is the median of v (which it sorts), 0 when v is empty.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 0 {
		return (v[m-1] + v[m]) / 2
	}
	return v[m]
}
