package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// layout is a validated File ready to write: the data order and offsets.
type layout struct {
	f       *File
	order   []int // indices into f.Tensors, in data order
	offsets [][2]int64
	size    int64 // of the data section
}

// plan checks f and lays out its data: I64 tensors first, then F32, each
// group in f.Tensors order, so every tensor is aligned to its element size.
func plan(f *File) (*layout, error) {
	l := &layout{f: f, offsets: make([][2]int64, len(f.Tensors))}
	seen := make(map[string]bool, len(f.Tensors))
	for i := range f.Tensors {
		t := &f.Tensors[i]
		switch {
		case !utf8.ValidString(t.Name):
			return nil, fmt.Errorf("checkpoint: tensor name %q is not UTF-8", t.Name)
		case t.Name == metaKey:
			return nil, fmt.Errorf("checkpoint: a tensor cannot be named %s", metaKey)
		case seen[t.Name]:
			return nil, fmt.Errorf("checkpoint: two tensors named %q", t.Name)
		}
		seen[t.Name] = true
		n, ok := numElems(t.Shape)
		if !ok {
			return nil, fmt.Errorf("checkpoint: tensor %q: bad shape %v", t.Name, t.Shape)
		}
		var have, other int
		switch t.DType {
		case "F32":
			have, other = len(t.F32), len(t.I64)
		case "I64":
			have, other = len(t.I64), len(t.F32)
		default:
			return nil, fmt.Errorf("checkpoint: tensor %q: dtype %q, want F32 or I64", t.Name, t.DType)
		}
		if uint64(have) != n || other != 0 {
			return nil, fmt.Errorf("checkpoint: tensor %q: shape %v needs %d %s values, have %d (and %d of the other type)",
				t.Name, t.Shape, n, t.DType, have, other)
		}
	}
	for _, dt := range []string{"I64", "F32"} {
		for i, t := range f.Tensors {
			if t.DType != dt {
				continue
			}
			n := int64(elemSize(dt)) * int64(len(t.F32)+len(t.I64))
			l.offsets[i] = [2]int64{l.size, l.size + n}
			l.size += n
			l.order = append(l.order, i)
		}
	}
	for k, v := range f.Metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("checkpoint: metadata %q: %q is not UTF-8", k, v)
		}
		if k == "" {
			return nil, errors.New("checkpoint: empty metadata key")
		}
	}
	return l, nil
}

// numElems is the product of shape, and false on a negative size or an
// overflow of int.
func numElems(shape []int) (uint64, bool) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, false
		}
		n = lo
	}
	return n, true
}

// writeData streams the data section to w in chunks.
func (l *layout) writeData(w io.Writer, buf []byte) error {
	for _, i := range l.order {
		t := &l.f.Tensors[i]
		for j := 0; j < len(t.F32); {
			k := 0
			for ; j < len(t.F32) && k+4 <= len(buf); j, k = j+1, k+4 {
				binary.LittleEndian.PutUint32(buf[k:], math.Float32bits(t.F32[j]))
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return err
			}
		}
		for j := 0; j < len(t.I64); {
			k := 0
			for ; j < len(t.I64) && k+8 <= len(buf); j, k = j+1, k+8 {
				binary.LittleEndian.PutUint64(buf[k:], uint64(t.I64[j]))
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// header is the padded JSON header, with the checksum and format added to
// the metadata.
func (l *layout) header(sum string) ([]byte, error) {
	var b bytes.Buffer
	str := func(s string) {
		q, _ := json.Marshal(s) // cannot fail: s is valid UTF-8
		b.Write(q)
	}
	b.WriteByte('{')
	for i, t := range l.f.Tensors {
		str(t.Name)
		b.WriteString(`:{"dtype":`)
		str(t.DType)
		b.WriteString(`,"shape":[`)
		for k, d := range t.Shape {
			if k > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(d))
		}
		fmt.Fprintf(&b, `],"data_offsets":[%d,%d]},`, l.offsets[i][0], l.offsets[i][1])
	}
	meta := make(map[string]string, len(l.f.Metadata)+3)
	for k, v := range l.f.Metadata {
		meta[k] = v
	}
	meta["format"], meta[hashName], meta[headName] = Format, sum, zeros
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	str(metaKey)
	b.WriteString(":{")
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		str(k)
		b.WriteByte(':')
		str(meta[k])
	}
	b.WriteString("}}")
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	if b.Len() > MaxHeader {
		return nil, fmt.Errorf("checkpoint: header of %d bytes is over the %d limit", b.Len(), MaxHeader)
	}
	return b.Bytes(), nil
}

// encode writes l to w. Errors from w come back unwrapped.
func (l *layout) encode(w io.Writer) error {
	buf := make([]byte, chunk)
	h := sha256.New()
	if err := l.writeData(h, buf); err != nil {
		return err // hashes never fail
	}
	head, err := l.header(hex.EncodeToString(h.Sum(nil)))
	if err != nil {
		return err
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(head)))
	at := bytes.Index(head, headMarker) + len(headMarker)
	copy(head[at:], headSum(n[:], head, at))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	return l.writeData(w, buf)
}

// zeros stands for the header checksum's digits while it is computed.
var zeros = strings.Repeat("0", 64)

// headSum is the header checksum of a header whose checksum digits start at
// head[at:], with the 8 length bytes n.
func headSum(n, head []byte, at int) string {
	h := sha256.New()
	h.Write(n)
	h.Write(head[:at])
	h.Write([]byte(zeros))
	h.Write(head[at+len(zeros):])
	return hex.EncodeToString(h.Sum(nil))
}

// Encode writes f to w as safetensors, adding the "format", "checksum" and
// "header_checksum" metadata. It checks f fully before writing anything.
func Encode(w io.Writer, f *File) error {
	l, err := plan(f)
	if err != nil {
		return err
	}
	if err := l.encode(w); err != nil {
		return fmt.Errorf("checkpoint: writing: %w", err)
	}
	return nil
}

// writeHook, when set by a test, wraps the temp file's writer.
var writeHook func(io.Writer) io.Writer

// Write saves f to path atomically: a crash or error leaves either the old
// file or the new one, never a mix.
func Write(path string, f *File) error {
	l, err := plan(f)
	if err != nil {
		return fmt.Errorf("%w (writing %s)", err, path)
	}
	return WriteAtomic(path, func(tf *os.File) error {
		var w io.Writer = tf
		if writeHook != nil {
			w = writeHook(w)
		}
		return l.encode(w)
	})
}
