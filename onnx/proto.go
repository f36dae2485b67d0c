package onnx

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The few ONNX messages an exported classifier needs, each with its
// encoder. Field numbers are onnx.proto's (ONNX 1.12 and later).

// Enum values of onnx.proto used here.
const (
	attrInt  = 2 // AttributeProto.INT
	attrInts = 7 // AttributeProto.INTS

	elemFloat = 1 // TensorProto.FLOAT
)

// tensor is a float32 initializer, stored as raw little-endian bytes.
type tensor struct {
	name string
	dims []int64
	data []float32
}

// attr is an INT or INTS attribute.
type attr struct {
	name string
	typ  int
	i    int64
	ints []int64
}

func intAttr(name string, v int64) attr     { return attr{name: name, typ: attrInt, i: v} }
func intsAttr(name string, v ...int64) attr { return attr{name: name, typ: attrInts, ints: v} }

func dims(v ...int) []int64 {
	r := make([]int64, len(v))
	for i, x := range v {
		r[i] = int64(x)
	}
	return r
}

func fixedDim(v int64) dim                   { return dim{value: v} }
func namedDim(name string) dim               { return dim{param: name} }
func floatValue(name string, d ...dim) value { return value{name: name, dims: d} }

// node is one operator application; every node here has one output.
type node struct {
	name, op string
	in, out  []string
	attrs    []attr
}

// dim is a fixed size or, when param is set, a named symbolic one.
type dim struct {
	value int64
	param string
}

// value is a graph input or output: a float32 tensor of the given shape.
type value struct {
	name string
	dims []dim
}

type graph struct {
	name, doc string
	nodes     []node
	inits     []tensor
	in, out   []value
}

type model struct {
	irVersion, opset          int64
	producer, producerVersion string
	doc                       string
	graph                     graph
	meta                      [][2]string // key, value; in this order
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendInt(b []byte, num protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

// appendMessage appends the message that enc writes as field num.
func appendMessage(b []byte, num protowire.Number, enc func([]byte) []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, enc(nil))
}

func (t *tensor) append(b []byte) []byte {
	for _, d := range t.dims {
		b = appendInt(b, 1, d) // dims
	}
	b = appendInt(b, 2, elemFloat) // data_type
	b = appendString(b, 8, t.name) // name
	raw := make([]byte, 0, 4*len(t.data))
	for _, v := range t.data {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	b = protowire.AppendTag(b, 9, protowire.BytesType) // raw_data
	return protowire.AppendBytes(b, raw)
}

func (a *attr) append(b []byte) []byte {
	b = appendString(b, 1, a.name)
	switch a.typ {
	case attrInt:
		b = appendInt(b, 3, a.i)
	case attrInts:
		for _, v := range a.ints {
			b = appendInt(b, 8, v)
		}
	}
	return appendInt(b, 20, int64(a.typ))
}

func (n *node) append(b []byte) []byte {
	for _, s := range n.in {
		b = appendString(b, 1, s)
	}
	for _, s := range n.out {
		b = appendString(b, 2, s)
	}
	b = appendString(b, 3, n.name)
	b = appendString(b, 4, n.op)
	for i := range n.attrs {
		b = appendMessage(b, 5, n.attrs[i].append)
	}
	return b
}

// append writes a ValueInfoProto: name, and type.tensor_type with its
// element type and shape.
func (v *value) append(b []byte) []byte {
	b = appendString(b, 1, v.name)
	shape := func(b []byte) []byte {
		for _, d := range v.dims {
			b = appendMessage(b, 1, func(b []byte) []byte {
				if d.param != "" {
					return appendString(b, 2, d.param)
				}
				return appendInt(b, 1, d.value)
			})
		}
		return b
	}
	tensorType := func(b []byte) []byte {
		b = appendInt(b, 1, elemFloat)
		return appendMessage(b, 2, shape)
	}
	return appendMessage(b, 2, func(b []byte) []byte { return appendMessage(b, 1, tensorType) })
}

func (g *graph) append(b []byte) []byte {
	for i := range g.nodes {
		b = appendMessage(b, 1, g.nodes[i].append)
	}
	b = appendString(b, 2, g.name)
	for i := range g.inits {
		b = appendMessage(b, 5, g.inits[i].append)
	}
	if g.doc != "" {
		b = appendString(b, 10, g.doc)
	}
	for i := range g.in {
		b = appendMessage(b, 11, g.in[i].append)
	}
	for i := range g.out {
		b = appendMessage(b, 12, g.out[i].append)
	}
	return b
}

func (m *model) marshal() []byte {
	var b []byte
	b = appendInt(b, 1, m.irVersion)
	b = appendString(b, 2, m.producer)
	b = appendString(b, 3, m.producerVersion)
	if m.doc != "" {
		b = appendString(b, 6, m.doc)
	}
	b = appendMessage(b, 7, m.graph.append)
	b = appendMessage(b, 8, func(b []byte) []byte { return appendInt(b, 2, m.opset) }) // default domain
	for _, kv := range m.meta {
		b = appendMessage(b, 14, func(b []byte) []byte {
			b = appendString(b, 1, kv[0])
			return appendString(b, 2, kv[1])
		})
	}
	return b
}
