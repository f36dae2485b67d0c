package pipeline

import (
	"encoding/json"
	"github.com/fmnist/fmnist/runfolder"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/dataset"
)

// JSON and YAML give the same config; keys the file lacks keep the base's.
func TestParseConfig(t *testing.T) {
	js := `{"seed": 7, "mlp": {"model": {"hidden": [32, 16]}, "train": {"epochs": 3, "lr": 0.1}},
		"cnn": {"augment": {"flip": false}}}`
	ym := "# a comment\nseed: 7\nmlp:\n  model: {hidden: [32, 16]}\n  train:\n    epochs: 3\n    lr: 0.1\ncnn:\n  augment:\n    flip: false\n"
	want := DefaultConfig()
	want.Seed = 7
	want.MLP.Spec.Hidden = []int{32, 16}
	want.MLP.Train.Epochs, want.MLP.Train.LR = 3, 0.1
	want.CNN.Augment.Flip = false
	for _, tc := range []struct {
		name string
		b    string
		yaml bool
	}{{"json", js, false}, {"yaml", ym, true}, {"json read as yaml", js, true}} {
		got, err := ParseConfig([]byte(tc.b), tc.yaml, DefaultConfig())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v\nwant %+v", tc.name, got, want)
		}
	}
	// The base is not changed, though decoding reuses slices.
	base := DefaultConfig()
	if _, err := ParseConfig([]byte(`{"mlp": {"model": {"hidden": [1]}}}`), false, base); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(base, DefaultConfig()) {
		t.Error("ParseConfig changed its base")
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, b string
		yaml    bool
		want    string
	}{
		{"unknown key", `{"mlp": {"epochs": 3}}`, false, `unknown field "epochs"`},
		{"unknown key, yaml", "mlp:\n  epochs: 3\n", true, `unknown field "epochs"`},
		{"wrong type", `{"mlp": {"train": {"epochs": "3"}}}`, false, "mlp.train.epochs: a string, want int"},
		{"Inf names its key", "cnn:\n  train:\n    weight_decay: -.inf\n", true, "YAML: cnn.train.weight_decay: -Inf, want a finite number"},
		{"NaN in a list names its index", "mlp:\n  model:\n    hidden: [4, .NaN]\n", true, "YAML: mlp.model.hidden[1]: NaN"},
		{"wrong type, yaml", "val: many\n", true, "val: a string, want int"},
		{"trailing data", `{} {}`, false, "data after the config"},
		{"trailing brace", `{}}`, false, "data after the config"},
		{"not an object", `[1, 2]`, false, "cannot unmarshal array"},
		{"empty", ``, false, "empty"},
		{"null", `null`, false, "empty"},
		{"empty yaml", "# nothing\n", true, "empty"},
		{"bad json", `{"seed": }`, false, "invalid character"},
		{"bad yaml", "mlp: [1, 2\n", true, "yaml: line 1"},
		{"duplicate key, yaml", "val: 1\nval: 2\n", true, `mapping key "val" already defined`},
		{"non-string key", "1: 2\n", true, "key 1 in the top level is not a string"},
		{"nested non-string key", "mlp:\n  train:\n    true: 1\n", true, "key true in mlp.train is not a string"},
		{"NaN", "mlp:\n  train:\n    lr: .nan\n", true, "YAML: mlp.train.lr: NaN, want a finite number"},
		{"two documents", "val: 1\n---\nval: 2\n", true, "more than one document"},
		{"too long", `{"seed": 1` + strings.Repeat(" ", MaxConfigBytes) + `}`, false, "more than the 1048576"},
		{"old and new name", `{"head": {}, "cnn_mlp": {}}`, false, `both "head" (the old name of cnn_mlp) and "cnn_mlp"`},
		{"old name, unknown key", "head:\n  epochs: 3\n", true, `unknown field "epochs"`},
	} {
		_, err := ParseConfig([]byte(tc.b), tc.yaml, DefaultConfig())
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err %v, want one line with %q", tc.name, err, tc.want)
		}
	}
}

// ReadConfig picks the syntax by extension, else by the first character,
// and names the file in its errors.
func TestReadConfig(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		want          string // in the error; "" for success
	}{
		{"a.json", `{"seed": 5}`, ""},
		{"bom.json", "\ufeff{\"seed\": 5}", ""},
		{"bom.yaml", "\ufeffseed: 5\n", ""},
		{"bom-no-ext", "\ufeff{\"seed\": 5}", ""},
		{"a.yaml", "seed: 5\n", ""},
		{"a.yml", "seed: 5\n", ""},
		{"noext", "seed: 5\n", ""},
		{"noext2", ` {"seed": 5}`, ""},
		{"b.json", "seed: 5\n", "invalid character"},
		{"c.yaml", "seed: [5\n", "yaml:"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := ReadConfig(path, DefaultConfig())
		switch {
		case tc.want == "" && (err != nil || c.Seed != 5):
			t.Errorf("%s: seed %d, err %v", tc.name, c.Seed, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path)):
			t.Errorf("%s: err %v, want one naming the file and saying %q", tc.name, err, tc.want)
		}
	}
	if _, err := ReadConfig(filepath.Join(dir, "nope.json"), DefaultConfig()); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ReadConfig(dir, DefaultConfig()); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("folder: %v", err)
	}
}

// RunConfig.Validate refuses what would crash or run out of memory later,
// without building anything.
func TestRunConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *RunConfig)
		want string
	}{
		{"default", func(c *RunConfig) {}, ""},
		{"tiny", func(c *RunConfig) { *c = tinyConfig() }, ""},
		{"val negative", func(c *RunConfig) { c.Val = -1 }, "val -1"},
		{"val zero: no best epoch to choose", func(c *RunConfig) { c.Val = 0 }, "val 0, want in [1, 60000)"},
		{"weight decay 1e300 is blamed on itself", func(c *RunConfig) { c.CNN.Train.WeightDecay = 1e300 }, "cnn: fit: weight decay 1e+300, want 0 to 1"},
		{"val everything", func(c *RunConfig) { c.Val = 60000 }, "val 60000"},
		{"subset negative", func(c *RunConfig) { c.Subset = -1 }, "subset -1"},
		{"unknown kind", func(c *RunConfig) { c.MLP.Spec.Kind = "rnn" }, `mlp: nn: unknown model kind "rnn"`},
		{"cnn as the mlp", func(c *RunConfig) { c.MLP.Spec = c.CNN.Spec }, `mlp: model kind "cnn", want "mlp"`},
		{"cnn head", func(c *RunConfig) { c.CNNMLP.Spec = c.CNN.Spec }, `cnn_mlp: model kind "cnn", want "mlp"`},
		{"mlp input", func(c *RunConfig) { c.MLP.Spec.In = 100 }, "mlp: input size 100, the images give 784"},
		{"cnn channels", func(c *RunConfig) { c.CNN.Spec.In = 3 }, "cnn: input size 3, the images give 1"},
		{"classes", func(c *RunConfig) { c.CNN.Spec.Classes = 5 }, "cnn: 5 classes"},
		{"zero width", func(c *RunConfig) { c.CNN.Spec.Widths = []int{8, 0} }, "width 0 at index 1"},
		{"huge width", func(c *RunConfig) { c.CNN.Spec.Widths, c.CNN.Spec.PoolAfter = []int{1 << 20}, nil }, "layer 0 is 1048576 wide"},
		{"huge mlp", func(c *RunConfig) { c.MLP.Spec.Hidden = []int{60000, 60000} }, "more than 134217728 weights"},
		{"too many layers", func(c *RunConfig) {
			c.MLP.Spec.Hidden = make([]int, 65)
			for i := range c.MLP.Spec.Hidden {
				c.MLP.Spec.Hidden[i] = 2
			}
		}, "more than 64 layers"},
		{"pools to nothing", func(c *RunConfig) {
			c.CNN.Spec.Widths, c.CNN.Spec.PoolAfter = []int{2, 2, 2, 2, 2}, []int{0, 1, 2, 3, 4}
		}, "5 pools shrink a 28×28 image to nothing"},
		{"batch zero", func(c *RunConfig) { c.CNNMLP.Train.Batch = 0 }, "cnn_mlp: fit: batch 0"},
		{"lr NaN", func(c *RunConfig) { c.CNN.Train.LR = math.NaN() }, "cnn: fit: learning rate NaN"},
		{"pad", func(c *RunConfig) { c.CNN.Augment.Pad = 20 }, "augment pad 20"},
		{"erase NaN", func(c *RunConfig) { c.CNN.Augment.Erase = math.NaN() }, "erase NaN"},
		{"dropout", func(c *RunConfig) { c.CNNMLP.Spec.Dropout = 1 }, "dropout 1 out of [0, 1)"},
	} {
		c := DefaultConfig()
		tc.edit(&c)
		err := c.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}

// FuzzParseConfig: any bytes give a config or an error, never a panic;
// Validate never panics; and a config read back from its own JSON is the
// same config.
func FuzzParseConfig(f *testing.F) {
	b, _ := json.Marshal(DefaultConfig())
	f.Add(b, false)
	f.Add(b, true)
	f.Add([]byte(`{"mlp": {"model": {"hidden": [32]}, "train": {"epochs": 1}}}`), false)
	f.Add([]byte("mlp:\n  model: {hidden: [32]}\ncnn:\n  model:\n    widths: [4, 8]\n    pool_after: [0]\n"), true)
	f.Add([]byte("a: &x [1, 2]\nb: *x\n"), true)
	f.Add([]byte("val: 1e3\nseed: 0x10\n"), true)
	f.Add([]byte(`{"seed": 18446744073709551615, "val": -1}`), false)
	f.Fuzz(func(t *testing.T, b []byte, isYAML bool) {
		if len(b) > 4096 {
			return
		}
		c, err := ParseConfig(b, isYAML, DefaultConfig())
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		_ = c.Validate()
		js, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("a parsed config does not marshal: %v", err)
		}
		back, err := ParseConfig(js, false, RunConfig{})
		if err != nil {
			t.Fatalf("own JSON %s: %v", js, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip:\n%+v\n%+v", back, c)
		}
	})
}

// TestPresets: every preset is a valid config, the quick one is quicker
// than the default in every stage and the long one longer.
func TestPresets(t *testing.T) {
	for _, name := range PresetNames() {
		c, ok := Preset(name)
		if !ok {
			t.Fatalf("preset %s listed but not found", name)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
	q, d, l := QuickConfig(), DefaultConfig(), LongConfig()
	for _, s := range []struct {
		name    string
		q, d, l Stage
	}{{"mlp", q.MLP, d.MLP, l.MLP}, {"cnn", q.CNN, d.CNN, l.CNN}, {"cnn_mlp", q.CNNMLP, d.CNNMLP, l.CNNMLP}} {
		if s.q.Train.Epochs >= s.d.Train.Epochs || s.d.Train.Epochs >= s.l.Train.Epochs {
			t.Errorf("%s: quick has %d epochs, default %d, long %d", s.name, s.q.Train.Epochs, s.d.Train.Epochs, s.l.Train.Epochs)
		}
	}
}

// TestConfigRoundTrip: a run's config.json passed back with --config over
// any preset gives the config that ran, also where a setting is false or
// zero and the preset's is not.
func TestConfigRoundTrip(t *testing.T) {
	c := DefaultConfig()
	c.MLP.Spec.BatchNorm, c.MLP.Spec.Dropout = false, 0
	c.CNN.Spec.BatchNorm = false
	c.CNN.Augment = dataset.Augment{}
	dir := t.TempDir()
	path := filepath.Join(dir, runfolder.ConfigFile)
	if err := runfolder.WriteConfig(dir, c); err != nil {
		t.Fatal(err)
	}
	for _, name := range PresetNames() {
		base, _ := Preset(name)
		got, err := ReadConfig(path, base)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("over preset %s: read back %+v, wrote %+v", name, got, c)
		}
	}
}

// "head", the old name of the cnn_mlp stage, is read as an alias of
// "cnn_mlp" at the top level only, and never written.
func TestLegacyHeadKey(t *testing.T) {
	want := DefaultConfig()
	want.CNNMLP.Train.Epochs, want.CNNMLP.Spec.Hidden = 7, []int{33}
	for _, tc := range []struct {
		name string
		b    string
		yaml bool
	}{
		{"new name", `{"cnn_mlp": {"model": {"hidden": [33]}, "train": {"epochs": 7}}}`, false},
		{"old name", `{"head": {"model": {"hidden": [33]}, "train": {"epochs": 7}}}`, false},
		{"old name, yaml", "head:\n  model: {hidden: [33]}\n  train: {epochs: 7}\n", true},
	} {
		got, err := ParseConfig([]byte(tc.b), tc.yaml, DefaultConfig())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got.CNNMLP, want.CNNMLP)
		}
	}
	// Below the top level "head" is nobody's alias.
	if _, err := ParseConfig([]byte(`{"cnn": {"head": {}}}`), false, DefaultConfig()); err == nil {
		t.Error(`cnn.head accepted`)
	}
	b, err := json.Marshal(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"head"`) || !strings.Contains(string(b), `"cnn_mlp":`) {
		t.Errorf("config written with the old name: %s", b)
	}
}
