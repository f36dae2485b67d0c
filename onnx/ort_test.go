package onnx_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/onnx"
	"github.com/fmnist/fmnist/pipeline"
)

// These tests check the exported files with two programs that share no
// code with fmnist: ONNX Runtime (npm's onnxruntime-node, run by node) and
// Debian's python3-onnx checker. .ci/run installs both; elsewhere a missing
// one skips its test with a loud log line, and in CI (CI=true) it fails.

// missing skips t, or fails it in CI, because a tool it needs is absent.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI needs this (.ci/run installs it): "+format, args...)
	}
	t.Logf("SKIPPED, NOT VERIFIED: "+format, args...)
	t.Skip("see the log line above")
}

// ortDir is where onnxruntime-node is installed: $FMNIST_ORT_DIR, or the
// folder the README's install line uses.
func ortDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FMNIST_ORT_DIR")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			missing(t, "no FMNIST_ORT_DIR and no home folder: %v", err)
		}
		dir = filepath.Join(home, ".cache", "fmnist-ort-test")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing(t, "node is not installed (apt-get install nodejs npm): %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node", "package.json")); err != nil {
		missing(t, "onnxruntime-node is not installed in %s (cd there and run "+
			"ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node, or set FMNIST_ORT_DIR): %v", dir, err)
	}
	return dir
}

// realRun is a model file of each kind from a short real training run, and
// the real test set.
type realRun struct {
	files map[string]string // name → model file
	test  *dataset.Set
	err   error
	skip  string
}

var (
	runOnce sync.Once
	theRun  realRun
	runDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if runDir != "" {
		os.RemoveAll(runDir)
	}
	os.Exit(code)
}

// smallConfigs are two pipelines on 1000 real images, one epoch per model:
// the first with batch norm in the mlp and the cnn and none in the head,
// the second the other way round, with other pools, so that every layer
// the exporter writes comes from a trained model.
func smallConfigs() map[string]pipeline.RunConfig {
	a := pipeline.DefaultConfig()
	a.Subset, a.Val = 1000, 1000
	a.MLP.Spec.Hidden = []int{64, 32}
	a.CNN.Spec.Widths = []int{8, 16, 16, 32, 32}
	a.CNNMLP.Spec.In, a.CNNMLP.Spec.Hidden = 32, []int{32}
	for _, s := range []*pipeline.Stage{&a.MLP, &a.CNN, &a.CNNMLP} {
		// One epoch of one-cycle at lr 0.05 (0.01 for the head), the recipe these bounds were
		// measured with, whatever the default's schedules become. With the default CNN's one-epoch
		// warm-up to lr 0.08 the largest difference in nobn/cnn_mlp was 1.7e-4, with no class
		// changed: to be understood (issue 15), not hidden by a looser bound.
		s.Train.Epochs, s.Train.Schedule, s.Train.WarmupEpochs, s.Train.LR = 1, "onecycle", 0, 0.05
	}
	a.CNNMLP.Train.LR = 0.01
	b := a
	b.Seed = 2
	b.MLP.Spec.BatchNorm, b.MLP.Spec.Hidden, b.MLP.Spec.Dropout = false, []int{48}, 0
	b.CNN.Spec.BatchNorm, b.CNN.Spec.Widths, b.CNN.Spec.PoolAfter = false, []int{8, 16, 24}, []int{0, 1, 2}
	b.CNNMLP.Spec.In, b.CNNMLP.Spec.BatchNorm = 24, true
	return map[string]pipeline.RunConfig{"bn": a, "nobn": b}
}

// trainedFiles runs smallConfigs once per test binary. With -short (CI's
// race-detector line) it skips: CI's plain `go test ./...` runs it.
func trainedFiles(t *testing.T) realRun {
	t.Helper()
	if testing.Short() {
		t.Log("SKIPPED with -short: trains six models on real data; `go test ./onnx` runs it")
		t.Skip("see the log line above")
	}
	runOnce.Do(func() {
		f, err := dataset.Load(dataset.Options{Dir: dataset.DebianDir})
		if err != nil {
			theRun.skip = "the real data is not installed (apt-get install dataset-fashion-mnist): " + err.Error()
			return
		}
		if runDir, theRun.err = os.MkdirTemp("", "fmnist-onnx-test-"); theRun.err != nil {
			return
		}
		if raceEnabled {
			// Only ortImages test images are compared; the pipelines need
			// not test on all 10000 under the race detector.
			f.Test = f.Test.Subset(ortImages)
		}
		theRun.test, theRun.files = f.Test, map[string]string{}
		for name, cfg := range smallConfigs() {
			d, err := pipeline.Prepare(f, cfg)
			if err != nil {
				theRun.err = err
				return
			}
			out := filepath.Join(runDir, name)
			if _, err := (&pipeline.Pipeline{Config: cfg, Data: d, Out: out}).Run(); err != nil {
				theRun.err = err
				return
			}
			for _, kind := range pipeline.Stages {
				theRun.files[name+"/"+kind] = filepath.Join(out, kind+".safetensors")
			}
		}
	})
	if theRun.skip != "" {
		missing(t, "%s", theRun.skip)
	}
	if theRun.err != nil {
		t.Fatal(theRun.err)
	}
	return theRun
}

// exportAll writes each model of r as NAME.onnx beside it.
func exportAll(t *testing.T, r realRun) (map[string]string, map[string]*model.Loaded) {
	t.Helper()
	onnxFiles, loaded := map[string]string{}, map[string]*model.Loaded{}
	for name, path := range r.files {
		l, err := model.LoadModel(path)
		if err != nil {
			t.Fatal(err)
		}
		out := strings.TrimSuffix(path, ".safetensors") + ".onnx"
		if err := onnx.WriteFile(out, l); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		onnxFiles[name], loaded[name] = out, l
	}
	return onnxFiles, loaded
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ortImages is how many test images each file is run on.
const ortImages = 2000

// TestONNXRuntimeMatchesFmnist exports every kind of a real run, runs the
// files in ONNX Runtime on 2000 test images, and wants fmnist's logits
// within 1e-4 and the same class for every image.
func TestONNXRuntimeMatchesFmnist(t *testing.T) {
	r := trainedFiles(t)
	ort := ortDir(t)
	files, loaded := exportAll(t, r)
	tmp := t.TempDir()

	// The input as the README tells users to make it: pixel/255, float32.
	n := ortImages
	input := make([]byte, 0, n*dataset.Pixels*4)
	for i := range n {
		for _, v := range r.test.Image(i) {
			input = binary.LittleEndian.AppendUint32(input, math.Float32bits(float32(v)/255))
		}
	}
	inPath := filepath.Join(tmp, "input.f32")
	if err := os.WriteFile(inPath, input, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := r.test.Subset(n)
	for _, name := range sortedKeys(files) {
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			l := loaded[name]
			want := fmnistLogits(t, l, sub)
			classes := len(want) / n
			outPath := filepath.Join(tmp, strings.ReplaceAll(name, "/", "_")+".f32")
			cmd := exec.Command("node", filepath.Join("testdata", "ort_logits.mjs"), ort, files[name], inPath,
				"2000", "300", outPath) // batches of 300 and a last one of 200
			stdout, err := cmd.Output()
			if err != nil {
				var stderr []byte
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = ee.Stderr
				}
				t.Fatalf("node: %v\n%s", err, stderr)
			}
			var info struct {
				Version         string
				Inputs, Outputs []string
			}
			if err := json.Unmarshal(stdout, &info); err != nil {
				t.Fatalf("runner output %q: %v", stdout, err)
			}
			if !slices.Equal(info.Inputs, []string{onnx.InputName}) || !slices.Equal(info.Outputs, []string{onnx.OutputName}) {
				t.Errorf("ONNX Runtime sees inputs %v, outputs %v", info.Inputs, info.Outputs)
			}
			raw, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) != 4*len(want) {
				t.Fatalf("ONNX Runtime gave %d bytes of logits, want %d", len(raw), 4*len(want))
			}
			var maxDiff float64
			var worst, wrongClass int
			for i := range want {
				got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
				if d := math.Abs(float64(got) - float64(want[i])); !(d <= maxDiff) {
					maxDiff, worst = d, i
				}
			}
			for i := range n {
				g := make([]float32, classes)
				for j := range g {
					g[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*(i*classes+j):]))
				}
				if argmax(g) != argmax(want[i*classes:(i+1)*classes]) {
					wrongClass++
				}
			}
			st, err := os.Stat(files[name])
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s (%s): ONNX Runtime %s, %d images, max |logit diff| %.3g (logit %d), %d classes differ, %d bytes",
				name, l.Kind, info.Version, n, maxDiff, worst, wrongClass, st.Size())
			if !(maxDiff <= 1e-4) {
				t.Errorf("max |logit diff| %.3g at logit %d (image %d), want <= 1e-4", maxDiff, worst, worst/classes)
			}
			if wrongClass != 0 {
				t.Errorf("%d of %d images get another class from ONNX Runtime", wrongClass, n)
			}
		})
	}
}

// fmnistLogits are the logits fmnist gives the images of set, normalised as
// eval and predict normalise them.
func fmnistLogits(t *testing.T, l *model.Loaded, set *dataset.Set) []float32 {
	t.Helper()
	mean, std, err := model.PixelNorm(l.Meta)
	if err != nil {
		t.Fatal(err)
	}
	ld := dataset.NewLoader(set, dataset.LoaderConfig{Batch: 500, Mean: mean, Std: std})
	var out []float32
	for {
		x, _, ok := ld.Next()
		if !ok {
			break
		}
		out = append(out, l.Predictor.Predict(x).Data...)
	}
	return out
}

func argmax(v []float32) int {
	k := 0
	for i, x := range v {
		if x > v[k] {
			k = i
		}
	}
	return k
}

// checkerScript loads each file given, runs onnx.checker.check_model with
// full_check (which also infers every shape), and prints what the test
// compares: opset, IR version, input and output shapes, metadata.
const checkerScript = `
import json, sys
import onnx
out = {}
for path in sys.argv[1:]:
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
    out[path] = {"opset": [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")],
        "ir": m.ir_version, "inputs": {v.name: dims(v) for v in m.graph.input},
        "outputs": {v.name: dims(v) for v in m.graph.output},
        "meta": {p.key: p.value for p in m.metadata_props}}
print(json.dumps(out))
`

// TestONNXChecker runs Debian's onnx.checker over the exported files of a
// real run and reads their shapes and metadata back with the onnx package.
func TestONNXChecker(t *testing.T) {
	r := trainedFiles(t)
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import onnx.checker").Run(); err != nil {
		missing(t, "%s cannot import onnx (apt-get install python3-onnx): %v", py, err)
	}
	files, loaded := exportAll(t, r)
	args := []string{"-c", checkerScript}
	for _, name := range sortedKeys(files) {
		args = append(args, files[name])
	}
	out, err := exec.Command(py, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx.checker: %v\n%s", err, out)
	}
	var got map[string]struct {
		Opset           []int
		IR              int
		Inputs, Outputs map[string][]any
		Meta            map[string]string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, name := range sortedKeys(files) {
		g, l := got[files[name]], loaded[name]
		st, err := os.Stat(files[name])
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s (%s): onnx.checker accepts it, %d bytes", name, l.Kind, st.Size())
		if !slices.Equal(g.Opset, []int{onnx.Opset}) || g.IR != onnx.IRVersion {
			t.Errorf("%s: opset %v, IR %d", name, g.Opset, g.IR)
		}
		in, _ := json.Marshal(g.Inputs)
		outs, _ := json.Marshal(g.Outputs)
		if string(in) != `{"pixels":["batch",1,28,28]}` || string(outs) != `{"logits":["batch",10]}` {
			t.Errorf("%s: inputs %s, outputs %s", name, in, outs)
		}
		var names []string
		if err := json.Unmarshal([]byte(g.Meta["class_names"]), &names); err != nil || !slices.Equal(names, dataset.ClassNames[:]) {
			t.Errorf("%s: class_names %q (%v)", name, g.Meta["class_names"], err)
		}
		if g.Meta["pixel_mean"] != l.Meta["pixel_mean"] || g.Meta["pixel_std"] != l.Meta["pixel_std"] || g.Meta["kind"] != l.Kind {
			t.Errorf("%s: metadata %v, model file %v", name, g.Meta, l.Meta)
		}
	}
}

// The configs above are what the test claims to cover.
func TestSmallConfigsCoverBatchNormBothWays(t *testing.T) {
	cs := smallConfigs()
	a, b := cs["bn"], cs["nobn"]
	if !a.MLP.Spec.BatchNorm || !a.CNN.Spec.BatchNorm || a.CNNMLP.Spec.BatchNorm ||
		b.MLP.Spec.BatchNorm || b.CNN.Spec.BatchNorm || !b.CNNMLP.Spec.BatchNorm {
		t.Fatal("smallConfigs no longer covers batch norm on and off in every kind")
	}
	for _, c := range cs {
		for _, s := range []nn.Spec{c.MLP.Spec, c.CNN.Spec, c.CNNMLP.Spec} {
			if _, err := s.Normalize(); err != nil {
				t.Fatal(err)
			}
		}
	}
}
