package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/fmnist/fmnist/tensor"
)

// Model is an mlp or a cnn built from a Spec, with PyTorch's state-dict
// names (see the package documentation for the module each Spec maps to).
type Model struct {
	Spec Spec // with every default filled in

	layers []Layer
	nFeat  int // layers[:nFeat] is the backbone, whose output Features returns
	params []*Param
	state  []stateEntry
}

// Named is one tensor of a state dict, in PyTorch's layout. A batch norm's
// num_batches_tracked (an int64 in PyTorch) is a float32 scalar: Shape is
// empty and Data has one element; it is exact up to 2²⁴ batches.
type Named struct {
	Name  string
	Shape []int
	Data  []float32
}

// Build returns the model s describes, its weights drawn from NewRNG(seed):
// the same Spec and seed give the same bits.
func Build(s Spec, seed uint64) (*Model, error) {
	s, err := s.Normalize()
	if err != nil {
		return nil, err
	}
	b := &builder{m: &Model{Spec: s}, rng: NewRNG(seed)}
	switch s.Kind {
	case "mlp":
		b.mlp(s)
	case "cnn":
		b.cnn(s)
	}
	return b.m, nil
}

// MustBuild is Build for specs known to be valid; it panics on an error.
func MustBuild(s Spec, seed uint64) *Model {
	m, err := Build(s, seed)
	if err != nil {
		panic(err)
	}
	return m
}

// Forward returns the logits (B, Classes) for x, which is (B, H, W, In) for
// a cnn and, for an mlp, (B, In) or any (B, ...) with In values per row
// (such as (B, 28, 28, 1) images). The result is owned by the model and
// valid until its next Forward.
func (m *Model) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	if m.Spec.Kind == "cnn" {
		tensor.MustShape("nn: cnn input", x, -1, -1, -1, m.Spec.In)
	}
	for _, l := range m.layers {
		x = l.Forward(x, train)
	}
	tensor.MustShape("nn: logits", x, -1, m.Spec.Classes)
	return x
}

// Backward sets every parameter's gradient from the gradient of the loss
// with respect to the last Forward's logits. It does not compute the
// gradient with respect to the input.
func (m *Model) Backward(dlogits *tensor.Tensor) {
	dy := dlogits
	for i := len(m.layers) - 1; i >= 0 && dy != nil; i-- {
		dy = m.layers[i].Backward(dy)
	}
}

// Params returns the trainable parameters in PyTorch's parameters() order,
// named as in the state dict. Their Value layouts are the layers' own (see
// Linear and Conv2D), not the state dict's.
func (m *Model) Params() []*Param { return append([]*Param(nil), m.params...) }

// Features runs the backbone in eval mode and returns its output: for a cnn
// the pooled features (B, Widths[last]) the head reads, for an mlp the last
// hidden activation. The result is owned by the model.
func (m *Model) Features(x *tensor.Tensor) *tensor.Tensor {
	if m.Spec.Kind == "cnn" {
		tensor.MustShape("nn: cnn input", x, -1, -1, -1, m.Spec.In)
	}
	for _, l := range m.layers[:m.nFeat] {
		x = l.Forward(x, false)
	}
	return x
}

// builder assembles a model, numbering the layers as PyTorch numbers the
// modules of a Sequential: a fused layer takes the indices of every module
// it stands for.
type builder struct {
	m   *Model
	rng *rand.Rand
}

func (b *builder) add(l Layer) { b.m.layers = append(b.m.layers, l) }

// param registers p under name, in the state dict (with the given export
// layout) and in the parameter list.
func (b *builder) param(name string, p *Param, kind layout, shape ...int) {
	p.Name = name
	b.m.params = append(b.m.params, p)
	b.m.state = append(b.m.state, stateEntry{name: name, shape: shape, kind: kind, data: p.Value.Data, param: p})
}

func (b *builder) linear(prefix string, l *Linear) {
	b.param(prefix+"weight", l.Weight, linearT, l.Out, l.In)
	if l.Bias != nil {
		b.param(prefix+"bias", l.Bias, plain, l.Out)
	}
	b.add(l)
}

func (b *builder) conv(prefix string, l *Conv2D) {
	b.param(prefix+"weight", l.Weight, convOIHW, l.Cout, l.Cin, 3, 3)
	if l.Bias != nil {
		b.param(prefix+"bias", l.Bias, plain, l.Cout)
	}
	b.add(l)
}

func (b *builder) batchNorm(prefix string, l *BatchNorm) {
	b.param(prefix+"weight", l.Weight, plain, l.C)
	b.param(prefix+"bias", l.Bias, plain, l.C)
	b.m.state = append(b.m.state,
		stateEntry{name: prefix + "running_mean", shape: []int{l.C}, kind: plain, data: l.RunningMean},
		stateEntry{name: prefix + "running_var", shape: []int{l.C}, kind: plain, data: l.RunningVar},
		stateEntry{name: prefix + "num_batches_tracked", shape: []int{}, kind: counter, count: &l.NumBatchesTracked})
	b.add(l)
}

// mlp: Flatten, [Dropout on the input], then per hidden size Linear, [BatchNorm1d], ReLU,
// [Dropout], then Linear to the classes. The first Linear skips the input
// gradient.
func (b *builder) mlp(s Spec) {
	b.add(NewFlatten())
	i, c := 1, s.In
	if s.InputDropout > 0 {
		b.add(NewDropout(s.InputDropout, b.rng))
		i++
	}
	for k, h := range s.Hidden {
		l := NewLinear(c, h, b.rng)
		if k == 0 {
			l.WithoutInputGrad()
		}
		if s.BatchNorm {
			b.linear(idxName("", i), l.WithoutBias())
			b.batchNorm(idxName("", i+1), NewBatchNorm(h).WithReLU())
			i += 3
		} else {
			b.linear(idxName("", i), l.WithReLU())
			i += 2
		}
		if s.Dropout > 0 {
			b.add(NewDropout(s.Dropout, b.rng))
			i++
		}
		c = h
	}
	b.m.nFeat = len(b.m.layers)
	l := NewLinear(c, s.Classes, b.rng)
	if len(s.Hidden) == 0 {
		l.WithoutInputGrad()
	}
	b.linear(idxName("", i), l)
}

// cnn: backbone = per conv Conv2d, [BatchNorm2d], ReLU, [MaxPool2d(2)],
// then AdaptiveMaxPool2d(1), Flatten, [Dropout]; head = Linear.
func (b *builder) cnn(s Spec) {
	i, c := 0, s.In
	for k, o := range s.Widths {
		l := NewConv2D(c, o, b.rng)
		if k == 0 {
			l.WithoutInputGrad()
		}
		if s.BatchNorm {
			b.conv(idxName("backbone.", i), l.WithoutBias())
			b.batchNorm(idxName("backbone.", i+1), NewBatchNorm(o).WithReLU())
			i += 3
		} else {
			b.conv(idxName("backbone.", i), l.WithReLU())
			i += 2
		}
		if slices.Contains(s.PoolAfter, k) {
			b.add(NewMaxPool2D())
			i++
		}
		c = o
	}
	b.add(NewGlobalMaxPool())
	if s.Dropout > 0 {
		b.add(NewDropout(s.Dropout, b.rng))
	}
	b.m.nFeat = len(b.m.layers)
	b.linear("head.", NewLinear(c, s.Classes, b.rng))
}

func idxName(prefix string, i int) string { return prefix + strconv.Itoa(i) + "." }

// layout says how a tensor's internal storage maps to PyTorch's.
type layout int

const (
	plain    layout = iota // the same
	linearT                // internal (in, out), PyTorch (out, in)
	convOIHW               // internal (9·cin, cout) with rows (ky, kx, cin), PyTorch (cout, cin, 3, 3)
	counter                // an int64 count, exported as one float32
)

type stateEntry struct {
	name  string
	shape []int // PyTorch's
	kind  layout
	data  []float32 // internal storage; nil for a counter
	count *int64    // for a counter
	param *Param    // for a trainable parameter
}

// pairs calls f(pt, in) for every element of a permuted entry (linearT or
// convOIHW): its index in PyTorch's layout and in the internal one.
func (e *stateEntry) pairs(f func(pt, in int)) {
	switch e.kind {
	case linearT:
		out, in := e.shape[0], e.shape[1]
		for o := range out {
			for i := range in {
				f(o*in+i, i*out+o)
			}
		}
	case convOIHW:
		co, ci := e.shape[0], e.shape[1]
		for o := range co {
			for c := range ci {
				for t := range 9 {
					f((o*ci+c)*9+t, (t*ci+c)*co+o)
				}
			}
		}
	}
}

// export writes src (internal layout) into dst (PyTorch's layout).
func (e *stateEntry) export(dst, src []float32) {
	switch e.kind {
	case plain:
		copy(dst, src)
	case linearT, convOIHW:
		e.pairs(func(pt, in int) { dst[pt] = src[in] })
	case counter:
		dst[0] = float32(*e.count)
	}
}

// load is the inverse of export.
func (e *stateEntry) load(src []float32) {
	dst := e.data
	switch e.kind {
	case plain:
		copy(dst, src)
	case linearT, convOIHW:
		e.pairs(func(pt, in int) { dst[in] = src[pt] })
	case counter:
		*e.count = int64(src[0])
	}
}

// StateDict returns a copy of every parameter and buffer with PyTorch's
// names, shapes, layouts and order (parameters, then buffers, module by
// module).
func (m *Model) StateDict() []Named {
	out := make([]Named, len(m.state))
	for i := range m.state {
		e := &m.state[i]
		d := make([]float32, tensor.Size(e.shape))
		e.export(d, e.data)
		out[i] = Named{Name: e.name, Shape: append([]int{}, e.shape...), Data: d}
	}
	return out
}

// ErrStateDict is wrapped by every LoadStateDict error.
var ErrStateDict = errors.New("nn: state dict mismatch")

// StateDictError lists what LoadStateDict found wrong. Nothing is loaded
// when there is an error.
type StateDictError struct {
	Missing    []string // names the model has and the input lacks
	Unexpected []string // names the input has and the model lacks
	Mismatched []string // "name: what is wrong"
}

func (e *StateDictError) Error() string {
	var parts []string
	q := func(names []string) string {
		for i, n := range names {
			names[i] = strconv.Quote(n)
		}
		return strings.Join(names, ", ")
	}
	if len(e.Missing) > 0 {
		parts = append(parts, "missing "+q(slices.Clone(e.Missing)))
	}
	if len(e.Unexpected) > 0 {
		parts = append(parts, "unexpected "+q(slices.Clone(e.Unexpected)))
	}
	parts = append(parts, e.Mismatched...)
	return "nn: state dict: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrStateDict) true.
func (e *StateDictError) Is(target error) bool { return target == ErrStateDict }

// LoadStateDict copies sd into the model. It is strict: a missing, extra,
// repeated or mis-shaped tensor is an error naming it, and then nothing is
// loaded.
func (m *Model) LoadStateDict(sd []Named) error {
	byName := make(map[string]int, len(m.state))
	for i, e := range m.state {
		byName[e.name] = i
	}
	src := make([]int, len(m.state)) // index into sd + 1, 0 when absent
	var e StateDictError
	for j, t := range sd {
		i, ok := byName[t.Name]
		if !ok {
			e.Unexpected = append(e.Unexpected, t.Name)
			continue
		}
		want := m.state[i]
		switch {
		case src[i] != 0:
			e.Mismatched = append(e.Mismatched, fmt.Sprintf("%q: given twice", t.Name))
		case !tensor.SameShape(t.Shape, want.shape):
			e.Mismatched = append(e.Mismatched, fmt.Sprintf("%q: shape %s, want %s",
				t.Name, tensor.ShapeString(t.Shape), tensor.ShapeString(want.shape)))
		case len(t.Data) != tensor.Size(t.Shape):
			e.Mismatched = append(e.Mismatched, fmt.Sprintf("%q: %d values for shape %s",
				t.Name, len(t.Data), tensor.ShapeString(t.Shape)))
		case want.kind == counter && !(t.Data[0] >= 0 && t.Data[0] == float32(math.Floor(float64(t.Data[0])))):
			e.Mismatched = append(e.Mismatched, fmt.Sprintf("%q: %v is not a count", t.Name, t.Data[0]))
		default:
			src[i] = j + 1
		}
	}
	for i, s := range src {
		if s == 0 && !mentioned(e.Mismatched, m.state[i].name) {
			e.Missing = append(e.Missing, m.state[i].name)
		}
	}
	if len(e.Missing)+len(e.Unexpected)+len(e.Mismatched) > 0 {
		return &e
	}
	for i, s := range src {
		m.state[i].load(sd[s-1].Data)
	}
	return nil
}

// mentioned reports whether a mismatch message is about name.
func mentioned(msgs []string, name string) bool {
	p := strconv.Quote(name) + ":"
	for _, s := range msgs {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
