package report

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/runfolder"
)

// A config as a run writes it, with the stages' epochs and regularisers.
func testConfig(subset, mlpEpochs, cnnEpochs, headEpochs int) string {
	stage := func(epochs int, dropout, smoothing float64, pad int) string {
		return `{"model": {"kind": "mlp", "dropout": ` + strconv.FormatFloat(dropout, 'g', -1, 64) + `}, "train": {"epochs": ` + strconv.Itoa(epochs) +
			`, "label_smoothing": ` + strconv.FormatFloat(smoothing, 'g', -1, 64) + `}, "augment": {"pad": ` + strconv.Itoa(pad) + `, "flip": false, "erase": 0}}`
	}
	return `{"seed": 7, "val": 10000, "subset": ` + strconv.Itoa(subset) + `, "mlp": ` + stage(mlpEpochs, 0.3, 0.1, 0) +
		`, "cnn": ` + stage(cnnEpochs, 0, 0.1, 2) + `, "head": ` + stage(headEpochs, 0, 0, 0) + `}`
}

var reference = map[string]int{"mlp": 40, "cnn": 30, "cnn_mlp": 20}

func TestRunSummary(t *testing.T) {
	models := []string{"mlp", "cnn", "cnn_mlp"}
	for _, c := range []struct {
		name    string
		config  string
		results map[string]Result
		ref     map[string]int
		summary string   // "" for none
		short   []string // what the banner says; nil for no banner
	}{
		{name: "full", config: testConfig(0, 40, 30, 20), ref: reference,
			summary: "Trained on all training images; 10,000 held out for validation; epochs: mlp 40, cnn 30, cnn_mlp 20; seed 7."},
		{name: "subset", config: testConfig(1000, 40, 30, 20), ref: reference,
			summary: "Trained on the first 1,000 training images; 10,000 held out",
			short:   []string{"only 1,000 training images (subset)"}},
		{name: "few epochs", config: testConfig(0, 1, 30, 1), ref: reference,
			short: []string{"fewer epochs than the default recipe (mlp 1 of 40, cnn_mlp 1 of 20)"}},
		{name: "both", config: testConfig(500, 1, 1, 1), ref: reference,
			short: []string{"500 training images (subset) and for fewer epochs", "cnn 1 of 30"}},
		{name: "no reference: only the subset counts", config: testConfig(0, 1, 1, 1)},
		{name: "stopped early", config: testConfig(0, 40, 30, 20), ref: reference,
			results: map[string]Result{"cnn": {Epochs: 12}},
			summary: "epochs: mlp 40, cnn 12 of 30 (stopped early), cnn_mlp 20"},
		{name: "not JSON", config: "{", ref: reference},
		{name: "another layout", config: `{"seed": 1, "val": 5000, "mlp": {"hidden": [256]}}`, ref: reference,
			summary: "Trained on all training images; 5,000 held out for validation; seed 1."},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := parseRunConfig(c.config)
			got := summary(cfg, models, c.results)
			if c.summary == "" && c.name == "not JSON" && got != "" {
				t.Errorf("summary %q, want none", got)
			}
			if !strings.Contains(got, c.summary) {
				t.Errorf("summary %q, want it to contain %q", got, c.summary)
			}
			short := shortRun(cfg, models, c.ref)
			if (short != "") != (c.short != nil) {
				t.Fatalf("banner %q, want one: %v", short, c.short != nil)
			}
			for _, s := range c.short {
				if !strings.Contains(short, s) {
					t.Errorf("banner %q lacks %q", short, s)
				}
			}
		})
	}
}

func TestLossNote(t *testing.T) {
	cfg := parseRunConfig(testConfig(0, 1, 1, 1))
	for _, c := range []struct{ model, want, not string }{
		{"mlp", "with dropout and label smoothing 0.1 on, so it can sit above", "augmentation"},
		{"cnn", "with label smoothing 0.1 and augmentation on", "dropout"},
		{"cnn_mlp", "while the weights change", "sit above"},
		{"resnet", "in training mode", "sit above"},
	} {
		got := lossNote(cfg, c.model)
		if !strings.Contains(got, c.want) || strings.Contains(got, c.not) || !strings.Contains(got, "eval mode") {
			t.Errorf("%s: %q, want %q and not %q", c.model, got, c.want, c.not)
		}
	}
}

// The page states the run's size at the top, and a short run gets the
// banner there, before the results.
func TestShortRunBanner(t *testing.T) {
	for _, c := range []struct {
		config string
		banner bool
	}{{testConfig(1000, 40, 30, 20), true}, {testConfig(0, 40, 30, 20), false}, {testConfig(0, 40, 3, 20), true}} {
		dir := t.TempDir()
		write := func(name, s string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write(runfolder.ConfigFile, c.config)
		write(runfolder.MetricsFile, "model,epoch,train_loss,train_acc,val_loss,val_acc,lr\nmlp,1,0.5,0.8,0.4,0.85,0.1\ncnn,1,0.5,0.8,0.4,0.85,0.1\n")
		if _, err := Build(dir, Options{ReferenceEpochs: reference}); err != nil {
			t.Fatal(err)
		}
		page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
		if err != nil {
			t.Fatal(err)
		}
		text := string(page)
		banner := strings.Index(text, `id="short-run"`)
		if (banner >= 0) != c.banner {
			t.Errorf("config %s: banner shown %v, want %v", c.config, banner >= 0, c.banner)
		}
		results := strings.Index(text, `id="results"`)
		if sum := strings.Index(text, `id="run-summary"`); sum < 0 || sum > results || banner > results {
			t.Errorf("the summary (at %d) and banner (at %d) are not above the results (at %d)", sum, banner, results)
		}
	}
}
