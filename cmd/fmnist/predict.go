package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"fmnist/dataset"
	"fmnist/imageprep"
	"fmnist/train"
)

func init() {
	register(command{name: "predict", order: 45, run: cmdPredict,
		summary: "classify PNG, JPEG or GIF pictures with a saved model"})
}

func cmdPredict(args []string) error { return predictMain(args, os.Stdout, os.Stderr) }

// predClass is one of an image's top classes.
type predClass struct {
	Class int     `json:"class"`
	Name  string  `json:"name"`
	Prob  float64 `json:"prob"`
}

// predImage is one image's result, or its error.
type predImage struct {
	File     string      `json:"file"`
	Top      []predClass `json:"top,omitempty"`
	Inverted bool        `json:"inverted,omitempty"`
	Logits   []float32   `json:"logits,omitempty"`
	Error    string      `json:"error,omitempty"`
}

// predOutput is what --json prints.
type predOutput struct {
	Model  string      `json:"model"`
	Kind   string      `json:"kind"`
	Images []predImage `json:"images"`
}

// predictBatch bounds the memory of a long list of pictures.
const predictBatch = 256

func predictMain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("predict", "predict [flags] MODEL.safetensors IMAGE...",
		"Classifies pictures (PNG, JPEG or GIF, any size and colour) with a model file written by run or\n"+
			"train, and prints each one's top classes with their probabilities. A picture is made to look like\n"+
			"a Fashion-MNIST item first: gray, light on dark (--invert), cropped to the article, its longer side\n"+
			"scaled to 28 pixels and centred; a 28×28 picture is only made gray (and inverted if asked), so\n"+
			"the images of 'fmnist data export' get the classes that eval gives them.\n\n"+
			"A picture that cannot be read is reported on stderr, one line naming it, and the others are still\n"+
			"classified; the exit code is then 1.")
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object: {model, kind, images: [{file, top: [{class, name, prob}], inverted} or {file, error}]}")
	invert := fs.String("invert", "auto", "negate the picture: auto (when its border is light), yes or no")
	addMemBudget(fs)
	top := fs.Int("top", 3, "classes to print per picture")
	logits := fs.Bool("logits", false, "add each picture's raw logits to the --json output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return usageErrorf("want a model file and at least one image, got %d arguments", fs.NArg())
	}
	inv, err := imageprep.ParseInvert(*invert)
	if err != nil {
		return usageErrorf("--invert %q: want auto, yes or no", *invert)
	}
	if *top < 1 {
		return usageErrorf("--top %d: want 1 or more", *top)
	}
	if *logits && !*asJSON {
		return usageErrorf("--logits needs --json")
	}
	modelPath, files := fs.Arg(0), fs.Args()[1:]
	l, err := train.LoadModel(modelPath)
	if err != nil {
		return err
	}
	mean, std, err := train.PixelNorm(l.Meta)
	if err != nil {
		return fmt.Errorf("%s: %w", modelPath, err)
	}

	out := predOutput{Model: modelPath, Kind: l.Kind, Images: make([]predImage, len(files))}
	var pixels []uint8
	var good []int // indices into files of the prepared pictures, in order
	for i, path := range files {
		out.Images[i].File = path
		r, err := imageprep.File(path, imageprep.Options{Invert: inv})
		if err != nil {
			out.Images[i].Error = err.Error()
			fmt.Fprintf(stderr, "fmnist predict: %v\n", err)
			continue
		}
		out.Images[i].Inverted = r.Inverted
		pixels = append(pixels, r.Pixels[:]...)
		good = append(good, i)
	}
	if len(good) > 0 {
		// The dataset's loader normalises exactly as eval does.
		set, err := dataset.NewSet(pixels, make([]uint8, len(good)))
		if err != nil {
			return err
		}
		ld := dataset.NewLoader(set, dataset.LoaderConfig{Batch: predictBatch, Mean: mean, Std: std})
		k := 0
		for {
			x, _, ok := ld.Next()
			if !ok {
				break
			}
			lg := l.Predictor.Predict(x)
			classes := lg.Shape[1]
			for b := range lg.Shape[0] {
				row := lg.Data[b*classes : (b+1)*classes]
				im := &out.Images[good[k]]
				im.Top = topClasses(row, *top)
				if *logits {
					im.Logits = append([]float32(nil), row...)
				}
				k++
			}
		}
	}

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		for _, im := range out.Images {
			if im.Error != "" {
				continue
			}
			parts := make([]string, len(im.Top))
			for j, c := range im.Top {
				parts[j] = fmt.Sprintf("%s %.3f", c.Name, c.Prob)
			}
			note := ""
			if im.Inverted {
				note = " (inverted)"
			}
			fmt.Fprintf(stdout, "%s%s: %s\n", im.File, note, strings.Join(parts, ", "))
		}
	}
	if bad := len(files) - len(good); bad > 0 {
		return fmt.Errorf("%d of %d images could not be read", bad, len(files))
	}
	return nil
}

// topClasses returns the k most probable classes of a row of logits
// (softmax in float64), ties to the lower class.
func topClasses(row []float32, k int) []predClass {
	hi := row[0]
	for _, v := range row {
		hi = max(hi, v)
	}
	var sum float64
	probs := make([]float64, len(row))
	for j, v := range row {
		probs[j] = math.Exp(float64(v - hi))
		sum += probs[j]
	}
	cs := make([]predClass, len(row))
	for j := range row {
		name := fmt.Sprintf("class %d", j)
		if j < len(dataset.ClassNames) {
			name = dataset.ClassNames[j]
		}
		cs[j] = predClass{Class: j, Name: name, Prob: probs[j] / sum}
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].Prob > cs[b].Prob })
	return cs[:min(k, len(cs))]
}
