package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/fmnist/fmnist/bench"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/internal/kernels"
	"github.com/fmnist/fmnist/pipeline"
)

// toAccFlags are bench's flags for --to-accuracy: a real training run of
// one model of a preset, on the real data, timed to marks of validation
// accuracy.
type toAccFlags struct {
	dataFlags
	recipe
	on    bool
	model string
	marks string
}

func (a *toAccFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&a.on, "to-accuracy", false, "instead of the rows above, train --model of --preset on the real data and report "+
		"the wall seconds until its validation accuracy first reaches each of --marks (it stops there), and its real "+
		"epochs' img/s beside this bench's for the same model")
	fs.StringVar(&a.model, "model", "cnn", "with --to-accuracy: cnn or mlp")
	fs.StringVar(&a.marks, "marks", "93,94,94.5", "with --to-accuracy: validation accuracies in percent")
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
	rep := toAccReport{Model: a.model, Preset: a.preset, Seed: cfg.Seed, Images: splits.Train.Len(),
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
	if asJSON {
		return json.NewEncoder(stdout).Encode(rep)
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
	return nil
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
