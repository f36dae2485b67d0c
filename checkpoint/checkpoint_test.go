package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func sample() *File {
	return &File{
		Tensors: []Tensor{
			{Name: "backbone.0.weight", DType: "F32", Shape: []int{2, 3},
				F32: []float32{1, -2.5, float32(math.Copysign(0, -1)), math.Float32frombits(0x7fc01234), float32(math.Inf(1)), 1e-42}},
			{Name: "backbone.1.num_batches_tracked", DType: "I64", Shape: []int{}, I64: []int64{42}},
			{Name: "empty", DType: "F32", Shape: []int{0, 4}},
			{Name: "backbone.0.bias", DType: "F32", Shape: []int{3}, F32: []float32{0.5, 0.25, -0.125}},
			{Name: "ids", DType: "I64", Shape: []int{3}, I64: []int64{-1, math.MaxInt64, math.MinInt64}},
			{Name: "ünïcødé \"name\"", DType: "F32", Shape: []int{1, 1, 1}, F32: []float32{3}},
		},
		Metadata: map[string]string{"kind": "cnn", "arch": `{"widths":[32,64]}`, "note": "<&> \"q\"\n\t é"},
	}
}

// same reports how a and b differ, comparing float bits and treating a nil
// shape or slice as empty.
func same(a, b *File) error {
	if len(a.Tensors) != len(b.Tensors) {
		return fmt.Errorf("%d tensors, want %d", len(a.Tensors), len(b.Tensors))
	}
	for i, x := range a.Tensors {
		y := b.Tensors[i]
		if x.Name != y.Name || x.DType != y.DType || fmt.Sprint(x.Shape) != fmt.Sprint(y.Shape) ||
			len(x.F32) != len(y.F32) || len(x.I64) != len(y.I64) {
			return fmt.Errorf("tensor %d: %q %s %v, want %q %s %v", i, x.Name, x.DType, x.Shape, y.Name, y.DType, y.Shape)
		}
		for j := range x.F32 {
			if math.Float32bits(x.F32[j]) != math.Float32bits(y.F32[j]) {
				return fmt.Errorf("%s[%d] = %v, want %v", x.Name, j, x.F32[j], y.F32[j])
			}
		}
		for j := range x.I64 {
			if x.I64[j] != y.I64[j] {
				return fmt.Errorf("%s[%d] = %v, want %v", x.Name, j, x.I64[j], y.I64[j])
			}
		}
	}
	for k, v := range b.Metadata {
		if a.Metadata[k] != v {
			return fmt.Errorf("metadata %q = %q, want %q", k, a.Metadata[k], v)
		}
	}
	return nil
}

func encode(t testing.TB, f *File) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Encode(&b, f); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func decode(b []byte) (*File, error) {
	return Decode(bytes.NewReader(b), int64(len(b)), "test.safetensors")
}

func TestRoundTrip(t *testing.T) {
	f := sample()
	b := encode(t, f)
	got, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := same(got, f); err != nil {
		t.Fatal(err)
	}
	if got.Metadata["format"] != Format || len(got.Metadata["checksum"]) != 64 {
		t.Errorf("metadata %v lacks format or checksum", got.Metadata)
	}
	if _, ok := f.Metadata["checksum"]; ok {
		t.Error("Encode changed the caller's metadata")
	}
	if again := encode(t, got); !bytes.Equal(again, b) {
		t.Error("re-encoding a decoded file changed its bytes")
	}

	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := Write(path, f); err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, b) {
		t.Error("Write and Encode give different bytes")
	}
	got, err = Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := same(got, f); err != nil {
		t.Fatal(err)
	}
}

// TestOurLayout pins the bytes we write: header keys in f.Tensors order,
// then __metadata__ with sorted keys; I64 data first; 8-byte alignment.
func TestOurLayout(t *testing.T) {
	f := &File{
		Tensors: []Tensor{
			{Name: "a", DType: "F32", Shape: []int{2}, F32: []float32{1, -2}},
			{Name: "n", DType: "I64", I64: []int64{7}},
		},
		Metadata: map[string]string{"k": "v"},
	}
	data := []byte{7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}
	sum := sha256.Sum256(data)
	head := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},` +
		`"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},` +
		`"__metadata__":{"checksum":"` + hex.EncodeToString(sum[:]) + `","format":"fmnist/2",` +
		`"header_checksum":"HEAD","k":"v"}}`
	// The header checksum: of the length and the header with its digits as zeros.
	zeros := strings.Repeat("0", 64)
	head = strings.Replace(head, "HEAD", zeros, 1)
	head += strings.Repeat(" ", (8-len(head)%8)%8)
	want := binary.LittleEndian.AppendUint64(nil, uint64(len(head)))
	headSum := sha256.Sum256(append(bytes.Clone(want), head...))
	head = strings.Replace(head, zeros, hex.EncodeToString(headSum[:]), 1)
	want = append(append(want, head...), data...)
	if got := encode(t, f); !bytes.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// golden is a file laid out as PyTorch's safetensors writer (save_file with
// metadata={"format": "pt"}) lays it out: __metadata__ first, tensors
// sorted by descending alignment then name, header padded with spaces.
// python3-safetensors is not packaged for this Debian release, so the
// bytes were written by hand from the format description, not by torch.
var golden = []byte("\x90\x00\x00\x00\x00\x00\x00\x00" +
	`{"__metadata__":{"format":"pt"},"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},` +
	`"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}      ` +
	"\x07\x00\x00\x00\x00\x00\x00\x00" + "\x00\x00\x80\x3f" + "\x00\x00\x00\xc0")

func TestGoldenForeign(t *testing.T) {
	got, err := decode(golden)
	if err != nil {
		t.Fatal(err)
	}
	want := &File{
		Tensors: []Tensor{
			{Name: "n", DType: "I64", Shape: []int{}, I64: []int64{7}},
			{Name: "a", DType: "F32", Shape: []int{2}, F32: []float32{1, -2}},
		},
		Metadata: map[string]string{"format": "pt"},
	}
	if err := same(got, want); err != nil {
		t.Fatal(err)
	}
	if len(got.Metadata) != 1 {
		t.Errorf("metadata %v, want only format", got.Metadata)
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		f    File
	}{
		{"unknown dtype", File{Tensors: []Tensor{{Name: "a", DType: "F16", Shape: []int{1}, F32: []float32{1}}}}},
		{"too few values", File{Tensors: []Tensor{{Name: "a", DType: "F32", Shape: []int{2, 2}, F32: []float32{1, 2, 3}}}}},
		{"values in the wrong slice", File{Tensors: []Tensor{{Name: "a", DType: "I64", Shape: []int{1}, F32: []float32{1}}}}},
		{"both slices", File{Tensors: []Tensor{{Name: "a", DType: "F32", Shape: []int{1}, F32: []float32{1}, I64: []int64{1}}}}},
		{"negative dim", File{Tensors: []Tensor{{Name: "a", DType: "F32", Shape: []int{-1, -1}, F32: []float32{1}}}}},
		{"overflowing shape", File{Tensors: []Tensor{{Name: "a", DType: "F32", Shape: []int{1 << 62, 1 << 62}}}}},
		{"duplicate name", File{Tensors: []Tensor{{Name: "a", DType: "F32", F32: []float32{1}}, {Name: "a", DType: "F32", F32: []float32{2}}}}},
		{"reserved name", File{Tensors: []Tensor{{Name: "__metadata__", DType: "F32", F32: []float32{1}}}}},
		{"name not UTF-8", File{Tensors: []Tensor{{Name: "a\xff", DType: "F32", F32: []float32{1}}}}},
		{"metadata not UTF-8", File{Metadata: map[string]string{"k": "\xc3"}}},
		{"empty metadata key", File{Metadata: map[string]string{"": "v"}}},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		err := Encode(&b, &tc.f)
		if err == nil || !strings.HasPrefix(err.Error(), "checkpoint: ") {
			t.Errorf("%s: err = %v, want a checkpoint error", tc.name, err)
		}
		if b.Len() != 0 {
			t.Errorf("%s: %d bytes written before the error", tc.name, b.Len())
		}
	}
}

// raw builds a file from a header and data, without any checks.
func raw(head string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(head)))
	return append(append(b, head...), data...)
}

func TestDecodeCorrupt(t *testing.T) {
	a := `"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`
	d8, d12 := make([]byte, 8), make([]byte, 12)
	sum8 := sha256.Sum256(d8)
	tests := []struct {
		name string
		file []byte
		err  error
	}{
		{"valid", raw("{"+a+"}", d8), nil},
		{"valid empty", raw("{}      ", nil), nil},
		{"valid with checksum", raw(`{`+a+`,"__metadata__":{"checksum":"`+hex.EncodeToString(sum8[:])+`"}}`, d8), nil},
		{"valid zero-size tensors", raw(`{"z":{"dtype":"I64","shape":[3,0],"data_offsets":[0,0]},"y":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},`+a+`}`, d8), nil},
		{"valid extra field", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}`, d8), nil},
		{"3 bytes", []byte{1, 2, 3}, ErrTruncated},
		{"empty", nil, ErrTruncated},
		{"header over the cap", binary.LittleEndian.AppendUint64(nil, MaxHeader+1), ErrFormat},
		{"header length 2^64-1", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), ErrFormat},
		{"header past the end", append(binary.LittleEndian.AppendUint64(nil, 1000), "{}"...), ErrTruncated},
		{"empty header", raw("", nil), ErrFormat},
		{"invalid JSON", raw(`{"a":`, nil), ErrFormat},
		{"not an object", raw(`[1,2]`, nil), ErrFormat},
		{"data after the object", raw(`{} x`, nil), ErrFormat},
		{"two objects", raw(`{}{}`, nil), ErrFormat},
		{"not UTF-8", raw("{\"\xff\":{}}", nil), ErrFormat},
		{"tensor not an object", raw(`{"a":5}`, nil), ErrFormat},
		{"unknown dtype", raw(`{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}`, d8), ErrFormat},
		{"dtype not a string", raw(`{"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}}`, d8), ErrFormat},
		{"no shape", raw(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, d8), ErrFormat},
		{"null shape", raw(`{"a":{"dtype":"F32","shape":null,"data_offsets":[0,4]}}`, d8[:4]), ErrFormat},
		{"no offsets", raw(`{"a":{"dtype":"F32","shape":[2]}}`, d8), ErrFormat},
		{"case-folded key", raw(`{"a":{"DTYPE":"F32","shape":[2],"data_offsets":[0,8]}}`, d8), ErrFormat},
		{"negative dim", raw(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, d8), ErrFormat},
		{"fractional dim", raw(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}`, d8), ErrFormat},
		{"overflowing shape", raw(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil), ErrFormat},
		{"shape too big for int", raw(`{"a":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,0]}}`, nil), ErrFormat},
		{"shape/offset mismatch", raw(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, d8), ErrFormat},
		{"I64 size mismatch", raw(`{"a":{"dtype":"I64","shape":[2],"data_offsets":[0,8]}}`, d8), ErrFormat},
		{"reversed offsets", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}`, d8), ErrFormat},
		{"three offsets", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}`, d8), ErrFormat},
		{"negative offset", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}`, d8), ErrFormat},
		{"overlap", raw(`{`+a+`,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, d12), ErrFormat},
		{"gap", raw(`{`+a+`,"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}`, make([]byte, 16)), ErrFormat},
		{"not from zero", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, d12), ErrFormat},
		{"same name twice", raw(`{`+a+`,`+a+`}`, d8), ErrFormat},
		{"bytes after the tensors", raw(`{`+a+`}`, d12), ErrFormat},
		{"data cut short", raw(`{`+a+`}`, d8[:5]), ErrTruncated},
		{"offsets past the end", raw(`{"a":{"dtype":"F32","shape":[268435456],"data_offsets":[0,1073741824]}}`, d8), ErrTruncated},
		{"metadata not strings", raw(`{"__metadata__":{"k":1}}`, nil), ErrFormat},
		{"metadata not an object", raw(`{"__metadata__":"x"}`, nil), ErrFormat},
		{"metadata twice", raw(`{"__metadata__":{},"__metadata__":{}}`, nil), ErrFormat},
		{"wrong checksum", raw(`{`+a+`,"__metadata__":{"checksum":"`+strings.Repeat("0", 64)+`"}}`, d8), ErrChecksum},
		{"malformed checksum", raw(`{`+a+`,"__metadata__":{"checksum":"xyz"}}`, d8), ErrChecksum},
	}
	for _, tc := range tests {
		_, err := decode(tc.file)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.err)
			continue
		}
		if err != nil && !strings.HasPrefix(err.Error(), "checkpoint: test.safetensors: ") {
			t.Errorf("%s: error %q does not name the package and file", tc.name, err)
		}
	}
}

func TestTruncation(t *testing.T) {
	b := encode(t, sample())
	for n := range len(b) {
		if _, err := decode(b[:n]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("prefix of %d of %d bytes: err = %v, want ErrTruncated", n, len(b), err)
		}
		// The size says more than the reader has.
		if _, err := Decode(bytes.NewReader(b[:n]), int64(len(b)), "x"); !errors.Is(err, ErrTruncated) {
			t.Fatalf("reader of %d of %d bytes: err = %v, want ErrTruncated", n, len(b), err)
		}
	}
}

func TestBitFlip(t *testing.T) {
	b := encode(t, sample())
	start := 8 + int(binary.LittleEndian.Uint64(b))
	for i := start; i < len(b); i++ {
		for bit := range 8 {
			c := bytes.Clone(b)
			c[i] ^= 1 << bit
			if _, err := decode(c); !errors.Is(err, ErrChecksum) {
				t.Fatalf("flip of bit %d of byte %d: err = %v, want ErrChecksum", bit, i, err)
			}
		}
	}
}

// A size that lies must not make Decode allocate what the header claims.
func TestDecodeAllocatesWhatIsRead(t *testing.T) {
	head := `{"a":{"dtype":"F32","shape":[268435456],"data_offsets":[0,1073741824]}}`
	b := raw(head, make([]byte, 1000))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(bytes.NewReader(b), int64(8+len(head))+1<<30, "liar")
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("err = %v, want ErrTruncated", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("allocated %d bytes for a 1 GiB claim backed by 1000 bytes", got)
	}
}

// failAfter accepts n bytes, then fails.
type failAfter struct {
	w io.Writer
	n int
}

var errDisk = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		return k, errDisk
	}
	f.n -= len(p)
	return f.w.Write(p)
}

func TestWriteKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	old := sample()
	if err := Write(path, old); err != nil {
		t.Fatal(err)
	}
	size := len(encode(t, old))
	next := sample()
	next.Tensors[0].F32[0] = 99
	for _, n := range []int{0, 7, 8, 100, size - 1} {
		writeHook = func(w io.Writer) io.Writer { return &failAfter{w, n} }
		err := Write(path, next)
		writeHook = nil
		if !errors.Is(err, errDisk) || !strings.Contains(err.Error(), path) {
			t.Fatalf("failing after %d bytes: err = %v, want the disk error naming the path", n, err)
		}
		got, err := Read(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := same(got, old); err != nil {
			t.Fatalf("failing after %d bytes changed the old file: %v", n, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("failing after %d bytes left %d entries in the folder", n, len(ents))
		}
	}
	// An invalid File fails before any file is made.
	bad := &File{Tensors: []Tensor{{Name: "a", DType: "F32", Shape: []int{2}}}}
	if err := Write(path, bad); err == nil {
		t.Fatal("Write of an invalid File succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("an invalid File left %d entries in the folder", len(ents))
	}
}

func TestWriteAtomicErrors(t *testing.T) {
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "missing", "m.safetensors"), sample()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Write into a missing folder: err = %v, want fs.ErrNotExist", err)
	}
	// Renaming over a non-empty folder fails after the data is written.
	target := filepath.Join(dir, "taken")
	if err := os.MkdirAll(filepath.Join(target, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(target, sample()); err == nil {
		t.Error("Write over a folder succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("a failed rename left %d entries, want only the folder", len(ents))
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "none.safetensors")
	if _, err := Read(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Read of a missing file: err = %v", err)
	}
	if _, err := Read(dir); err == nil || !strings.HasPrefix(err.Error(), "checkpoint: ") {
		t.Errorf("Read of a folder: err = %v", err)
	}
	path := filepath.Join(dir, "cut.safetensors")
	b := encode(t, sample())
	if err := os.WriteFile(path, b[:len(b)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), path) {
		t.Errorf("Read of a cut file: err = %v, want ErrTruncated naming the path", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encode(f, sample()))
	f.Add(encode(f, &File{}))
	f.Add(golden)
	f.Add(raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(readTestdata(f, "v1-model.safetensors"))
	f.Add(current(f, "v1-resume.safetensors"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		got, err := decode(b)
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrChecksum) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		// Whatever decodes must encode and decode to the same content.
		var out bytes.Buffer
		if err := Encode(&out, got); err != nil {
			t.Fatalf("decoded file does not encode: %v", err)
		}
		again, err := decode(out.Bytes())
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		if again.Check != AllChecked {
			t.Errorf("a file we wrote reads as %v", again.Check)
		}
		delete(got.Metadata, "checksum")
		delete(got.Metadata, "header_checksum")
		delete(got.Metadata, "format")
		if err := same(again, got); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkEncodeDecode(b *testing.B) {
	const n = 1 << 20
	f := &File{Tensors: []Tensor{{Name: "w", DType: "F32", Shape: []int{n}, F32: make([]float32, n)}}}
	for i := range f.Tensors[0].F32 {
		f.Tensors[0].F32[i] = float32(i)
	}
	data := encode(b, f)
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(n * 4)
		for b.Loop() {
			if err := Encode(io.Discard, f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(n * 4)
		for b.Loop() {
			if _, err := decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
