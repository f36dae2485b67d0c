package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fmnist/fmnist/classifier"
	"github.com/fmnist/fmnist/imageprep"
)

func init() {
	register(command{name: "predict", order: 45, run: predictMain,
		summary: "classify PNG, JPEG or GIF pictures with a saved model"})
}

// predClass is one of an image's top classes.
type predClass = classifier.Class

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
	// One replica: the pictures are classified in one call, in order.
	c, err := classifier.LoadOptions(modelPath, classifier.Options{Replicas: 1})
	if err != nil {
		if !strings.HasSuffix(modelPath, ".safetensors") && slices.ContainsFunc(files, func(f string) bool {
			return strings.HasSuffix(f, ".safetensors")
		}) {
			return fmt.Errorf("%w; the model file comes first: fmnist predict MODEL.safetensors IMAGE...", err)
		}
		return err
	}

	out := predOutput{Model: modelPath, Kind: c.Kind(), Images: make([]predImage, len(files))}
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
	preds, err := c.ClassifyPixels(pixels)
	if err != nil {
		return err
	}
	for k, p := range preds {
		im := &out.Images[good[k]]
		im.Top = p.Top(*top)
		if *logits {
			im.Logits = p.Logits
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

// topClasses returns the k most probable classes of a row of logits.
func topClasses(row []float32, k int) []predClass { return classifier.FromLogits(row).Top(k) }
