// Package reporttest writes synthetic run folders, laid out exactly as
// `fmnist run` leaves them, for the tests of report and of the command line.
//
// The content is made up but consistent: results.json's test accuracy is
// the one predictions.csv gives, its best epoch the one with the highest
// validation accuracy in metrics.csv, and the same Spec always gives the
// same bytes.
package reporttest

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/report"
	"github.com/fmnist/fmnist/runfolder"
)

// Spec describes a run folder to write. Zero fields take the defaults.
type Spec struct {
	// Models trained; default mlp, cnn, cnn_mlp.
	Models []string
	// Per-file model lists, to write folders where the files disagree;
	// nil means Models.
	MetricsModels, ResultsModels, PredictionModels []string
	// NoResults and NoPredictions leave out results.json or
	// predictions.csv, as an interrupted run does.
	NoResults, NoPredictions bool
	// NoTiming leaves out timing.csv.
	NoTiming bool
	// Epochs per model; default 4.
	Epochs int
	// Labels of the test set the predictions are for; when nil, a set of
	// Images synthetic images is made (default 200).
	Labels []uint8
	Images int
	// Seed of the made-up numbers.
	Seed uint64
}

// Run is what Write wrote, for tests to compare against.
type Run struct {
	// Images and Labels are the synthetic test set (Images is nil when
	// Spec.Labels was given).
	Images, Labels []uint8
	Results        map[string]runfolder.Result
	Predictions    map[string][]runfolder.Prediction
	Metrics        map[string][]fit.Record
}

// Config is the config.json Write writes. It holds characters that HTML
// must escape.
const Config = `{"seed": 1, "val": 5000, "note": "<b>escaped</b> & \"quoted\"",
 "mlp": {"hidden": [256, 128], "lr": 0.1}, "cnn": {"channels": [32, 64], "epochs": 4}}`

// accuracy per model: different, so the tables differ.
var accuracy = map[string]float64{"mlp": 0.84, "cnn": 0.91, "cnn_mlp": 0.92}

// TempRun writes a run folder of s into a new temporary folder of t and
// returns its path with what was written.
func TempRun(t testing.TB, s Spec) (string, *Run) {
	t.Helper()
	dir := t.TempDir()
	r, err := Write(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	return dir, r
}

// Write writes config.json, metrics.csv, timing.csv, results.json and
// predictions.csv into dir, which must exist.
func Write(dir string, s Spec) (*Run, error) {
	if s.Models == nil {
		s.Models = slices.Clone(model.Names)
	}
	if s.MetricsModels == nil {
		s.MetricsModels = s.Models
	}
	if s.ResultsModels == nil {
		s.ResultsModels = s.Models
	}
	if s.PredictionModels == nil {
		s.PredictionModels = s.Models
	}
	if s.Epochs == 0 {
		s.Epochs = 4
	}
	if s.Images == 0 {
		s.Images = 200
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x5eed))
	out := &Run{Results: map[string]runfolder.Result{}, Predictions: map[string][]runfolder.Prediction{},
		Metrics: map[string][]fit.Record{}}
	if s.Labels != nil {
		out.Labels = s.Labels
	} else {
		out.Labels = make([]uint8, s.Images)
		for i := range out.Labels {
			out.Labels[i] = uint8(rng.IntN(dataset.Classes))
		}
		out.Images = Images(out.Labels, s.Seed)
	}

	// metrics.csv: losses fall and accuracies rise, with a little noise.
	var recs []fit.Record
	for _, m := range s.MetricsModels {
		top := acc(m)
		for e := 1; e <= s.Epochs; e++ {
			f := float64(e) / float64(s.Epochs)
			ep := fit.Record{
				Model:     m,
				Epoch:     e,
				TrainLoss: 0.9*math.Exp(-2*f) + 0.05*rng.Float64(),
				TrainAcc:  math.Min(1, top-0.2*math.Exp(-3*f)+0.04+0.01*rng.Float64()),
				ValLoss:   0.9*math.Exp(-1.6*f) + 0.1 + 0.05*rng.Float64(),
				ValAcc:    math.Min(1, top-0.2*math.Exp(-3*f)+0.01*rng.Float64()),
				LR:        0.1 * math.Cos(math.Pi/2*float64(e-1)/float64(s.Epochs)),
				ImgPerS:   5000 + 1000*rng.Float64(),
				Seconds:   10 + rng.Float64(),
			}
			out.Metrics[m] = append(out.Metrics[m], ep)
			recs = append(recs, ep)
		}
	}

	// predictions.csv: right with the model's accuracy; a mistake goes to a
	// neighbouring class more often, as real confusions cluster.
	for _, m := range s.PredictionModels {
		top := acc(m)
		for i, l := range out.Labels {
			p := runfolder.Prediction{Index: i, Label: l, Pred: l}
			if rng.Float64() < top {
				p.Prob = 0.5 + 0.5*rng.Float64()
			} else {
				d := 1 + rng.IntN(dataset.Classes-1)
				if rng.IntN(2) == 0 {
					d = 1
				}
				p.Pred = uint8((int(l) + d) % dataset.Classes)
				p.Prob = 0.3 + 0.7*rng.Float64()
			}
			// Round as the file does, so tests compare equal values.
			p.Prob, _ = strconv.ParseFloat(strconv.FormatFloat(p.Prob, 'f', 5, 32), 64)
			out.Predictions[m] = append(out.Predictions[m], p)
		}
	}

	for _, m := range s.ResultsModels {
		r := runfolder.Result{Epochs: s.Epochs, Params: 100000 + 12345*len(m), TestLoss: 0.3 + rng.Float64()/10}
		best := -1.0
		for _, e := range out.Metrics[m] {
			r.TrainS += e.Seconds
			if e.ValAcc > best {
				best, r.BestEpoch, r.ValAcc = e.ValAcc, e.Epoch, e.ValAcc
			}
		}
		if ps := out.Predictions[m]; len(ps) > 0 {
			right := 0
			for _, p := range ps {
				if p.Pred == p.Label {
					right++
				}
			}
			r.TestAcc = float64(right) / float64(len(ps))
		} else {
			r.TestAcc = acc(m)
		}
		out.Results[m] = r
	}

	if err := os.WriteFile(filepath.Join(dir, runfolder.ConfigFile), []byte(Config+"\n"), 0o644); err != nil {
		return nil, err
	}
	if err := runfolder.WriteMetrics(dir, recs); err != nil {
		return nil, err
	}
	if s.NoTiming {
		if err := os.Remove(filepath.Join(dir, runfolder.TimingFile)); err != nil {
			return nil, err
		}
	}
	if !s.NoPredictions {
		if err := runfolder.WritePredictions(dir, s.PredictionModels, out.Predictions); err != nil {
			return nil, err
		}
	} else {
		out.Predictions = map[string][]runfolder.Prediction{}
	}
	if !s.NoResults {
		res := map[string]*runfolder.Result{}
		for m, r := range out.Results {
			res[m] = &r
		}
		if err := runfolder.WriteResults(dir, res); err != nil {
			return nil, err
		}
	} else {
		out.Results = map[string]runfolder.Result{}
	}
	return out, nil
}

func acc(m string) float64 {
	if a, ok := accuracy[m]; ok {
		return a
	}
	return 0.8
}

// Images draws one 28x28 image per label: a bright shape whose size and
// form depend on the class, on a dark background with faint noise, so a
// grid of them shows which class is which.
func Images(labels []uint8, seed uint64) []uint8 {
	const side = report.ImageSide
	rng := rand.New(rand.NewPCG(seed, 0x1a9e))
	out := make([]uint8, len(labels)*side*side)
	for i, l := range labels {
		img := out[i*side*side : (i+1)*side*side]
		w := 6 + 2*int(l)%18 // class width
		h := 22 - int(l)
		x0, y0 := (side-w)/2, (side-h)/2
		for y := range side {
			for x := range side {
				v := rng.IntN(24)
				in := x >= x0 && x < x0+w && y >= y0 && y < y0+h
				switch {
				case in && l%2 == 0: // filled
					v = 180 + rng.IntN(70)
				case in && (x == x0 || x == x0+w-1 || y == y0 || y == y0+h-1): // outlined
					v = 230
				}
				img[y*side+x] = uint8(v)
			}
		}
	}
	return out
}
