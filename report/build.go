package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/fmnist/fmnist/dataset"
	trainfit "github.com/fmnist/fmnist/fit" // grid.go has a func fit
	"github.com/fmnist/fmnist/runfolder"
)

// The run folder's types, under the names this package's API has always
// used for them.
type (
	Run        = runfolder.Run
	Epoch      = trainfit.Record
	Result     = runfolder.Result
	Prediction = runfolder.Prediction
)

// NumClasses is the number of Fashion-MNIST classes; labels are 0..NumClasses-1.
const NumClasses = dataset.Classes

// DefaultMistakes is how many mistakes a grid shows when Options.Mistakes is 0.
const DefaultMistakes = 36

// MaxMistakes caps Options.Mistakes: every mistake is a picture embedded in
// report.html, and past a thousand the page is no longer one to read.
const MaxMistakes = 1000

// Options are the inputs of Build beyond the run folder.
type Options struct {
	// Images is the test set that predictions.csv indexes: N images of
	// 28x28 bytes, row-major. Nil leaves out the mistakes grids.
	Images []uint8
	// Labels, if set, are the test labels; predictions.csv must agree
	// with them, which catches a report built against the wrong test set.
	Labels []uint8
	// ClassNames names the NumClasses classes; nil means dataset.ClassNames.
	ClassNames []string
	// Mistakes is how many mistakes each grid shows; 0 means
	// DefaultMistakes.
	Mistakes int
	// ReferenceEpochs are each model's epochs in the recipe whose results a
	// reader expects (fmnist passes its default preset's). A run that gives
	// a model fewer, or trains on a subset, is flagged at the top of the
	// page. Nil compares no epochs.
	ReferenceEpochs map[string]int
}

// Output files, relative to the run folder.
const (
	PlotsDir     = "plots"
	PerClassFile = "per_class.csv"
	HTMLFile     = "report.html"
)

// Build reads the run folder dir (see runfolder.Read), writes the plots, per_class.csv
// and report.html into it, and returns the paths written, relative to dir,
// in the order written. Each file is written to a temporary file and renamed,
// so a failed build leaves earlier files whole.
func Build(dir string, opt Options) ([]string, error) {
	names, err := opt.check()
	if err != nil {
		return nil, err
	}
	run, err := runfolder.Read(dir)
	if err != nil {
		return nil, err
	}
	if err := checkPredictions(run, opt); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, PlotsDir), 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	b := &builder{dir: dir, run: run, opt: opt, names: names}
	page, err := b.page()
	if err != nil {
		return nil, err
	}
	if err := b.write(PerClassFile, b.perClassCSV()); err != nil {
		return nil, err
	}
	var html bytes.Buffer
	if err := pageTemplate.Execute(&html, page); err != nil {
		return nil, fmt.Errorf("report: %s: %w", HTMLFile, err)
	}
	if err := b.write(HTMLFile, html.Bytes()); err != nil {
		return nil, err
	}
	return b.written, b.removeStale()
}

// removeStale deletes the plots an earlier build wrote for these models
// that this build did not (say, a grid before --no-images), so the folder
// matches the page.
func (b *builder) removeStale() error {
	for _, m := range b.run.Models {
		for _, suffix := range []string{"_curves.png", "_curves.svg", "_confusion.png", "_confusion.svg", "_errors.png"} {
			rel := PlotsDir + "/" + m + suffix
			if slices.Contains(b.written, rel) {
				continue
			}
			if err := os.Remove(filepath.Join(b.dir, rel)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("report: %w", err)
			}
		}
	}
	return nil
}

func (o Options) check() ([]string, error) {
	names := o.ClassNames
	if names == nil {
		names = dataset.ClassNames[:]
	}
	if len(names) != NumClasses {
		return nil, fmt.Errorf("report: %d class names, want %d", len(names), NumClasses)
	}
	if len(o.Images)%imagePixels != 0 {
		return nil, fmt.Errorf("report: test images: %d bytes, not a whole number of %dx%d images", len(o.Images), ImageSide, ImageSide)
	}
	if o.Images != nil && o.Labels != nil && len(o.Labels) != len(o.Images)/imagePixels {
		return nil, fmt.Errorf("report: %d test labels for %d test images", len(o.Labels), len(o.Images)/imagePixels)
	}
	if o.Mistakes < 0 || o.Mistakes > MaxMistakes {
		return nil, fmt.Errorf("report: mistakes %d, want 0 to %d", o.Mistakes, MaxMistakes)
	}
	return names, nil
}

// checkPredictions holds predictions.csv against the test set given.
func checkPredictions(run *Run, opt Options) error {
	path := filepath.Join(run.Dir, runfolder.PredictionsFile)
	n := -1
	if opt.Images != nil {
		n = len(opt.Images) / imagePixels
	} else if opt.Labels != nil {
		n = len(opt.Labels)
	}
	for _, m := range run.Models {
		for _, p := range run.Predictions[m] {
			if n >= 0 && p.Index >= n {
				return fmt.Errorf("report: %w", runfolder.ContentError(path, 0,
					"model %s: test index %d, but the test set has %d images", m, p.Index, n))
			}
			if opt.Labels != nil && opt.Labels[p.Index] != p.Label {
				return fmt.Errorf("report: %w", runfolder.ContentError(path, 0,
					"model %s: test image %d has label %d, the test set says %d (another test set?)",
					m, p.Index, p.Label, opt.Labels[p.Index]))
			}
		}
	}
	return nil
}

type builder struct {
	dir     string
	run     *Run
	opt     Options
	names   []string
	written []string
}

// write stores data at rel (relative to the run folder) through a
// temporary file in the same folder, synced and renamed.
func (b *builder) write(rel string, data []byte) (err error) {
	path := filepath.Join(b.dir, rel)
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("report: %s: %w", path, err)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	b.written = append(b.written, filepath.ToSlash(rel))
	return nil
}

// figure writes f as plots/<base>.png and .svg and returns the PNG.
func (b *builder) figure(base string, f figure) ([]byte, error) {
	pngData, err := f.png()
	if err != nil {
		return nil, err
	}
	svgData, err := f.svg()
	if err != nil {
		return nil, err
	}
	if err := b.write(filepath.Join(PlotsDir, base+".png"), pngData); err != nil {
		return nil, err
	}
	if err := b.write(filepath.Join(PlotsDir, base+".svg"), svgData); err != nil {
		return nil, err
	}
	return pngData, nil
}

// perClassCSV is one row per model and class, in model order.
func (b *builder) perClassCSV() []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"model", "class", "name", "precision", "recall", "f1", "support", "predicted"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
	for _, m := range b.run.Models {
		preds := b.run.Predictions[m]
		if len(preds) == 0 {
			continue
		}
		for k, s := range NewConfusion(preds, NumClasses).PerClass() {
			w.Write([]string{m, strconv.Itoa(k), b.names[k], f(s.Precision), f(s.Recall), f(s.F1),
				strconv.Itoa(s.Support), strconv.Itoa(s.Predicted)})
		}
	}
	w.Flush()
	return buf.Bytes()
}
