package model

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/nn"
)

// Model files are safetensors whose tensors carry PyTorch's state_dict
// names and layouts. The metadata key "kind" says which module the file
// holds ("mlp", "cnn" or "cnn_mlp"), and "arch" (and, for cnn_mlp,
// "cnn_arch" and "mlp_arch") the nn.Spec as JSON, so a file alone is enough
// to rebuild its model.

// StateToFile appends a state dict to f, each name prefixed. PyTorch keeps
// num_batches_tracked as int64, so it is written as I64.
func StateToFile(f *checkpoint.File, prefix string, sd []nn.Named) {
	for _, t := range sd {
		ct := checkpoint.Tensor{Name: prefix + t.Name, Shape: append([]int(nil), t.Shape...)}
		if strings.HasSuffix(t.Name, "num_batches_tracked") {
			ct.DType = "I64"
			ct.I64 = make([]int64, len(t.Data))
			for i, v := range t.Data {
				ct.I64[i] = int64(v)
			}
		} else {
			ct.DType = "F32"
			ct.F32 = t.Data
		}
		f.Tensors = append(f.Tensors, ct)
	}
}

// StateFromFile takes the tensors whose names start with prefix, without it.
func StateFromFile(f *checkpoint.File, prefix string) []nn.Named {
	var sd []nn.Named
	for _, t := range f.Tensors {
		if !strings.HasPrefix(t.Name, prefix) {
			continue
		}
		n := nn.Named{Name: strings.TrimPrefix(t.Name, prefix), Shape: t.Shape, Data: t.F32}
		if t.DType == "I64" {
			n.Data = make([]float32, len(t.I64))
			for i, v := range t.I64 {
				n.Data[i] = float32(v)
			}
		}
		sd = append(sd, n)
	}
	return sd
}

func specJSON(s nn.Spec) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a Spec always marshals
	}
	return string(b)
}

func withMeta(meta map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range meta {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// SaveModel writes m to path atomically. meta is extra metadata.
func SaveModel(path string, m *nn.Model, meta map[string]string) error {
	f := &checkpoint.File{Metadata: withMeta(meta, "kind", m.Spec.Kind, "arch", specJSON(m.Spec))}
	StateToFile(f, "", m.StateDict())
	return checkpoint.Write(path, f)
}

// SaveCNNMLP writes a cnn_mlp model to path atomically.
func SaveCNNMLP(path string, s *CNNMLP, meta map[string]string) error {
	f := &checkpoint.File{Metadata: withMeta(meta, "kind", "cnn_mlp",
		"cnn_arch", specJSON(s.CNN.Spec), "mlp_arch", specJSON(s.MLP.Spec))}
	StateToFile(f, "cnn.", s.CNN.StateDict())
	dim := len(s.Norm.Mean)
	StateToFile(f, "", []nn.Named{
		{Name: "feature_mean", Shape: []int{dim}, Data: s.Norm.Mean},
		{Name: "feature_std", Shape: []int{dim}, Data: s.Norm.Std},
	})
	StateToFile(f, "mlp.", s.MLP.StateDict())
	return checkpoint.Write(path, f)
}

// Loaded is a model read from a file.
type Loaded struct {
	Kind      string
	Predictor nn.Predictor
	Model     *nn.Model // the model itself for mlp and cnn; the backbone for cnn_mlp
	CNNMLP    *CNNMLP   // for cnn_mlp
	Meta      map[string]string
}

// numbersIn is how many numbers f holds in the tensors named with prefix.
func numbersIn(f *checkpoint.File, prefix string) int {
	n := 0
	for _, t := range f.Tensors {
		if strings.HasPrefix(t.Name, prefix) {
			n += len(t.F32) + len(t.I64)
		}
	}
	return n
}

// minWeights is how many numbers the weight matrices of s alone hold: a
// file that holds fewer cannot be a model of s. Checked before Build, it
// keeps a small file from making Build allocate and initialise a model
// many times the size of what the file's own tensors could fill.
func minWeights(s nn.Spec) float64 {
	s, err := s.Normalize()
	if err != nil {
		return 0
	}
	var n float64
	if s.Kind == "mlp" {
		in := float64(s.In)
		for _, h := range append(slices.Clone(s.Hidden), s.Classes) {
			n += in * float64(h)
			in = float64(h)
		}
		return n
	}
	c := float64(s.In)
	for _, w := range s.Widths {
		n += 9 * c * float64(w)
		c = float64(w)
	}
	return n + c*float64(s.Classes)
}

// buildFrom builds the model that metadata key of the file at path
// describes, if the file holds numbers enough for it (have).
func buildFrom(path string, meta map[string]string, key string, have int) (*nn.Model, error) {
	js, ok := meta[key]
	if !ok {
		return nil, fmt.Errorf("model: %s: no %q in the metadata: not an fmnist model file", path, key)
	}
	var s nn.Spec
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		return nil, fmt.Errorf("model: %s: bad %q metadata: %w", path, key, err)
	}
	if err := CheckSpec(s); err != nil { // before Build allocates what the file claims
		return nil, fmt.Errorf("model: %s: %q metadata: %w", path, key, err)
	}
	if err := CheckMemory(key, s, EvalBatch, false, 0); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// Far more weights than numbers: refused before Build allocates them.
	// A near miss goes on to LoadStateDict, which names the tensor at fault.
	if need := minWeights(s); need > 4*float64(have)+(1<<20) {
		return nil, fmt.Errorf("model: %s: %q describes %.0f weights, the file holds %d numbers", path, key, need, have)
	}
	m, err := nn.Build(s, 0)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", path, err)
	}
	return m, nil
}

// LoadModel reads a model file written by SaveModel or SaveCNNMLP.
func LoadModel(path string) (*Loaded, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, err
	}
	if err := checkModelMeta(path, f); err != nil {
		return nil, err
	}
	l := &Loaded{Kind: f.Metadata["kind"], Meta: f.Metadata}
	switch l.Kind {
	case "mlp", "cnn":
		m, err := buildFrom(path, f.Metadata, "arch", numbersIn(f, ""))
		if err != nil {
			return nil, err
		}
		if err := m.LoadStateDict(StateFromFile(f, "")); err != nil {
			return nil, fmt.Errorf("model: %s: %w", path, err)
		}
		l.Model, l.Predictor = m, nn.Eval{Model: m}
	case "cnn_mlp":
		cnn, err := buildFrom(path, f.Metadata, "cnn_arch", numbersIn(f, "cnn."))
		if err != nil {
			return nil, err
		}
		head, err := buildFrom(path, f.Metadata, "mlp_arch", numbersIn(f, "mlp."))
		if err != nil {
			return nil, err
		}
		if err := cnn.LoadStateDict(StateFromFile(f, "cnn.")); err != nil {
			return nil, fmt.Errorf("model: %s: %w", path, err)
		}
		if err := head.LoadStateDict(StateFromFile(f, "mlp.")); err != nil {
			return nil, fmt.Errorf("model: %s: %w", path, err)
		}
		var norm Standardizer
		for _, t := range StateFromFile(f, "feature_") {
			switch t.Name {
			case "mean":
				norm.Mean = t.Data
			case "std":
				norm.Std = t.Data
			}
		}
		w := cnn.Spec.Widths
		if len(w) == 0 || len(norm.Mean) != w[len(w)-1] || len(norm.Std) != len(norm.Mean) {
			return nil, fmt.Errorf("model: %s: feature_mean/feature_std missing or not of the backbone's width", path)
		}
		l.CNNMLP = &CNNMLP{CNN: cnn, Norm: norm, MLP: head}
		l.Model, l.Predictor = cnn, l.CNNMLP
	default:
		return nil, fmt.Errorf("model: %s: unknown model kind %q in the metadata", path, l.Kind)
	}
	return l, nil
}
