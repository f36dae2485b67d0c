package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/internal/runlock"
	"github.com/fmnist/fmnist/pipeline"
	"github.com/fmnist/fmnist/report"
	"github.com/fmnist/fmnist/runfolder"
)

func init() {
	register(command{name: "report", order: 60, run: cmdReport,
		summary: "turn a run folder into plots and one self-contained HTML page"})
}

func cmdReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", "report [flags] RUNDIR",
		"Reads config.json, metrics.csv, results.json and predictions.csv from a run folder and writes into it\n"+
			"plots/<model>_curves.png|svg, plots/<model>_confusion.png|svg, plots/<model>_errors.png (the most\n"+
			"confident mistakes, drawn from the test images), per_class.csv and report.html, a single page with\n"+
			"every image embedded. Rebuilding gives the same files.")
	var data dataFlags // for the test images of the mistakes grids
	data.register(fs)
	noImages := fs.Bool("no-images", false, "do not load the test images: no grids of mistakes")
	mistakes := fs.Int("mistakes", report.DefaultMistakes, "how many mistakes each grid shows")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one run folder, got %d arguments", fs.NArg())
	}
	if *mistakes < 1 || *mistakes > report.MaxMistakes {
		return usageErrorf("--mistakes %d: want 1 to %d", *mistakes, report.MaxMistakes)
	}
	dir := fs.Arg(0)
	// Check the folder before loading 60,000 images for nothing.
	if _, err := runfolder.Read(dir); err != nil {
		return err
	}
	// A run still writing into dir would mix its files with the report's.
	lock, err := runlock.Acquire(dir)
	if err != nil {
		return err
	}
	defer lock.Release()
	opt := report.Options{Mistakes: *mistakes, ClassNames: dataset.ClassNames[:], ReferenceEpochs: referenceEpochs()}
	if !*noImages {
		f, err := data.load(stderr)
		if err != nil {
			return fmt.Errorf("test images: %w (or use --no-images)", err)
		}
		opt.Images, opt.Labels = f.Test.Images, f.Test.Labels
	}
	files, err := report.Build(dir, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %d files\n", len(files))
	fmt.Fprintln(stdout, filepath.Join(dir, report.HTMLFile))
	return nil
}

// referenceEpochs are the default preset's epochs per model: a report
// flags a run that gave a model fewer as a short one.
func referenceEpochs() map[string]int {
	c := pipeline.DefaultConfig()
	return map[string]int{"mlp": c.MLP.Train.Epochs, "cnn": c.CNN.Train.Epochs, "cnn_mlp": c.CNNMLP.Train.Epochs}
}
