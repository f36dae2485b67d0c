package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"math/bits"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fmnist/fmnist/internal/safefile"
)

// Tensor is one named array. DType is "F32" (data in F32) or "I64" (data in
// I64); Shape may be empty for a scalar.
type Tensor struct {
	Name  string
	DType string
	Shape []int
	F32   []float32
	I64   []int64
}

// File is the content of a safetensors file. Tensors keep the order of the
// header.
type File struct {
	Tensors  []Tensor
	Metadata map[string]string
	// Check is what Decode verified of the file; Encode ignores it.
	Check Check
}

// Check says how much of a decoded file its checksums covered.
type Check int

const (
	// Unchecked: no checksum at all, as in a file PyTorch wrote. Nothing
	// vouches for the values, so a reader checks them before use.
	Unchecked Check = iota
	// DataChecked: the tensor data only, as in a file of format 1 (before
	// header_checksum). The metadata is not covered.
	DataChecked
	// AllChecked: every byte of the file but the checksum's own digits.
	AllChecked
)

func (c Check) String() string {
	switch c {
	case Unchecked:
		return "unchecked"
	case DataChecked:
		return "data checked"
	case AllChecked:
		return "all checked"
	}
	return fmt.Sprintf("Check(%d)", int(c))
}

// Sentinel errors, for errors.Is.
var (
	ErrTruncated = errors.New("truncated")
	ErrFormat    = errors.New("invalid safetensors")
	ErrChecksum  = errors.New("checksum mismatch")
)

const (
	// Format is the value of the "format" metadata key in our files. Format
	// 2 added header_checksum; a file of another fmnist format than 1 must
	// carry it.
	Format = formatPrefix + "2"
	// FormatV1 files have a checksum of their data only.
	FormatV1 = formatPrefix + "1"
	// MaxHeader caps the JSON header, as the safetensors library does.
	MaxHeader = 100_000_000

	metaKey  = "__metadata__"
	chunk    = 64 << 10 // I/O buffer; a multiple of every element size
	hashName = "checksum"
	// headName is the SHA-256 of the header length and the header, read
	// with this value's 64 digits as zeros. The header holds the data's
	// checksum, so it covers the whole file.
	headName     = "header_checksum"
	formatPrefix = "fmnist/"
)

// headMarker starts the header checksum's value in a header. It cannot
// occur inside a JSON string (a quote in one is escaped), so in a valid
// header it marks the one metadata entry.
var headMarker = []byte(`"` + headName + `":"`)

func elemSize(dtype string) int {
	switch dtype {
	case "F32":
		return 4
	case "I64":
		return 8
	}
	return 0
}

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

// checkHeader verifies the header checksum of a parsed header, and returns
// how much of the file the checksums will cover once the data's checksum
// is verified too.
func checkHeader(n, head []byte, meta map[string]string) (Check, error) {
	want, ok := meta[headName]
	if !ok {
		f, ours := meta["format"]
		if ours = ours && strings.HasPrefix(f, formatPrefix); ours && f != FormatV1 {
			return 0, fmt.Errorf("format %q, but no %s", f, headName)
		}
		if _, ok := meta[hashName]; ok {
			return DataChecked, nil
		}
		return Unchecked, nil
	}
	if _, ok := meta[hashName]; !ok {
		return 0, fmt.Errorf("a %s, but no %s of the data", headName, hashName)
	}
	at := bytes.Index(head, headMarker) + len(headMarker)
	if bytes.Count(head, headMarker) != 1 || len(want) != len(zeros) || len(head) < at+len(zeros) ||
		string(head[at:at+len(zeros)]) != want {
		return 0, fmt.Errorf("%s %q is not where it is computed", headName, clip(want))
	}
	if got := headSum(n, head, at); got != want {
		return 0, fmt.Errorf("header hashes to %s, %s says %s", got, headName, want)
	}
	return AllChecked, nil
}

// clip shortens a value read from a file for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
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

// Read loads a safetensors file.
func Read(path string) (*File, error) {
	fd, st, err := safefile.Open(path) // a FIFO would block open(2)
	if errors.Is(err, safefile.ErrNotRegular) {
		return nil, fmt.Errorf("checkpoint: %s: not a regular file: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer fd.Close()
	return Decode(fd, st.Size(), path)
}

// info is one tensor's header entry.
type info struct {
	name    string
	dtype   string
	shape   []int
	n       int // elements
	offsets [2]uint64
}

// Decode reads a safetensors file of size bytes from r; name is used in
// errors. Allocation grows with the bytes actually read, so a wrong size
// costs at most the header cap, not what the size claims.
func Decode(r io.Reader, size int64, name string) (*File, error) {
	fail := func(sentinel error, format string, args ...any) error {
		return fmt.Errorf("checkpoint: %s: %w: %s", name, sentinel, fmt.Sprintf(format, args...))
	}
	if size < 8 {
		return nil, fail(ErrTruncated, "%d bytes, shorter than the 8-byte header length", size)
	}
	var nb [8]byte
	if _, err := io.ReadFull(r, nb[:]); err != nil {
		return nil, readErr(name, err)
	}
	n := binary.LittleEndian.Uint64(nb[:])
	if n > MaxHeader {
		return nil, fail(ErrFormat, "header length %d is over the %d limit", n, MaxHeader)
	}
	if n > uint64(size-8) {
		return nil, fail(ErrTruncated, "header length %d, but only %d bytes follow", n, size-8)
	}
	head, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, readErr(name, err)
	}
	if uint64(len(head)) != n {
		return nil, fail(ErrTruncated, "header cut at %d of %d bytes", len(head), n)
	}
	infos, meta, err := parseHeader(head)
	if err != nil {
		return nil, fail(ErrFormat, "%v", err)
	}
	check, err := checkHeader(nb[:], head, meta)
	if err != nil {
		return nil, fail(ErrChecksum, "%v", err)
	}
	dataSize := uint64(size-8) - n
	order, end, err := checkLayout(infos)
	if err != nil {
		return nil, fail(ErrFormat, "%v", err)
	}
	if end > dataSize {
		return nil, fail(ErrTruncated, "tensors need %d bytes of data, %d present", end, dataSize)
	}
	if end < dataSize {
		return nil, fail(ErrFormat, "%d bytes after the last tensor", dataSize-end)
	}

	f := &File{Tensors: make([]Tensor, len(infos)), Metadata: meta, Check: check}
	h := sha256.New()
	buf := make([]byte, min(chunk, int(dataSize)))
	for _, i := range order {
		in := &infos[i]
		t := Tensor{Name: in.name, DType: in.dtype, Shape: in.shape}
		if err := readTensor(r, h, buf, &t, in.n); err != nil {
			return nil, readErr(name, err)
		}
		f.Tensors[i] = t
	}
	if want, ok := meta[hashName]; ok {
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			return nil, fail(ErrChecksum, "data hashes to %s, header says %q", got, clip(want))
		}
	}
	return f, nil
}

// readErr turns a short read into ErrTruncated.
func readErr(name string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("checkpoint: %s: %w: %w", name, ErrTruncated, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("checkpoint: %s: %w", name, err)
}

// readTensor reads n elements of t.DType into t, growing the slice as bytes
// arrive rather than trusting n up front.
func readTensor(r io.Reader, h hash.Hash, buf []byte, t *Tensor, n int) error {
	size := elemSize(t.DType)
	if t.DType == "F32" {
		t.F32 = make([]float32, 0, min(n, chunk))
	} else {
		t.I64 = make([]int64, 0, min(n, chunk))
	}
	for left := n * size; left > 0; {
		b := buf[:min(left, len(buf))]
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		h.Write(b)
		left -= len(b)
		if t.DType == "F32" {
			t.F32 = growTo(t.F32, len(b)/4, n)
			for k := 0; k < len(b); k += 4 {
				t.F32 = append(t.F32, math.Float32frombits(binary.LittleEndian.Uint32(b[k:])))
			}
		} else {
			t.I64 = growTo(t.I64, len(b)/8, n)
			for k := 0; k < len(b); k += 8 {
				t.I64 = append(t.I64, int64(binary.LittleEndian.Uint64(b[k:])))
			}
		}
	}
	return nil
}

// growTo makes room for more elements, doubling but never past total, so
// the final capacity is exact.
func growTo[T any](s []T, more, total int) []T {
	if len(s)+more <= cap(s) {
		return s
	}
	c := min(max(2*cap(s), len(s)+more), total)
	return slices.Grow(s, c-len(s))[:len(s)]
}

// parseHeader decodes the JSON header, keeping the tensors in its order.
func parseHeader(head []byte) ([]info, map[string]string, error) {
	if !utf8.Valid(head) {
		return nil, nil, errors.New("header is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(head))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, errors.New("header is not a JSON object")
	}
	var infos []info
	var meta map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("header: %v", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("header: key %v is not a string", tok)
		}
		if seen[key] {
			return nil, nil, fmt.Errorf("header: key %q twice", key)
		}
		seen[key] = true
		if key == metaKey {
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, fmt.Errorf("header: %s: %v", metaKey, err)
			}
			continue
		}
		in, err := parseInfo(dec, key)
		if err != nil {
			return nil, nil, err
		}
		infos = append(infos, in)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, fmt.Errorf("header: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("header: data after the JSON object")
	}
	if meta == nil {
		meta = map[string]string{}
	}
	return infos, meta, nil
}

func parseInfo(dec *json.Decoder, name string) (info, error) {
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return info{}, fmt.Errorf("tensor %q: %v", name, err)
	}
	in := info{name: name}
	var shape []uint64
	var offsets []uint64
	for _, field := range []struct {
		key string
		dst any
	}{{"dtype", &in.dtype}, {"shape", &shape}, {"data_offsets", &offsets}} {
		v, ok := raw[field.key]
		if !ok || string(v) == "null" {
			return info{}, fmt.Errorf("tensor %q: no %q", name, field.key)
		}
		if err := json.Unmarshal(v, field.dst); err != nil {
			return info{}, fmt.Errorf("tensor %q: %s: %v", name, field.key, err)
		}
	}
	size := elemSize(in.dtype)
	if size == 0 {
		return info{}, fmt.Errorf("tensor %q: unknown dtype %q (F32 and I64 are supported)", name, in.dtype)
	}
	if len(offsets) != 2 {
		return info{}, fmt.Errorf("tensor %q: data_offsets %v, want [begin, end]", name, offsets)
	}
	in.offsets = [2]uint64{offsets[0], offsets[1]}
	in.shape = make([]int, len(shape))
	n := uint64(1)
	for i, d := range shape {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 || lo > math.MaxInt/8 {
			return info{}, fmt.Errorf("tensor %q: shape %v is too large", name, shape)
		}
		n, in.shape[i] = lo, int(d)
	}
	in.n = int(n)
	if offsets[1] < offsets[0] || offsets[1]-offsets[0] != n*uint64(size) {
		return info{}, fmt.Errorf("tensor %q: shape %v of %s needs %d bytes, data_offsets %v hold %d",
			name, shape, in.dtype, n*uint64(size), offsets, int64(offsets[1]-offsets[0]))
	}
	return in, nil
}

// checkLayout checks that the tensors tile [0, end) with no gap or overlap,
// and returns them in data order.
func checkLayout(infos []info) (order []int, end uint64, err error) {
	order = make([]int, len(infos))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := infos[order[a]].offsets, infos[order[b]].offsets
		return x[0] < y[0] || x[0] == y[0] && x[1] < y[1]
	})
	for _, i := range order {
		o := infos[i].offsets
		if o[0] != end {
			what := "a gap before"
			if o[0] < end {
				what = "an overlap at"
			}
			return nil, 0, fmt.Errorf("tensor %q: data_offsets %v: %s byte %d", infos[i].name, o, what, end)
		}
		end = o[1]
	}
	return order, end, nil
}
