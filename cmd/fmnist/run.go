package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/internal/runlock"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/pipeline"
	"github.com/fmnist/fmnist/report"
	"github.com/fmnist/fmnist/runfolder"
)

func init() {
	register(command{name: "run", order: 10, run: cmdRun,
		summary: "run the whole pipeline: data, MLP, CNN, CNN features + MLP, test results"})
}

// commonFlags are the data, config and checkpoint flags that run and train
// share.
type commonFlags struct {
	dataFlags
	recipe
	stdout, stderr io.Writer

	out    string
	keep   int
	resume string
	every  time.Duration

	lock *runlock.Lock // of out, held from resolve or openResume until release
}

// release gives up the output folder.
func (c *commonFlags) release() { c.lock.Release() }

// recipeFlags change what is trained: they conflict with --resume, which
// uses the config saved in the run folder.
var recipeFlags = []string{"config", "preset", "seed", "epochs", "subset", "out", "backbone"}

// recipe are the flags that choose what is trained and on what.
type recipe struct {
	config string
	preset string
	seed   int64
	epochs int
	subset int
}

func (r *recipe) register(fs *flag.FlagSet) {
	fs.StringVar(&r.preset, "preset", "default", "recipe to start from: "+strings.Join(pipeline.PresetNames(), ", ")+
		" (quick: a few epochs each, minutes instead of the default's half hour and more; long: the most this"+
		" architecture gets, about an hour; --config changes any of them further)")
	fs.StringVar(&r.config, "config", "", "JSON or YAML file with hyperparameters over the preset's; see the config.json of any run for every key")
	fs.Int64Var(&r.seed, "seed", -1, "random seed for the split, initialisation and shuffling (default: the config's, 1)")
	fs.IntVar(&r.epochs, "epochs", 0, "epochs for every model, overriding the config (0: the config's)")
	fs.IntVar(&r.subset, "subset", 0, "train on only the first N training images, for a quick try (0: all)")
}

// runConfig builds the run config from the preset, the config file and
// the flags, and checks it.
func (r *recipe) runConfig() (pipeline.RunConfig, error) {
	cfg, ok := pipeline.Preset(r.preset)
	if !ok {
		return cfg, usageErrorf("--preset %q: want %s", r.preset, strings.Join(pipeline.PresetNames(), " or "))
	}
	if r.config != "" {
		var err error
		if cfg, err = pipeline.ReadConfig(r.config, cfg); err != nil {
			return cfg, err
		}
	}
	if r.seed >= 0 {
		cfg.Seed = uint64(r.seed)
	} else if r.seed != -1 {
		return cfg, usageErrorf("--seed %d: want 0 or more", r.seed)
	}
	if r.epochs < 0 {
		return cfg, usageErrorf("--epochs %d: want a positive number", r.epochs)
	}
	if r.epochs > 0 {
		cfg.MLP.Train.Epochs, cfg.CNN.Train.Epochs, cfg.CNNMLP.Train.Epochs = r.epochs, r.epochs, r.epochs
	}
	if r.subset < 0 {
		return cfg, usageErrorf("--subset %d: want a positive number", r.subset)
	}
	if r.subset > 0 {
		cfg.Subset = r.subset
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageErrorf("%v", err)
	}
	return cfg, cfg.CheckMemory()
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	c.dataFlags.register(fs)
	c.recipe.register(fs)
	fs.StringVar(&c.out, "out", "", "output folder, new or empty (default runs/<timestamp>)")
	fs.IntVar(&c.keep, "keep", 2, "checkpoints to keep under OUT/checkpoints (one is written at the end of every epoch)")
	fs.StringVar(&c.resume, "resume", "", "continue the interrupted run in this folder from its last checkpoint, with its config")
	addMemBudget(fs)
	fs.DurationVar(&c.every, "progress-every", 30*time.Second, "when stderr is not a terminal, print a progress line this often (0: never)")
}

// check refuses arguments beyond the first nargs and validates the flags
// that do not need the config.
func (c *commonFlags) check(fs *flag.FlagSet, nargs int) error {
	if fs.NArg() > nargs {
		return usageErrorf("unexpected argument %q", fs.Arg(nargs))
	}
	if c.keep < 1 {
		return usageErrorf("--keep %d: want at least 1", c.keep)
	}
	if c.every < 0 {
		return usageErrorf("--progress-every %v: want 0 or more", c.every)
	}
	if c.resume == "" {
		return nil
	}
	var clash []string
	fs.Visit(func(f *flag.Flag) {
		for _, r := range recipeFlags {
			if f.Name == r {
				clash = append(clash, "--"+r)
			}
		}
	})
	if len(clash) > 0 {
		return usageErrorf("%s: --resume continues with the config and folder of %s; leave out what would change them",
			strings.Join(clash, ", "), c.resume)
	}
	return nil
}

// resolve builds the run config from defaults, the config file and flags,
// and prepares a new output folder.
func (c *commonFlags) resolve() (pipeline.RunConfig, error) {
	cfg, err := c.runConfig()
	if err != nil {
		return cfg, err
	}
	if c.out == "" {
		if c.out, err = newRunDir("runs", time.Now()); err != nil {
			return cfg, err
		}
	}
	c.lock, err = newOut(c.out)
	return cfg, err
}

// openResume reads the checkpoint of --resume and checks it is of cmd.
func (c *commonFlags) openResume(cmd string) (*pipeline.Checkpoint, error) {
	// Lock before reading, so that the checkpoint read is the last one.
	if st, err := os.Stat(c.resume); err == nil && st.IsDir() {
		if c.lock, err = runlock.Acquire(c.resume); err != nil {
			return nil, fmt.Errorf("--resume: %w", err)
		}
		if err := checkpoint.RemoveTemps(c.resume); err != nil {
			return nil, err
		}
		if err := checkpoint.RemoveTemps(filepath.Join(c.resume, runfolder.CheckpointDir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	ck, err := pipeline.LatestCheckpoint(c.resume)
	if err != nil {
		return nil, err
	}
	if ck.Command != cmd {
		return nil, usageErrorf("%s holds a run of `fmnist %s`: resume it with `fmnist %s --resume %s`",
			c.resume, ck.Command, ck.Command, c.resume)
	}
	if ck.Stage == "" {
		return nil, fmt.Errorf("%s: the run finished; there is nothing to resume", c.resume)
	}
	c.out = c.resume
	return ck, nil
}

// resumeCommand is the command line that continues this run.
func (c *commonFlags) resumeCommand(cmd string) string {
	args := []string{os.Args[0], cmd, "--resume", c.out}
	if c.dir != "" {
		args = append(args, "--data", c.dir)
	}
	if c.mirror != "" {
		args = append(args, "--mirror", c.mirror)
	}
	if c.noVerify {
		args = append(args, "--no-verify")
	}
	if c.keep != 2 {
		args = append(args, "--keep", fmt.Sprint(c.keep))
	}
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// stopped turns an interruption into the message that says how to resume.
func (c *commonFlags) stopped(cmd string, err error) error {
	var ie *fit.InterruptedError
	if !errors.As(err, &ie) {
		return err
	}
	if ie.Checkpoint == "" {
		return fmt.Errorf("%v; no checkpoint could be written, what finished is in %s", ie, c.out)
	}
	return fmt.Errorf("%v; resume with: %s", ie, c.resumeCommand(cmd))
}

// dropPrefix passes on the writes that do not start with prefix; the
// dataset package writes its notes a line at a time.
type dropPrefix struct {
	w      io.Writer
	prefix string
}

func (d dropPrefix) Write(b []byte) (int, error) {
	if strings.HasPrefix(string(b), d.prefix) {
		return len(b), nil
	}
	return d.w.Write(b)
}

func printShapes(println func(string), s *pipeline.Splits) {
	for _, x := range []struct {
		name string
		set  *dataset.Set
	}{{"train", s.Train}, {"val", s.Val}, {"test", s.Test}} {
		println(fmt.Sprintf("%-5s images (%d, 28, 28) uint8   labels (%d,) uint8", x.name, x.set.Len(), x.set.Len()))
	}
	println(fmt.Sprintf("normalised with the train split's mean %.4f and std %.4f", s.Mean, s.Std))
}

// stopOnSignal returns a Stop hook that turns true after SIGINT or SIGTERM,
// a function that says which signal it was (nil before one), and a
// function that restores the default handling. After the first signal the
// default handling is back, so a second one ends the process at once
// (checkpoints are written atomically, so that loses nothing saved).
func stopOnSignal(log func(string)) (stop func() bool, caught func() os.Signal, release func()) {
	var got atomic.Value
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			got.Store(s)
			signal.Stop(ch)
			log(fmt.Sprintf("%v: stopping after this step to save a checkpoint (again to quit at once)", s))
		case <-done:
		}
	}()
	var once sync.Once
	caught = func() os.Signal {
		s, _ := got.Load().(os.Signal)
		return s
	}
	return func() bool { return caught() != nil }, caught, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
		})
	}
}

// exitError carries the exit code of an error other than 1 or 2: 128 plus
// the number of the signal that stopped a run, as shells expect.
type exitError struct {
	err  error
	code int
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// signalCode is the exit code of a process ended by s: 130 for SIGINT.
func signalCode(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 1
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "run [flags]",
		"Runs the whole pipeline: locates and verifies the data, splits off a validation set, trains the MLP\n"+
			"on pixels, the five-convolution CNN, and an MLP on the CNN's features, then evaluates each once on\n"+
			"the test set with the weights of its best validation epoch. Writes config.json, metrics.csv,\n"+
			"timing.csv, results.json, predictions.csv and mlp/cnn/cnn_mlp.safetensors to the output folder.\n\n"+
			"A checkpoint is saved under OUT/checkpoints at the end of every epoch and on SIGINT or SIGTERM\n"+
			"(after the current step); --resume OUT continues from the last one and ends with the same files\n"+
			"as a run that was never stopped.")
	c := commonFlags{stdout: stdout, stderr: stderr}
	defer c.release()
	c.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := c.check(fs, 0); err != nil {
		return err
	}
	var cfg pipeline.RunConfig
	var ck *pipeline.Checkpoint
	var err error
	if c.resume != "" {
		if ck, err = c.openResume("run"); err != nil {
			return err
		}
		cfg = ck.Config
	} else if cfg, err = c.resolve(); err != nil {
		return err
	}
	f, err := c.loadNoted(stderr)
	if err != nil {
		return err
	}
	splits, err := pipeline.Prepare(f, cfg)
	if err != nil {
		return err
	}
	start := time.Now()
	p, ses := c.newPipeline("run", cfg, splits, ck, pipeline.Stages)
	defer ses.release()
	res, err := p.Run()
	ses.release()
	if err != nil {
		return ses.stopped(&c, "run", err)
	}
	printResults(stdout, res, p.Records())
	opt := report.Options{ClassNames: dataset.ClassNames[:], Images: f.Test.Images, Labels: f.Test.Labels,
		ReferenceEpochs: referenceEpochs()}
	if _, err := report.Build(c.out, opt); err != nil {
		return fmt.Errorf("report: %w (the models and metrics are saved in %s)", err, c.out)
	}
	fmt.Fprintf(stdout, "wrote %s in %s; open %s\n", c.out, time.Since(start).Round(time.Second),
		filepath.Join(c.out, report.HTMLFile))
	return nil
}

// session is what a training command sets up around its pipeline: the
// progress display and the signal handler.
type session struct {
	bar     *bar
	caught  func() os.Signal
	release func()
}

// newPipeline prints the split shapes and sets up the pipeline of cmd,
// which trains stages, with the progress bar, the per-epoch lines and the
// SIGINT/SIGTERM hook. cfg is also what the ETA is planned from.
func (c *commonFlags) newPipeline(cmd string, cfg pipeline.RunConfig, splits *pipeline.Splits, ck *pipeline.Checkpoint,
	stages []string) (*pipeline.Pipeline, *session) {
	eta := &runETA{stages: planStages(cfg, stages, splits.Train.Len(), splits.Val.Len(), splits.Test.Len())}
	b := newBar(c.stderr, c.every, eta)
	printShapes(b.line, splits)
	stop, caught, release := stopOnSignal(b.line)
	p := &pipeline.Pipeline{Config: cfg, Data: splits, Out: c.out, Keep: c.keep, Command: cmd, Resume: ck,
		Log: b.line,
		Hooks: fit.Hooks{
			Progress: b.progress,
			Stop:     stop,
			Epoch:    b.epoch,
		}}
	return p, &session{bar: b, caught: caught, release: func() { release(); b.clear() }}
}

// stopped turns an interruption into the message that says how to resume,
// with the exit code of the signal that caused it.
func (s *session) stopped(c *commonFlags, cmd string, err error) error {
	sig := s.caught()
	if sig == nil || !errors.Is(err, fit.ErrInterrupted) {
		return c.stopped(cmd, err)
	}
	return &exitError{err: c.stopped(cmd, err), code: signalCode(sig)}
}

// cnnMarks are the validation accuracies whose time to reach printResults
// reports for the CNN.
var cnnMarks = []float64{0.93, 0.94, 0.945, 0.95}

func printResults(w io.Writer, res map[string]*runfolder.Result, recs []fit.Record) {
	// 58 columns, to fit a 60-column terminal.
	fmt.Fprintf(w, "\n%-8s %9s %6s %7s %6s %8s %8s\n", "model", "params", "epochs", "best ep", "train", "val acc", "test acc")
	for _, name := range model.Names {
		r, ok := res[name]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "%-8s %9d %6d %7d %5.0fs %7.2f%% %7.2f%%\n", name, r.Params, r.Epochs, r.BestEpoch,
			r.TrainS, 100*r.ValAcc, 100*r.TestAcc)
	}
	if _, ok := res["cnn"]; ok {
		s := "cnn time to val acc:"
		for _, r := range fit.TimeToAccuracy(recs, "cnn", cnnMarks) {
			if r.Epoch == 0 {
				s += fmt.Sprintf("  %.1f%% not reached", 100*r.Mark)
				continue
			}
			s += fmt.Sprintf("  %.1f%% epoch %d, %.0fs", 100*r.Mark, r.Epoch, r.Seconds)
		}
		if isTerminal(w) {
			s = wrapFields(s, termWidth(w))
		}
		fmt.Fprintln(w, s)
	}
}
