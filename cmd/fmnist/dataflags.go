package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/fmnist/fmnist/dataset"
)

// dataFlags say where the dataset comes from: the same three flags, with
// the same words, in every command that reads it.
type dataFlags struct {
	dir, mirror string
	noVerify    bool
}

func (d *dataFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.dir, "data", "", "folder holding the four IDX files, .gz or raw (default: $"+dataset.EnvVar+
		", the cache, Debian's package, then a download)")
	fs.StringVar(&d.mirror, "mirror", "", "base URL to download the files from when they are nowhere here (default: $"+
		dataset.MirrorEnv+", else the official mirror); checked against the official SHA-256 sums all the same")
	fs.BoolVar(&d.noVerify, "no-verify", false, "skip the SHA-256 check of local data files, for your own variant "+
		"of them (a download is always checked)")
}

// options are the dataset.Options the flags ask for, log getting the
// dataset package's lines. A mirror that is no URL is a usage error even
// when the files are found without it.
func (d *dataFlags) options(log io.Writer) (dataset.Options, error) {
	if err := dataset.CheckMirror(d.mirror); err != nil {
		return dataset.Options{}, usageErrorf("%v", err)
	}
	return dataset.Options{Dir: d.dir, BaseURL: d.mirror, NoVerify: d.noVerify, Log: log}, nil
}

// load locates, verifies and decodes the dataset.
func (d *dataFlags) load(log io.Writer) (*dataset.Fashion, error) {
	opt, err := d.options(log)
	if err != nil {
		return nil, err
	}
	return dataset.Load(opt)
}

// loadNoted is load, saying where the files came from once: the dataset
// package's own "using" note is left out for the line that also says
// whether the files were checked.
func (d *dataFlags) loadNoted(log io.Writer) (*dataset.Fashion, error) {
	f, err := d.load(dropPrefix{log, "dataset: using "})
	if err != nil {
		return nil, err
	}
	v := "verified (SHA-256)"
	if !f.Verified {
		v = "not verified"
	}
	line := fmt.Sprintf("data: %s, %s", f.Source, v)
	if isTerminal(log) {
		line = wrapFields(line, termWidth(log))
	}
	fmt.Fprintln(log, line)
	return f, nil
}
