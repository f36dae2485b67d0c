package main

import (
	"fmt"
	"io"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
)

func init() {
	register(command{name: "eval", order: 40, run: cmdEval,
		summary: "reload a saved model and print its test accuracy"})
}

func cmdEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "eval [flags] MODEL.safetensors",
		"Reloads a model file written by run or train (mlp, cnn or cnn_mlp) and evaluates it on the official\n"+
			"test set. The normalisation is the one stored in the file, so the accuracy equals the one in the\n"+
			"run's results.json exactly. --tta flip also prints the accuracy with test-time augmentation (the\n"+
			"logits of each image and its mirror, averaged), on a line of its own. It suits models whose CNN\n"+
			"was trained on mirrored images (cnn, cnn_mlp); the MLP on pixels never saw one, and loses by it.")
	var data dataFlags
	data.register(fs)
	addMemBudget(fs)
	tta := fs.String("tta", "", "also evaluate with test-time augmentation: flip (mirror each image, average the logits)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one model file, got %d arguments", fs.NArg())
	}
	if *tta != "" && *tta != "flip" {
		return usageErrorf("--tta %q: want flip", *tta)
	}
	l, err := model.LoadModel(fs.Arg(0))
	if err != nil {
		return err
	}
	mean, std, err := model.PixelNorm(l.Meta)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	f, err := data.load(stderr)
	if err != nil {
		return err
	}
	test := dataset.NewLoader(f.Test, dataset.LoaderConfig{Batch: 500, Mean: mean, Std: std})
	show := func(how string, p nn.Predictor) {
		sc := fit.Evaluate(p, test, nil)
		fmt.Fprintf(stdout, "%s (%s): %stest accuracy %.2f%% (%d/%d), loss %.4f\n", fs.Arg(0), l.Kind, how, 100*sc.Acc,
			int(sc.Acc*float64(sc.N)+0.5), sc.N, sc.Loss)
	}
	show("", l.Predictor)
	if *tta == "flip" {
		show("with flip TTA, ", &model.FlipTTA{P: l.Predictor})
	}
	return nil
}
