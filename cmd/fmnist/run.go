package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"fmnist/dataset"
	"fmnist/report"
	"fmnist/train"
)

func init() {
	register(command{name: "run", order: 10, run: cmdRun,
		summary: "run the whole pipeline: data, MLP, CNN, CNN features + MLP, test results"})
}

// commonFlags are the data and config flags that run and train share.
type commonFlags struct {
	data     string
	noVerify bool
	config   string
	seed     int64
	epochs   int
	subset   int
	out      string
}

func (c *commonFlags) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
	Int64Var(*int64, string, int64, string)
	IntVar(*int, string, int, string)
}) {
	fs.StringVar(&c.data, "data", "", "folder holding the four IDX .gz files (default: $FMNIST_DATA, the cache, Debian's package, then download)")
	fs.BoolVar(&c.noVerify, "no-verify", false, "skip the SHA-256 check of the data files (for your own variant of the files)")
	fs.StringVar(&c.config, "config", "", "JSON file with hyperparameters; see the config.json of any run for every key")
	fs.Int64Var(&c.seed, "seed", -1, "random seed for the split, initialisation and shuffling (default: the config's, 1)")
	fs.IntVar(&c.epochs, "epochs", 0, "epochs for every model, overriding the config (0: the config's)")
	fs.IntVar(&c.subset, "subset", 0, "train on only the first N training images, for a quick try (0: all)")
	fs.StringVar(&c.out, "out", "", "output folder (default runs/<timestamp>)")
}

// resolve builds the run config from defaults, the config file and flags.
func (c *commonFlags) resolve() (train.RunConfig, error) {
	cfg := train.DefaultConfig()
	if c.config != "" {
		b, err := os.ReadFile(c.config)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		if err := decodeConfig(b, &cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", c.config, err)
		}
	}
	if c.seed >= 0 {
		cfg.Seed = uint64(c.seed)
	}
	if c.epochs < 0 {
		return cfg, usageErrorf("--epochs %d: want a positive number", c.epochs)
	}
	if c.epochs > 0 {
		cfg.MLP.Train.Epochs, cfg.CNN.Train.Epochs, cfg.Head.Train.Epochs = c.epochs, c.epochs, c.epochs
	}
	if c.subset < 0 {
		return cfg, usageErrorf("--subset %d: want a positive number", c.subset)
	}
	if c.subset > 0 {
		cfg.Subset = c.subset
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageErrorf("%v", err)
	}
	if c.out == "" {
		c.out = filepath.Join("runs", time.Now().Format("20060102-150405"))
	}
	return cfg, nil
}

// decodeConfig reads JSON strictly: an unknown key is an error, since a
// typo would otherwise silently fall back to a default.
func decodeConfig(b []byte, cfg *train.RunConfig) error {
	dec := json.NewDecoder(bytesReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(cfg)
}

// loadData locates, verifies and decodes the dataset, saying where from.
func (c *commonFlags) loadData(log io.Writer) (*dataset.Fashion, error) {
	f, err := dataset.Load(dataset.Options{Dir: c.data, NoVerify: c.noVerify, Log: log})
	if err != nil {
		return nil, err
	}
	v := "verified (SHA-256)"
	if !f.Verified {
		v = "not verified"
	}
	fmt.Fprintf(log, "data: %s, %s\n", f.Source, v)
	return f, nil
}

func printShapes(w io.Writer, s *train.Splits) {
	for _, x := range []struct {
		name string
		set  *dataset.Set
	}{{"train", s.Train}, {"val", s.Val}, {"test", s.Test}} {
		fmt.Fprintf(w, "%-5s images (%d, 28, 28) uint8   labels (%d,) uint8\n", x.name, x.set.Len(), x.set.Len())
	}
	fmt.Fprintf(w, "normalised with the train split's mean %.4f and std %.4f\n", s.Mean, s.Std)
}

// stopOnSignal returns a Stop hook that turns true after SIGINT or SIGTERM,
// and a function that restores the default handling.
func stopOnSignal() (func() bool, func()) {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return func() bool { return ctx.Err() != nil }, cancel
}

func cmdRun(args []string) error {
	fs := newFlags("run", "run [flags]",
		"Runs the whole pipeline: locates and verifies the data, splits off a validation set, trains the MLP\n"+
			"on pixels, the five-convolution CNN, and an MLP on the CNN's features, then evaluates each once on\n"+
			"the test set with the weights of its best validation epoch. Writes config.json, metrics.csv,\n"+
			"results.json, predictions.csv and mlp/cnn/cnn_mlp.safetensors to the output folder.")
	var c commonFlags
	c.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := c.resolve()
	if err != nil {
		return err
	}
	f, err := c.loadData(os.Stderr)
	if err != nil {
		return err
	}
	splits, err := train.Prepare(f, cfg)
	if err != nil {
		return err
	}
	printShapes(os.Stdout, splits)
	stop, release := stopOnSignal()
	defer release()
	b := newBar(os.Stderr)
	start := time.Now()
	p := &train.Pipeline{Config: cfg, Data: splits, Out: c.out,
		Log: func(s string) { b.clear(); fmt.Fprintln(os.Stderr, s) },
		Hooks: train.Hooks{
			Progress: b.progress,
			Stop:     stop,
			Epoch:    func(r train.Record) { b.clear(); printEpoch(r) },
		}}
	res, err := p.Run()
	if errors.Is(err, train.ErrInterrupted) {
		return fmt.Errorf("interrupted; what finished so far is in %s", c.out)
	}
	if err != nil {
		return err
	}
	printResults(os.Stdout, res)
	opt := report.Options{ClassNames: dataset.ClassNames[:], Images: f.Test.Images, Labels: f.Test.Labels}
	if _, err := report.Build(c.out, opt); err != nil {
		return fmt.Errorf("report: %w (the models and metrics are saved in %s)", err, c.out)
	}
	fmt.Printf("wrote %s in %s; open %s\n", c.out, time.Since(start).Round(time.Second),
		filepath.Join(c.out, report.HTMLFile))
	return nil
}

func printResults(w io.Writer, res map[string]*train.ModelResult) {
	fmt.Fprintf(w, "\n%-8s %10s %10s %8s %10s %9s %9s\n", "model", "params", "best epoch", "epochs", "train time", "val acc", "test acc")
	for _, name := range []string{"mlp", "cnn", "cnn_mlp"} {
		r, ok := res[name]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "%-8s %10d %10d %8d %9.0fs %8.2f%% %8.2f%%\n", name, r.Params, r.BestEpoch, r.Epochs,
			r.TrainS, 100*r.ValAcc, 100*r.TestAcc)
	}
}

func printEpoch(r train.Record) {
	fmt.Printf("%-7s epoch %2d  train loss %.4f acc %.4f  val loss %.4f acc %.4f  lr %.4g  %.0f img/s  %.1fs\n",
		r.Model, r.Epoch, r.TrainLoss, r.TrainAcc, r.ValLoss, r.ValAcc, r.LR, r.ImgPerS, r.Seconds)
}
