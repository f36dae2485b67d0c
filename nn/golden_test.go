package nn

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/fmnist/fmnist/tensor"
)

// golden is testdata/torch_golden.json, written by testdata/torch_golden.py
// with PyTorch: names and shapes of the reference models, and one training
// step of small models.
type golden struct {
	Torch string              `json:"torch"`
	Refs  map[string][][2]any `json:"refs"`
	Named []struct {
		Spec  Spec     `json:"spec"`
		Names [][2]any `json:"names"`
	} `json:"named"`
	Cases []goldenCase `json:"cases"`
}

type goldenCase struct {
	Name       string               `json:"name"`
	Spec       Spec                 `json:"spec"`
	Smoothing  float32              `json:"smoothing"`
	XShape     []int                `json:"x_shape"`
	X          []float32            `json:"x"`
	Labels     []uint8              `json:"labels"`
	State      [][3]json.RawMessage `json:"state"`
	Logits     []float32            `json:"logits"`
	Loss       float64              `json:"loss"`
	Grads      map[string][]float32 `json:"grads"`
	StateAfter [][3]json.RawMessage `json:"state_after"`
	EvalLogits []float32            `json:"eval_logits"`
}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

func namedFromJSON(t *testing.T, raw [][3]json.RawMessage) []Named {
	t.Helper()
	var sd []Named
	for _, r := range raw {
		var n Named
		if err := json.Unmarshal(r[0], &n.Name); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(r[1], &n.Shape); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(r[2], &n.Data); err != nil {
			t.Fatal(err)
		}
		sd = append(sd, n)
	}
	return sd
}

// namesOf lists a state dict as [name, shape] pairs, as the JSON does.
func sameNames(t *testing.T, what string, sd []Named, want [][2]any) {
	t.Helper()
	if len(sd) != len(want) {
		t.Errorf("%s: %d tensors, PyTorch has %d", what, len(sd), len(want))
	}
	for i := range min(len(sd), len(want)) {
		name := want[i][0].(string)
		var shape []int
		for _, d := range want[i][1].([]any) {
			shape = append(shape, int(d.(float64)))
		}
		if sd[i].Name != name || !tensor.SameShape(sd[i].Shape, shape) {
			t.Errorf("%s: tensor %d is %s %v, PyTorch has %s %v", what, i, sd[i].Name, sd[i].Shape, name, shape)
		}
	}
}

// TestTorchNames checks state-dict names, shapes and order against
// PyTorch for the benchmark's reference models (torch_ref.py itself) and for
// the documented twins of specs with dropout and batch norm.
func TestTorchNames(t *testing.T) {
	g := loadGolden(t)
	for _, name := range []string{"mlp-ref", "cnn-ref", "cnn-ref-bn"} {
		s, err := RefSpec(name)
		if err != nil {
			t.Fatal(err)
		}
		sameNames(t, name, MustBuild(s, 0).StateDict(), g.Refs[name])
	}
	for _, n := range g.Named {
		sameNames(t, specJSONForTest(n.Spec), MustBuild(n.Spec, 0).StateDict(), n.Names)
	}
}

func specJSONForTest(s Spec) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func wantClose(t *testing.T, what string, got, want []float32, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", what, len(got), len(want))
		return
	}
	bad := 0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > rtol*math.Abs(float64(want[i]))+atol || math.IsNaN(float64(got[i])) {
			if bad < 3 {
				t.Errorf("%s[%d] = %v, PyTorch %v", what, i, got[i], want[i])
			}
			bad++
		}
	}
}

// TestTorchStep loads PyTorch's initial weights into each small model and
// compares one training step (logits, loss, every gradient, the updated
// running statistics) and the eval logits after it.
func TestTorchStep(t *testing.T) {
	g := loadGolden(t)
	const rtol, atol = 1e-4, 1e-5
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			m := MustBuild(c.Spec, 1)
			if err := m.LoadStateDict(namedFromJSON(t, c.State)); err != nil {
				t.Fatal(err)
			}
			x := tensor.FromData(c.X, c.XShape...)
			logits := m.Forward(x, true)
			wantClose(t, "train logits", logits.Data, c.Logits, rtol, atol)
			lf := &SoftmaxCrossEntropy{Smoothing: c.Smoothing}
			loss, _, dl := lf.Forward(logits, c.Labels)
			if math.Abs(loss-c.Loss) > 1e-5*math.Abs(c.Loss) {
				t.Errorf("loss %v, PyTorch %v", loss, c.Loss)
			}
			m.Backward(dl)
			if len(c.Grads) != len(m.Params()) {
				t.Errorf("%d parameters, PyTorch has %d", len(m.Params()), len(c.Grads))
			}
			for _, e := range m.state {
				if e.param == nil {
					continue
				}
				got := make([]float32, tensor.Size(e.shape))
				e.export(got, e.param.Grad.Data)
				want, ok := c.Grads[e.name]
				if !ok {
					t.Errorf("PyTorch has no gradient for %s", e.name)
				}
				wantClose(t, "grad "+e.name, got, want, 1e-3, 1e-5)
			}
			after := namedFromJSON(t, c.StateAfter)
			for i, n := range m.StateDict() {
				wantClose(t, "after step: "+n.Name, n.Data, after[i].Data, rtol, atol)
			}
			wantClose(t, "eval logits", m.Forward(x, false).Data, c.EvalLogits, rtol, atol)
		})
	}
}
