package main

import (
	"errors"
	"fmt"
	"os"

	"fmnist/train"
)

func init() {
	register(command{name: "train", order: 30, run: cmdTrain,
		summary: "train one model alone: mlp, cnn, or head (on a trained CNN's features)"})
}

func cmdTrain(args []string) error {
	fs := newFlags("train", "train mlp|cnn|head [flags]",
		"Trains one part of the pipeline with the same recipe as run, and writes its model file, config.json,\n"+
			"metrics.csv, results.json and predictions.csv to the output folder. head needs --backbone, a\n"+
			"cnn.safetensors written by run or by train cnn.")
	var c commonFlags
	c.register(fs)
	backbone := fs.String("backbone", "", "for head: the trained CNN file whose features the MLP learns from")
	if len(args) == 0 || (args[0] != "mlp" && args[0] != "cnn" && args[0] != "head") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fs.SetOutput(os.Stdout)
			fs.Usage()
			return nil
		}
		return usageErrorf("want a model to train: mlp, cnn or head")
	}
	what := args[0]
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q", fs.Arg(0))
	}
	if what == "head" && *backbone == "" {
		return usageErrorf("train head needs --backbone FILE (a cnn.safetensors)")
	}
	cfg, err := c.resolve()
	if err != nil {
		return err
	}
	var cnn *train.Loaded
	if what == "head" {
		if cnn, err = train.LoadModel(*backbone); err != nil {
			return err
		}
		if cnn.Kind != "cnn" {
			return fmt.Errorf("--backbone %s holds a %s model, want a cnn", *backbone, cnn.Kind)
		}
	}
	f, err := c.loadData(os.Stderr)
	if err != nil {
		return err
	}
	splits, err := train.Prepare(f, cfg)
	if err != nil {
		return err
	}
	if cnn != nil {
		// The backbone must see pixels normalised as when it was trained.
		if splits.Mean, splits.Std, err = train.PixelNorm(cnn.Meta); err != nil {
			return fmt.Errorf("%s: %w", *backbone, err)
		}
	}
	printShapes(os.Stdout, splits)
	stop, release := stopOnSignal()
	defer release()
	b := newBar(os.Stderr)
	p := &train.Pipeline{Config: cfg, Data: splits, Out: c.out,
		Log:   func(s string) { b.clear(); fmt.Fprintln(os.Stderr, s) },
		Hooks: train.Hooks{Progress: b.progress, Stop: stop, Epoch: func(r train.Record) { b.clear(); printEpoch(r) }}}
	if err := p.Start(); err != nil {
		return err
	}
	switch what {
	case "mlp":
		_, err = p.TrainMLP()
	case "cnn":
		_, err = p.TrainCNN()
	case "head":
		_, err = p.TrainHead(cnn.Model)
	}
	if errors.Is(err, train.ErrInterrupted) {
		return fmt.Errorf("interrupted; what finished so far is in %s", c.out)
	}
	if err != nil {
		return err
	}
	if err := p.Finish(); err != nil {
		return err
	}
	printResults(os.Stdout, p.Results())
	fmt.Printf("wrote %s\n", c.out)
	return nil
}
