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
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/fmnist/fmnist/internal/safefile"
)

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
