package onnx

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/dataset"
	fmmodel "github.com/fmnist/fmnist/model" // proto.go has a type model
	"github.com/fmnist/fmnist/nn"
)

// The graph's contract with its users.
const (
	Opset      = 13       // the ONNX operator set the graph uses
	IRVersion  = 8        // ONNX 1.12's IR: Debian's python3-onnx checks it
	InputName  = "pixels" // float32 (batch, 1, 28, 28), pixel/255
	OutputName = "logits" // float32 (batch, classes)
	BatchDim   = "batch"  // the symbolic name of the batch dimension
)

// ErrUnsupported is wrapped by the errors about a model the exporter
// cannot express as the graph it promises.
var ErrUnsupported = errors.New("onnx: model not expressible")

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

// Export returns the ONNX file of a model read by fmmodel.LoadModel: one
// graph from pixel/255 to logits, for any kind (mlp, cnn, cnn_mlp).
func Export(l *fmmodel.Loaded) ([]byte, error) {
	mean, std, err := fmmodel.PixelNorm(l.Meta)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	if l.Model == nil && l.Kind != "cnn_mlp" {
		return nil, unsupported("%s model without its network", l.Kind)
	}
	b := &builder{}
	x := b.normalise(InputName, "pixel", []float32{mean}, []float32{std}, nil)
	var classes int
	var arch [][2]string
	switch l.Kind {
	case "mlp":
		s := l.Model.Spec
		if s.Kind != "mlp" || s.In != dataset.Pixels {
			return nil, unsupported("an mlp on pixels reads %d values, this %s model reads %d", dataset.Pixels, s.Kind, s.In)
		}
		c := &cursor{what: "mlp", mods: modules(l.Model.StateDict(), "")}
		x = b.op("Flatten", []string{x}, intAttr("axis", 1))
		if x, err = b.mlp(c, s, x); err != nil {
			return nil, err
		}
		classes, arch = s.Classes, [][2]string{{"arch", specJSON(s)}}
	case "cnn":
		s := l.Model.Spec
		c := &cursor{what: "cnn", mods: modules(l.Model.StateDict(), "")}
		if x, err = b.backbone(c, s, x); err != nil {
			return nil, err
		}
		if x, err = b.linear(c, "head", x, lastWidth(s), s.Classes, false, false); err != nil {
			return nil, err
		}
		if err := c.done(); err != nil {
			return nil, err
		}
		classes, arch = s.Classes, [][2]string{{"arch", specJSON(s)}}
	case "cnn_mlp":
		st := l.CNNMLP
		if st == nil || st.CNN == nil || st.MLP == nil {
			return nil, unsupported("cnn_mlp model without its cnn and mlp")
		}
		s, h := st.CNN.Spec, st.MLP.Spec
		c := &cursor{what: "cnn_mlp backbone", mods: modules(st.CNN.StateDict(), "backbone.")}
		if x, err = b.backbone(c, s, x); err != nil {
			return nil, err
		}
		if err := c.done(); err != nil {
			return nil, err
		}
		w := lastWidth(s)
		if h.Kind != "mlp" || h.In != w {
			return nil, unsupported("cnn_mlp mlp is a %s reading %d features, the backbone gives %d", h.Kind, h.In, w)
		}
		if len(st.Norm.Mean) != w || len(st.Norm.Std) != w {
			return nil, unsupported("cnn_mlp feature statistics of width %d and %d, the backbone gives %d",
				len(st.Norm.Mean), len(st.Norm.Std), w)
		}
		x = b.normalise(x, "feature", st.Norm.Mean, st.Norm.Std, dims(w))
		if x, err = b.mlp(&cursor{what: "cnn_mlp mlp", mods: modules(st.MLP.StateDict(), "")}, h, x); err != nil {
			return nil, err
		}
		classes, arch = h.Classes, [][2]string{{"cnn_arch", specJSON(s)}, {"mlp_arch", specJSON(h)}}
	default:
		return nil, unsupported("unknown model kind %q", l.Kind)
	}
	for _, t := range b.g.inits {
		for _, v := range t.data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, unsupported("%s holds %v", t.name, v)
			}
		}
	}
	b.g.nodes[len(b.g.nodes)-1].out[0] = OutputName
	b.g.name = "fmnist_" + l.Kind
	b.g.doc = "fmnist " + l.Kind + " classifier: pixels (pixel/255) to logits"
	b.g.in = []value{floatValue(InputName, namedDim(BatchDim), fixedDim(1), fixedDim(dataset.Rows), fixedDim(dataset.Cols))}
	b.g.out = []value{floatValue(OutputName, namedDim(BatchDim), fixedDim(int64(classes)))}
	m := &model{irVersion: IRVersion, opset: Opset, producer: "fmnist", producerVersion: "1",
		doc: "Fashion-MNIST classifier exported by fmnist", graph: b.g, meta: metadata(l.Kind, classes, mean, std, arch)}
	return m.marshal(), nil
}

// WriteFile exports l to path atomically.
func WriteFile(path string, l *fmmodel.Loaded) error {
	data, err := Export(l)
	if err != nil {
		return err
	}
	return checkpoint.WriteAtomic(path, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// ClassNames returns the names the metadata gives classes 0..n-1:
// Fashion-MNIST's, then "class N" past them.
func ClassNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		if i < len(dataset.ClassNames) {
			names[i] = dataset.ClassNames[i]
		} else {
			names[i] = "class " + strconv.Itoa(i)
		}
	}
	return names
}

func metadata(kind string, classes int, mean, std float32, arch [][2]string) [][2]string {
	names, _ := json.Marshal(ClassNames(classes)) // a []string always marshals
	f := func(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
	meta := [][2]string{
		{"class_names", string(names)},
		{"input", "pixels: float32 (batch, 1, 28, 28), each value pixel/255 in [0, 1], a light article on a " +
			"dark ground as in Fashion-MNIST; the graph itself subtracts pixel_mean and divides by pixel_std"},
		{"output", "logits: float32 (batch, classes); softmax gives the probabilities, in class_names order"},
		{"normalization_in_graph", "true"},
		{"pixel_mean", f(mean)},
		{"pixel_std", f(std)},
		{"kind", kind},
	}
	return append(meta, arch...)
}

func specJSON(s nn.Spec) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a Spec always marshals
	}
	return string(b)
}

func lastWidth(s nn.Spec) int {
	if len(s.Widths) == 0 {
		return 0
	}
	return s.Widths[len(s.Widths)-1]
}

// builder appends nodes and initializers to a graph, naming each output
// after its node.
type builder struct {
	g       graph
	linears int
}

// op adds a node with one output and returns the output's name.
func (b *builder) op(op string, in []string, attrs ...attr) string {
	name := strings.ToLower(op) + "_" + strconv.Itoa(len(b.g.nodes))
	b.g.nodes = append(b.g.nodes, node{name: name, op: op, in: in, out: []string{name}, attrs: attrs})
	return name
}

func (b *builder) init(name string, d []int64, data []float32) string {
	b.g.inits = append(b.g.inits, tensor{name: name, dims: d, data: data})
	return name
}

// normalise adds (x − mean) / std. A Div rather than a product with 1/std
// gives the bits fmnist's own normalisation gives.
func (b *builder) normalise(x, what string, mean, std []float32, d []int64) string {
	x = b.op("Sub", []string{x, b.init(what+"_mean", d, mean)})
	return b.op("Div", []string{x, b.init(what+"_std", d, std)})
}

// mlp adds the Gemm (+ folded batch norm) and Relu of each hidden layer and
// the last Gemm, reading x (batch, s.In).
func (b *builder) mlp(c *cursor, s nn.Spec, x string) (string, error) {
	in := s.In
	var err error
	for _, h := range s.Hidden {
		if x, err = b.linear(c, "", x, in, h, s.BatchNorm, true); err != nil {
			return "", err
		}
		in = h
	}
	if x, err = b.linear(c, "", x, in, s.Classes, false, false); err != nil {
		return "", err
	}
	return x, c.done()
}

// linear adds a Gemm for the next module of c, a Linear(in, out) under
// prefix, with its batch norm folded in when bn is set, and a Relu.
func (b *builder) linear(c *cursor, prefix, x string, in, out int, bn, relu bool) (string, error) {
	w, bias, err := c.layer(prefix, []int{out, in}, bn)
	if err != nil {
		return "", err
	}
	name := "linear" + strconv.Itoa(b.linears)
	b.linears++
	x = b.op("Gemm", []string{x, b.init(name+"_weight", dims(out, in), w), b.init(name+"_bias", dims(out), bias)},
		intAttr("transB", 1))
	if relu {
		x = b.op("Relu", []string{x})
	}
	return x, nil
}

// backbone adds the convolutions of a cnn (3×3, padding 1, batch norm
// folded in), their Relus and max-pools, the global max-pool and the
// flatten to (batch, last width).
func (b *builder) backbone(c *cursor, s nn.Spec, x string) (string, error) {
	if s.Kind != "cnn" || s.In != 1 {
		return "", unsupported("a cnn on Fashion-MNIST images reads 1 channel, this %s model reads %d", s.Kind, s.In)
	}
	size, in := dataset.Rows, s.In
	for k, o := range s.Widths {
		w, bias, err := c.layer("backbone", []int{o, in, 3, 3}, s.BatchNorm)
		if err != nil {
			return "", err
		}
		name := "conv" + strconv.Itoa(k)
		x = b.op("Conv", []string{x, b.init(name+"_weight", dims(o, in, 3, 3), w), b.init(name+"_bias", dims(o), bias)},
			intsAttr("kernel_shape", 3, 3), intsAttr("pads", 1, 1, 1, 1), intsAttr("strides", 1, 1))
		x = b.op("Relu", []string{x})
		if slices.Contains(s.PoolAfter, k) {
			if size /= 2; size == 0 {
				return "", unsupported("cnn: the max-pool after conv %d shrinks the 28×28 image to nothing", k)
			}
			x = b.op("MaxPool", []string{x}, intsAttr("kernel_shape", 2, 2), intsAttr("strides", 2, 2))
		}
		in = o
	}
	x = b.op("GlobalMaxPool", []string{x})
	return b.op("Flatten", []string{x}, intAttr("axis", 1)), nil
}

// module is one PyTorch module's tensors in a state dict.
type module struct {
	prefix string // e.g. "backbone.3"
	t      map[string]nn.Named
}

// modules groups a state dict (parameters and buffers module by module)
// into its modules, keeping those whose names start with under.
func modules(sd []nn.Named, under string) []module {
	var out []module
	for _, t := range sd {
		if !strings.HasPrefix(t.Name, under) {
			continue
		}
		i := strings.LastIndexByte(t.Name, '.')
		prefix, leaf := "", t.Name
		if i >= 0 {
			prefix, leaf = t.Name[:i], t.Name[i+1:]
		}
		if len(out) == 0 || out[len(out)-1].prefix != prefix {
			out = append(out, module{prefix: prefix, t: map[string]nn.Named{}})
		}
		out[len(out)-1].t[leaf] = t
	}
	return out
}

// cursor walks a model's modules in order, checking each against what the
// spec says comes next.
type cursor struct {
	what string
	mods []module
	i    int
}

// shaped is a tensor a module must hold: its name and shape.
type shaped struct {
	name  string
	shape []int
}

// next returns the next module, which must lie under prefix and hold exactly
// the tensors listed.
func (c *cursor) next(prefix string, want ...shaped) (module, error) {
	if c.i >= len(c.mods) {
		return module{}, unsupported("%s: the spec wants more layers than the weights hold", c.what)
	}
	m := c.mods[c.i]
	c.i++
	if !strings.HasPrefix(m.prefix, prefix) || len(m.t) != len(want) {
		return module{}, unsupported("%s: module %q does not match the spec", c.what, m.prefix)
	}
	for _, w := range want {
		t, ok := m.t[w.name]
		if !ok || !slices.Equal(t.Shape, w.shape) || len(t.Data) != tensorSize(w.shape) {
			return module{}, unsupported("%s: %s.%s is not of shape %v as the spec says", c.what, m.prefix, w.name, w.shape)
		}
	}
	return m, nil
}

// layer reads a Linear or Conv2d with weight of shape w and its bias or,
// when bn is set, the batch norm after it, and returns the weight and bias
// with the batch norm folded in.
func (c *cursor) layer(prefix string, w []int, bn bool) (weight, bias []float32, err error) {
	out := w[0]
	if !bn {
		m, err := c.next(prefix, shaped{"weight", w}, shaped{"bias", []int{out}})
		if err != nil {
			return nil, nil, err
		}
		return m.t["weight"].Data, m.t["bias"].Data, nil
	}
	m, err := c.next(prefix, shaped{"weight", w})
	if err != nil {
		return nil, nil, err
	}
	v := []int{out}
	n, err := c.next(prefix, shaped{"weight", v}, shaped{"bias", v}, shaped{"running_mean", v},
		shaped{"running_var", v}, shaped{"num_batches_tracked", []int{}})
	if err != nil {
		return nil, nil, err
	}
	weight, bias = fold(m.t["weight"].Data, n.t["weight"].Data, n.t["bias"].Data, n.t["running_mean"].Data,
		n.t["running_var"].Data)
	return weight, bias, nil
}

// done fails unless every module was used.
func (c *cursor) done() error {
	if c.i < len(c.mods) {
		return unsupported("%s: module %q is not in the spec", c.what, c.mods[c.i].prefix)
	}
	return nil
}

// fold returns the weight and bias of a bias-free layer followed by an
// eval-mode batch norm: row o of w scaled by γ/√(var+ε), and bias
// β − mean·γ/√(var+ε), in float64.
func fold(w, gamma, beta, mean, variance []float32) (weight, bias []float32) {
	out := len(gamma)
	per := len(w) / out
	weight, bias = make([]float32, len(w)), make([]float32, out)
	for o := range out {
		s := float64(gamma[o]) / math.Sqrt(float64(variance[o])+nn.BatchNormEps)
		for i, v := range w[o*per : (o+1)*per] {
			weight[o*per+i] = float32(float64(v) * s)
		}
		bias[o] = float32(float64(beta[o]) - float64(mean[o])*s)
	}
	return weight, bias
}

func tensorSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
