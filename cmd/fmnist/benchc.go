package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/fmnist/fmnist/bench"
)

// version is the engine name in bench reports.
const version = "0.1.0"

func init() {
	register(command{name: "bench", order: 50, run: cmdBench,
		summary: "time training and inference of the reference models (mlp-ref, cnn-ref) and SGEMM"})
}

func cmdBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "bench [flags]",
		"Times training steps and inference at batch 128 on random data of the reference models, and the\n"+
			"median latency of one image's inference (latency1): mlp-ref, a\n"+
			"plain 784-512-256-10 MLP, and cnn-ref, the default CNN (32-64-128-256-256) without batch norm\n"+
			"(cnn-ref-bn with it); and SGEMM at 1024³ and at sizes those models use. Also reports the allocations\n"+
			"and bytes per training step once warm, and the peak resident memory of the whole process so far\n"+
			"(a high-water mark: a row's figure includes the rows before it).\n\n"+
			"With --to-accuracy it instead trains a model of a preset for real (the same bits as that model in\n"+
			"`fmnist run` with the same flags) and reports the wall seconds until its validation accuracy first\n"+
			"reaches each mark, the time to accuracy by which a recipe is judged, e.g.\n"+
			"  fmnist bench --to-accuracy                 the default CNN to 93%, 94% and 94.5%\n"+
			"  fmnist bench --to-accuracy --preset quick --marks 92,93\n"+
			"  fmnist bench --to-accuracy --json --plot tta.svg --against torch.json > fmnist.json\n"+
			"                                             and a plot beside scripts/torch_to_accuracy.py's run\n"+
			"  fmnist bench --plot tta.png --against fmnist.json,torch.json   the plot again, training nothing")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	only := fs.String("only", "", "run only the rows whose name starts with this, e.g. cnn-ref or sgemm")
	addMemBudget(fs)
	mlpSteps := fs.Int("mlp-steps", 40, "timed MLP steps")
	cnnSteps := fs.Int("cnn-steps", 12, "timed CNN steps")
	var acc toAccFlags
	acc.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q", fs.Arg(0))
	}
	// --plot without --to-accuracy draws earlier runs (--against, and
	// --marks if given) and runs nothing else.
	drawOnly := acc.plot != "" && !acc.on
	var clash []string
	marksSet := false
	fs.Visit(func(f *flag.Flag) {
		isRows := f.Name == "only" || f.Name == "mlp-steps" || f.Name == "cnn-steps"
		isPlot := f.Name == "plot" || f.Name == "against" || f.Name == "marks"
		isAcc := f.Name != "to-accuracy" && f.Name != "json" && f.Name != "mem-budget" && !isRows
		marksSet = marksSet || f.Name == "marks"
		switch {
		case drawOnly && !isPlot:
			clash = append(clash, "--"+f.Name)
		case drawOnly:
		case (isRows && acc.on) || (isAcc && !acc.on):
			clash = append(clash, "--"+f.Name)
		}
	})
	if len(clash) > 0 {
		switch {
		case drawOnly:
			return usageErrorf("%s: not with --plot alone (it draws --against's runs and trains nothing; add --to-accuracy to train)", strings.Join(clash, ", "))
		case acc.on:
			return usageErrorf("%s: not with --to-accuracy", strings.Join(clash, ", "))
		}
		return usageErrorf("%s: only with --to-accuracy", strings.Join(clash, ", "))
	}
	if drawOnly {
		return plotOnly(&acc, marksSet)
	}
	if acc.on {
		return benchToAccuracy(&acc, *asJSON, stdout, stderr)
	}
	if *mlpSteps <= 0 || *cnnSteps <= 0 {
		return usageErrorf("--mlp-steps and --cnn-steps must be positive")
	}
	rep, err := bench.Run(bench.Options{MLPSteps: *mlpSteps, CNNSteps: *cnnSteps, Only: *only,
		Progress: func(s string) { fmt.Fprintln(stderr, s) }}, version)
	if err != nil {
		return err
	}
	if len(rep.Results) == 0 && len(rep.Memory) == 0 {
		return usageErrorf("--only %q matches no benchmark (the names start with mlp-ref, cnn-ref or sgemm)", *only)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	fmt.Fprintf(stdout, "%s, %s kernels on %s, %d threads, batch %d\n", rep.Engine, rep.Kernels, rep.Arch, rep.Threads, bench.Batch)
	for _, r := range rep.Results {
		switch {
		case r.GFLOPS > 0:
			fmt.Fprintf(stdout, "%-24s %10.1f GFLOP/s\n", r.Name, r.GFLOPS)
		case r.Ms > 0:
			fmt.Fprintf(stdout, "%-24s %10.4f ms, one image\n", r.Name, r.Ms)
		default:
			fmt.Fprintf(stdout, "%-24s %10.1f img/s\n", r.Name, r.ImgPerS)
		}
	}
	for _, m := range rep.Memory {
		fmt.Fprintf(stdout, "%-24s %8.1f allocs/step %10.0f B/step  process peak RSS so far %.0f MiB  estimate %.0f MiB\n", m.Model+"/train",
			m.AllocsPerStep, m.BytesPerStep, m.PeakRSSMiB, m.EstimateMiB)
	}
	return nil
}
