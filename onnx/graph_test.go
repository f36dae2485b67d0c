package onnx_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// A protobuf reader and an interpreter of the ops the exporter writes, both
// written from onnx.proto and the ONNX operator docs, not from the
// exporter: with them the unit tests check what a file computes on any
// machine, without ONNX Runtime.

// pbMsg is a decoded message: every field's values by number, in order.
type pbMsg map[protowire.Number][]pbVal

// pbVal is a varint value or the bytes of a length-delimited one.
type pbVal struct {
	v uint64
	b []byte
}

func parsePB(b []byte) (pbMsg, error) {
	m := pbMsg{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		var v pbVal
		switch typ {
		case protowire.VarintType:
			v.v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v.b, n = protowire.ConsumeBytes(b)
		default:
			return nil, fmt.Errorf("field %d: wire type %d", num, typ)
		}
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		m[num] = append(m[num], v)
	}
	return m, nil
}

func (m pbMsg) str(num protowire.Number) string {
	if v := m[num]; len(v) > 0 {
		return string(v[len(v)-1].b)
	}
	return ""
}

func (m pbMsg) int(num protowire.Number) int64 {
	if v := m[num]; len(v) > 0 {
		return int64(v[len(v)-1].v)
	}
	return 0
}

func (m pbMsg) strs(num protowire.Number) []string {
	var out []string
	for _, v := range m[num] {
		out = append(out, string(v.b))
	}
	return out
}

func (m pbMsg) msgs(num protowire.Number) ([]pbMsg, error) {
	var out []pbMsg
	for _, v := range m[num] {
		sub, err := parsePB(v.b)
		if err != nil {
			return nil, fmt.Errorf("field %d: %w", num, err)
		}
		out = append(out, sub)
	}
	return out, nil
}

// arr is a dense float32 array in row-major order.
type arr struct {
	shape []int
	data  []float32
}

type gNode struct {
	op      string
	in, out []string
	ints    map[string][]int64 // INT attributes as one value
}

// gModel is what the tests read back from a file.
type gModel struct {
	ir, opset     int64
	nodes         []gNode
	inits         map[string]arr
	inputs        map[string][]string // name → dims ("batch" or a number)
	outputs       map[string][]string
	meta          map[string]string
	metaKeys      []string
	graphInputs   []string
	graphOutputs  []string
	initializerNs []string
}

// readModel decodes an ONNX file and checks what every consumer relies on:
// float initializers whose raw data fits their dims, nodes whose inputs
// exist before them and whose outputs are new.
func readModel(b []byte) (*gModel, error) {
	top, err := parsePB(b)
	if err != nil {
		return nil, err
	}
	g := &gModel{ir: top.int(1), inits: map[string]arr{}, inputs: map[string][]string{},
		outputs: map[string][]string{}, meta: map[string]string{}}
	ops, err := top.msgs(8)
	if err != nil {
		return nil, err
	}
	for _, o := range ops {
		if o.str(1) == "" {
			g.opset = o.int(2)
		}
	}
	props, err := top.msgs(14)
	if err != nil {
		return nil, err
	}
	for _, p := range props {
		if _, dup := g.meta[p.str(1)]; dup {
			return nil, fmt.Errorf("metadata key %q twice", p.str(1))
		}
		g.meta[p.str(1)] = p.str(2)
		g.metaKeys = append(g.metaKeys, p.str(1))
	}
	graphs, err := top.msgs(7)
	if err != nil || len(graphs) != 1 {
		return nil, fmt.Errorf("%d graphs (%v)", len(graphs), err)
	}
	gr := graphs[0]
	defined := map[string]bool{}
	inits, err := gr.msgs(5)
	if err != nil {
		return nil, err
	}
	for _, t := range inits {
		name := t.str(8)
		var shape []int
		for _, d := range t[1] {
			shape = append(shape, int(int64(d.v)))
		}
		raw := []byte(t.str(9))
		if t.int(2) != 1 || len(raw) != 4*size(shape) || defined[name] {
			return nil, fmt.Errorf("initializer %q: type %d, %d bytes for %v", name, t.int(2), len(raw), shape)
		}
		a := arr{shape: shape, data: make([]float32, len(raw)/4)}
		for i := range a.data {
			a.data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		g.inits[name], defined[name] = a, true
		g.initializerNs = append(g.initializerNs, name)
	}
	values := func(num protowire.Number, into map[string][]string, names *[]string) error {
		vs, err := gr.msgs(num)
		if err != nil {
			return err
		}
		for _, v := range vs {
			var dims []string
			types, _ := v.msgs(2)
			for _, ty := range types {
				tts, _ := ty.msgs(1)
				for _, tt := range tts {
					if tt.int(1) != 1 {
						return fmt.Errorf("value %q: element type %d", v.str(1), tt.int(1))
					}
					shapes, _ := tt.msgs(2)
					for _, s := range shapes {
						ds, _ := s.msgs(1)
						for _, d := range ds {
							if p := d.str(2); p != "" {
								dims = append(dims, p)
							} else {
								dims = append(dims, fmt.Sprint(d.int(1)))
							}
						}
					}
				}
			}
			into[v.str(1)] = dims
			*names = append(*names, v.str(1))
		}
		return nil
	}
	if err := values(11, g.inputs, &g.graphInputs); err != nil {
		return nil, err
	}
	if err := values(12, g.outputs, &g.graphOutputs); err != nil {
		return nil, err
	}
	for _, in := range g.graphInputs {
		defined[in] = true
	}
	nodes, err := gr.msgs(1)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		gn := gNode{op: n.str(4), in: n.strs(1), out: n.strs(2), ints: map[string][]int64{}}
		for _, in := range gn.in {
			if !defined[in] {
				return nil, fmt.Errorf("node %q (%s) reads %q before it exists", n.str(3), gn.op, in)
			}
		}
		for _, out := range gn.out {
			if defined[out] {
				return nil, fmt.Errorf("node %q writes %q again", n.str(3), out)
			}
			defined[out] = true
		}
		attrs, err := n.msgs(5)
		if err != nil {
			return nil, err
		}
		for _, a := range attrs {
			switch a.int(20) {
			case 2:
				gn.ints[a.str(1)] = []int64{a.int(3)}
			case 7:
				for _, v := range a[8] {
					gn.ints[a.str(1)] = append(gn.ints[a.str(1)], int64(v.v))
				}
			default:
				return nil, fmt.Errorf("node %q: attribute %q of type %d", n.str(3), a.str(1), a.int(20))
			}
		}
		g.nodes = append(g.nodes, gn)
	}
	for _, out := range g.graphOutputs {
		if !defined[out] {
			return nil, fmt.Errorf("graph output %q is never written", out)
		}
	}
	return g, nil
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// run evaluates the graph on x, float32 (batch, 1, 28, 28), following the
// ONNX operator definitions, and returns its first output.
func (g *gModel) run(x arr) (arr, error) {
	vals := map[string]arr{g.graphInputs[0]: x}
	for k, v := range g.inits {
		vals[k] = v
	}
	for _, n := range g.nodes {
		in := make([]arr, len(n.in))
		for i, name := range n.in {
			in[i] = vals[name]
		}
		y, err := apply(n, in)
		if err != nil {
			return arr{}, fmt.Errorf("%s: %w", n.op, err)
		}
		vals[n.out[0]] = y
	}
	return vals[g.graphOutputs[0]], nil
}

func apply(n gNode, in []arr) (arr, error) {
	attr := func(name string, def ...int64) []int64 {
		if v, ok := n.ints[name]; ok {
			return v
		}
		return def
	}
	switch n.op {
	case "Sub", "Div":
		return broadcast(in[0], in[1], n.op == "Div")
	case "Relu":
		y := arr{shape: in[0].shape, data: slices.Clone(in[0].data)}
		for i, v := range y.data {
			y.data[i] = max(v, 0)
		}
		return y, nil
	case "Flatten":
		if a := attr("axis", 1); a[0] != 1 {
			return arr{}, fmt.Errorf("axis %d", a[0])
		}
		return arr{shape: []int{in[0].shape[0], size(in[0].shape[1:])}, data: in[0].data}, nil
	case "Gemm":
		return gemm(in[0], in[1], in[2], attr("transB", 0)[0] == 1)
	case "Conv":
		if !slices.Equal(attr("kernel_shape"), []int64{3, 3}) || !slices.Equal(attr("pads"), []int64{1, 1, 1, 1}) ||
			!slices.Equal(attr("strides", 1, 1), []int64{1, 1}) {
			return arr{}, fmt.Errorf("attributes %v", n.ints)
		}
		return conv3x3(in[0], in[1], in[2])
	case "MaxPool":
		if !slices.Equal(attr("kernel_shape"), []int64{2, 2}) || !slices.Equal(attr("strides"), []int64{2, 2}) {
			return arr{}, fmt.Errorf("attributes %v", n.ints)
		}
		return maxPool(in[0], 2), nil
	case "GlobalMaxPool":
		s := in[0].shape
		return maxPool(in[0], max(s[2], s[3])), nil // one window over the whole image
	}
	return arr{}, fmt.Errorf("unknown op")
}

// broadcast is a−b or a/b with b a scalar or a vector along a's last axis
// (numpy broadcasting, the only two cases the exporter uses).
func broadcast(a, b arr, div bool) (arr, error) {
	if len(b.data) != 1 && (len(b.shape) != 1 || b.shape[0] != a.shape[len(a.shape)-1]) {
		return arr{}, fmt.Errorf("shapes %v and %v", a.shape, b.shape)
	}
	y := arr{shape: a.shape, data: make([]float32, len(a.data))}
	for i, v := range a.data {
		w := b.data[i%len(b.data)]
		if div {
			y.data[i] = v / w
		} else {
			y.data[i] = v - w
		}
	}
	return y, nil
}

func gemm(x, w, b arr, transB bool) (arr, error) {
	if !transB || len(x.shape) != 2 || len(w.shape) != 2 || w.shape[1] != x.shape[1] || len(b.data) != w.shape[0] {
		return arr{}, fmt.Errorf("x %v, w %v, b %v, transB %v", x.shape, w.shape, b.shape, transB)
	}
	n, k, m := x.shape[0], x.shape[1], w.shape[0]
	y := arr{shape: []int{n, m}, data: make([]float32, n*m)}
	for i := range n {
		for j := range m {
			s := float64(b.data[j])
			for p := range k {
				s += float64(x.data[i*k+p]) * float64(w.data[j*k+p])
			}
			y.data[i*m+j] = float32(s)
		}
	}
	return y, nil
}

func conv3x3(x, w, b arr) (arr, error) {
	if len(x.shape) != 4 || len(w.shape) != 4 || w.shape[1] != x.shape[1] || len(b.data) != w.shape[0] {
		return arr{}, fmt.Errorf("x %v, w %v, b %v", x.shape, w.shape, b.shape)
	}
	n, c, h, wd, o := x.shape[0], x.shape[1], x.shape[2], x.shape[3], w.shape[0]
	y := arr{shape: []int{n, o, h, wd}, data: make([]float32, n*o*h*wd)}
	for i := range n {
		for oc := range o {
			for r := range h {
				for q := range wd {
					s := float64(b.data[oc])
					for ic := range c {
						for ky := range 3 {
							for kx := range 3 {
								rr, qq := r+ky-1, q+kx-1
								if rr < 0 || rr >= h || qq < 0 || qq >= wd {
									continue
								}
								s += float64(x.data[((i*c+ic)*h+rr)*wd+qq]) * float64(w.data[((oc*c+ic)*3+ky)*3+kx])
							}
						}
					}
					y.data[((i*o+oc)*h+r)*wd+q] = float32(s)
				}
			}
		}
	}
	return y, nil
}

// maxPool takes the max over k×k windows with stride k, dropping the
// remainder (floor mode).
func maxPool(x arr, k int) arr {
	n, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	oh, ow := h/k, w/k
	y := arr{shape: []int{n, c, oh, ow}, data: make([]float32, n*c*oh*ow)}
	for p := range n * c {
		for r := range oh {
			for q := range ow {
				m := float32(math.Inf(-1))
				for dy := range k {
					for dx := range k {
						m = max(m, x.data[(p*h+r*k+dy)*w+q*k+dx])
					}
				}
				y.data[(p*oh+r)*ow+q] = m
			}
		}
	}
	return y
}
