package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/tensor"
)

func init() {
	register(command{name: "data", order: 20, run: dataMain,
		summary: "find and check the dataset; print its splits, class counts and pixel statistics",
		subs:    [][2]string{{"export", "write sample images of a split as PNG files, e.g. for predict"}}})
}

// dataSplit is one split as --json prints it.
type dataSplit struct {
	Name        string               `json:"name"`
	Images      []int                `json:"images"` // numpy shape, uint8
	Labels      []int                `json:"labels"` // numpy shape, uint8
	DType       string               `json:"dtype"`
	ClassCounts [dataset.Classes]int `json:"class_counts"`
}

// dataInfo is what `fmnist data` reports.
type dataInfo struct {
	Source    string                  `json:"source"` // dir, env, cache, debian or download
	Where     string                  `json:"where"`
	Dir       string                  `json:"dir"`
	Verified  bool                    `json:"verified"`
	Seed      uint64                  `json:"seed"`
	Classes   [dataset.Classes]string `json:"classes"`
	Splits    []dataSplit             `json:"splits"` // train, val, test
	TrainMean float64                 `json:"train_mean"`
	TrainStd  float64                 `json:"train_std"`
}

func dataMain(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "export" {
		return exportMain(args[1:], stdout, stderr)
	}
	fs := newFlags("data", "data [flags]\n       fmnist data export [flags] DIR",
		"Finds the Fashion-MNIST files (--data, $FMNIST_DATA, the cache folder, Debian's package, or a\n"+
			"download into the cache), checks them, splits the training set into train and validation, and\n"+
			"prints the shapes, the class counts and the train split's pixel mean and std.\n"+
			"'fmnist data export' writes sample images as PNG files; see 'fmnist data export --help'.")
	fs.SetOutput(stderr)
	var data dataFlags
	data.register(fs)
	seed := fs.Int64("seed", 1, "seed of the train/validation split (as run's --seed)")
	nVal := fs.Int("val", 10000, "validation items taken from the 60,000 training items")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q", fs.Arg(0))
	}
	if *nVal < 0 {
		return usageErrorf("--val %d: want 0 or more", *nVal)
	}
	if *seed < 0 {
		return usageErrorf("--seed %d: want 0 or more", *seed)
	}
	f, err := data.load(stderr)
	if err != nil {
		return err
	}
	if *nVal >= f.Train.Len() {
		return usageErrorf("--val %d: the training set has %d items, and some must stay for training", *nVal, f.Train.Len())
	}
	train, val, err := dataset.Split(f.Train, *nVal, uint64(*seed))
	if err != nil {
		return err
	}
	info := dataInfo{Source: f.Kind.String(), Where: f.Source, Dir: f.Dir, Verified: f.Verified,
		Seed: uint64(*seed), Classes: dataset.ClassNames}
	for _, s := range []struct {
		name string
		set  *dataset.Set
	}{{"train", train}, {"val", val}, {"test", f.Test}} {
		info.Splits = append(info.Splits, dataSplit{Name: s.name, Images: s.set.ImageShape(),
			Labels: s.set.LabelShape(), DType: "uint8", ClassCounts: s.set.ClassCounts()})
	}
	info.TrainMean, info.TrainStd = dataset.Stats(train)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	printData(stdout, &info)
	return nil
}

func printData(w io.Writer, d *dataInfo) {
	verified := "yes, SHA-256 of the decompressed files"
	if d.Source == dataset.FromDownload.String() {
		verified += " and MD5 of the downloads"
	}
	if !d.Verified {
		verified = "no (--no-verify)"
	}
	fmt.Fprintf(w, "source    %s: %s\n", d.Source, d.Where)
	fmt.Fprintf(w, "verified  %s\n", verified)
	fmt.Fprintf(w, "split     seed %d, stratified by class\n\n", d.Seed)
	for _, s := range d.Splits {
		fmt.Fprintf(w, "%s images %s %s\n", s.Name, tensor.ShapeString(s.Images), s.DType)
		fmt.Fprintf(w, "%s labels %s %s\n", s.Name, tensor.ShapeString(s.Labels), s.DType)
	}
	fmt.Fprintf(w, "\n%-16s", "class")
	for _, s := range d.Splits {
		fmt.Fprintf(w, " %6s", s.Name)
	}
	fmt.Fprintln(w)
	for c, name := range d.Classes {
		fmt.Fprintf(w, "%d %-14s", c, name)
		for _, s := range d.Splits {
			fmt.Fprintf(w, " %6d", s.ClassCounts[c])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\ntrain pixels (/255)  mean %.4f  std %.4f\n", d.TrainMean, d.TrainStd)
}
