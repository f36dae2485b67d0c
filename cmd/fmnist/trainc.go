package main

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/pipeline"
)

func init() {
	register(command{name: "train", order: 30, run: cmdTrain,
		summary: "train one model alone: mlp, cnn, or cnn_mlp (an MLP on a trained CNN's features)"})
}

func cmdTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", "train mlp|cnn|cnn_mlp [flags]  or  train --resume DIR",
		"Trains one part of the pipeline with the same recipe as run, and writes its model file, config.json,\n"+
			"metrics.csv, timing.csv, results.json and predictions.csv to the output folder. cnn_mlp needs\n"+
			"--backbone, a cnn.safetensors written by run or by train cnn. Checkpoints and --resume work as for run.")
	c := commonFlags{stdout: stdout, stderr: stderr}
	defer c.release()
	c.register(fs)
	backbone := fs.String("backbone", "", "for cnn_mlp: the trained CNN file whose features the MLP learns from")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	what := fs.Arg(0)
	if what == pipeline.LegacyHeadKey {
		return usageErrorf("%q is now called cnn_mlp: fmnist train cnn_mlp --backbone FILE", what)
	}
	if what != "" && !slices.Contains(pipeline.Stages, what) {
		return usageErrorf("unknown model %q: want mlp, cnn or cnn_mlp", what)
	}
	if err := c.check(fs, 1); err != nil {
		return err
	}
	var cfg pipeline.RunConfig
	var ck *pipeline.Checkpoint
	var err error
	if c.resume != "" {
		if ck, err = c.openResume("train"); err != nil {
			return err
		}
		if len(ck.Stages) != 1 {
			return fmt.Errorf("%s: a train checkpoint of %d stages", ck.Path, len(ck.Stages))
		}
		if what != "" && what != ck.Stages[0] {
			return usageErrorf("%s holds a `train %s` run, not train %s", c.resume, ck.Stages[0], what)
		}
		what = ck.Stages[0]
		cfg, *backbone = ck.Config, ck.Backbone
	} else {
		if what == "" {
			return usageErrorf("want a model to train: mlp, cnn or cnn_mlp")
		}
		if what == model.KindCNNMLP && *backbone == "" {
			return usageErrorf("train cnn_mlp needs --backbone FILE (a cnn.safetensors)")
		}
		if *backbone != "" && what != model.KindCNNMLP {
			return usageErrorf("--backbone is for train cnn_mlp")
		}
		if *backbone != "" {
			// Saved in checkpoints: make it independent of the directory.
			if abs, err := filepath.Abs(*backbone); err == nil {
				*backbone = abs
			}
		}
		if cfg, err = c.resolve(); err != nil {
			return err
		}
	}
	var cnn *model.Loaded
	if what == model.KindCNNMLP {
		if cnn, err = model.LoadModel(*backbone); err != nil {
			return err
		}
		if cnn.Kind != "cnn" {
			return fmt.Errorf("--backbone %s holds a %s model, want a cnn", *backbone, cnn.Kind)
		}
		if ck != nil && cnn.Meta["checksum"] != ck.BackboneSum {
			return fmt.Errorf("%s changed since the interrupted run (checksum %s, was %s)", *backbone,
				cnn.Meta["checksum"], ck.BackboneSum)
		}
	}
	f, err := c.loadNoted(stderr)
	if err != nil {
		return err
	}
	splits, err := pipeline.Prepare(f, cfg)
	if err != nil {
		return err
	}
	if cnn != nil {
		// The backbone must see pixels normalised as when it was trained.
		if splits.Mean, splits.Std, err = model.PixelNorm(cnn.Meta); err != nil {
			return fmt.Errorf("%s: %w", *backbone, err)
		}
	}
	planCfg := cfg
	if cnn != nil {
		planCfg.CNN.Spec = cnn.Model.Spec
	}
	p, ses := c.newPipeline("train", planCfg, splits, ck, []string{what})
	p.Config = cfg
	defer ses.release()
	p.Stages, p.Backbone = []string{what}, *backbone
	if cnn != nil {
		p.BackboneCNN = cnn.Model
		p.SetBackboneChecksum(cnn.Meta["checksum"])
	}
	if err := p.Start(); err != nil {
		return err
	}
	err = p.RunStage(what)
	ses.release()
	if err != nil {
		return ses.stopped(&c, "train", err)
	}
	if err := p.Finish(); err != nil {
		return err
	}
	printResults(stdout, p.Results(), p.Records())
	fmt.Fprintf(stdout, "wrote %s\n", c.out)
	return nil
}
