package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// testdata/v1-model.safetensors is a small MLP model file and
// testdata/v1-resume.safetensors a resume checkpoint, both written by fmnist
// before header_checksum existed (format 1, a checksum of the data only).

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// current is a v1 testdata file written again by this version.
func current(t testing.TB, name string) []byte {
	t.Helper()
	f, err := decode(readTestdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return encode(t, f)
}

// split returns the header of a file and what follows it.
func split(b []byte) (string, []byte) {
	n := 8 + binary.LittleEndian.Uint64(b)
	return string(b[8:n]), b[n:]
}

// reheader rebuilds file b with its header edited, padded again to 8 bytes.
func reheader(b []byte, edit func(string) string) []byte {
	head, data := split(b)
	head = edit(strings.TrimRight(head, " "))
	return raw(head+strings.Repeat(" ", (8-len(head)%8)%8), data)
}

// resealed is b with its header edited and header_checksum computed again,
// as a forger who knows the scheme would.
func resealed(t *testing.T, b []byte, edit func(string) string) []byte {
	t.Helper()
	c := reheader(b, edit)
	head, _ := split(c)
	at := strings.Index(head, `"header_checksum":"`) + len(`"header_checksum":"`)
	zeros := strings.Repeat("0", 64)
	sealed := head[:at] + zeros + head[at+64:]
	sum := sha256.Sum256(append(bytes.Clone(c[:8]), sealed...))
	copy(c[8+at:], hex.EncodeToString(sum[:]))
	return c
}

func TestCheckCoverage(t *testing.T) {
	v1, v2 := readTestdata(t, "v1-model.safetensors"), current(t, "v1-model.safetensors")
	replace := func(old, new string) func(string) string {
		return func(h string) string {
			if !strings.Contains(h, old) {
				t.Fatalf("no %q in the header", old)
			}
			return strings.Replace(h, old, new, 1)
		}
	}
	a := `"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`
	d8 := make([]byte, 8)
	tests := []struct {
		name  string
		file  []byte
		check Check
		err   error // with ErrChecksum, the message says this
		msg   string
	}{
		{"ours", v2, AllChecked, nil, ""},
		{"ours, empty", encode(t, &File{}), AllChecked, nil, ""},
		{"format 1, written before header_checksum", v1, DataChecked, nil, ""},
		{"format 1 resume checkpoint", readTestdata(t, "v1-resume.safetensors"), DataChecked, nil, ""},
		{"PyTorch's, no checksum", golden, Unchecked, nil, ""},
		{"no metadata", raw("{"+a+"}", d8), Unchecked, nil, ""},
		{"a digit of pixel_mean changed", reheader(v2, replace(`"pixel_mean":"0.2`, `"pixel_mean":"0.3`)), 0,
			ErrChecksum, "header hashes to"},
		{"the shape transposed", reheader(v2, replace(`"shape":[4,784]`, `"shape":[784,4]`)), 0,
			ErrChecksum, "header hashes to"},
		{"the shape made inconsistent", reheader(v2, replace(`"shape":[4,784]`, `"shape":[4,785]`)), 0,
			ErrFormat, ""},
		{"header_checksum removed", reheader(v2, func(h string) string {
			i := strings.Index(h, `"header_checksum"`)
			return h[:i] + h[i+len(`"header_checksum":"`)+64+2:]
		}), 0, ErrChecksum, `format "fmnist/2", but no header_checksum`},
		{"header_checksum renamed", reheader(v2, replace(`"header_checksum"`, `"header_checksun"`)), 0,
			ErrChecksum, "but no header_checksum"},
		{"a later format without header_checksum", reheader(v1, replace(`fmnist/1"`, `fmnist/7"`)), 0,
			ErrChecksum, "but no header_checksum"},
		{"header_checksum cut short", reheader(v2, replace(`"header_checksum":"`, `"header_checksum":"0",".":"`)), 0,
			ErrChecksum, "is not where it is computed"},
		{"header_checksum twice", reheader(v2, replace(`"header_checksum":`, `"header_checksum":"x","header_checksum":`)), 0,
			ErrChecksum, "is not where it is computed"},
		{"header_checksum escaped", reheader(v2, replace(`"header_checksum":`, `"header_checksu\u006d":`)), 0,
			ErrChecksum, "is not where it is computed"},
		{"header_checksum without the data's", resealed(t, v2, func(h string) string {
			i := strings.Index(h, `"checksum"`)
			return h[:i] + h[i+len(`"checksum":"`)+64+2:]
		}), 0, ErrChecksum, "no checksum of the data"},
		// A forger who recomputes both checksums is not stopped by them;
		// they guard against damage and careless edits, not signatures.
		{"resealed after an edit", resealed(t, v2, replace(`"pixel_mean":"0.2`, `"pixel_mean":"0.3`)), AllChecked, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := decode(tc.file)
			if !errors.Is(err, tc.err) || err != nil && !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v saying %q", err, tc.err, tc.msg)
			}
			if err == nil && f.Check != tc.check {
				t.Errorf("Check = %v, want %v", f.Check, tc.check)
			}
		})
	}
}

// Flipping any bit of the length or the header of a real model file is an
// error, and a checksum error whenever the header still parses: no byte of
// the metadata is left uncovered.
func TestHeaderBitFlip(t *testing.T) {
	for _, name := range []string{"v1-model.safetensors", "v1-resume.safetensors"} {
		b := current(t, name)
		n := 8 + int(binary.LittleEndian.Uint64(b))
		for i := range n {
			for bit := range 8 {
				if (testing.Short() || raceEnabled) && bit != i%8 {
					continue // one bit of each byte
				}
				c := bytes.Clone(b)
				c[i] ^= 1 << bit
				_, err := decode(c)
				if err == nil {
					t.Fatalf("%s: flip of bit %d of byte %d (%q) loaded", name, bit, i, b[i])
				}
				if i < 8 {
					continue // the length: truncated or format errors
				}
				if _, _, perr := parseHeader(c[8:n]); perr == nil && !errors.Is(err, ErrChecksum) {
					t.Fatalf("%s: flip of bit %d of byte %d (%q): err = %v, want ErrChecksum", name, bit, i, b[i], err)
				}
			}
		}
	}
}

// Every metadata value of a real checkpoint is covered: a changed
// character in any of them is a checksum error.
func TestMetadataEdits(t *testing.T) {
	b := current(t, "v1-resume.safetensors")
	f, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range f.Metadata {
		if k == "header_checksum" || v == "" {
			continue
		}
		// The value's first digit plus one, or its last character changed.
		w := []byte(v)
		if i := strings.IndexAny(v, "0123456789"); i >= 0 {
			w[i] = '0' + (w[i]-'0'+1)%10
		} else {
			w[len(w)-1] ^= 1
		}
		old, _ := json.Marshal(map[string]string{k: v})
		new, _ := json.Marshal(map[string]string{k: string(w)})
		c := reheader(b, func(h string) string {
			return strings.Replace(h, string(old[1:len(old)-1]), string(new[1:len(new)-1]), 1)
		})
		if bytes.Equal(c, b) {
			t.Fatalf("%s: the edit changed nothing", k)
		}
		if _, err := decode(c); !errors.Is(err, ErrChecksum) {
			t.Errorf("%s changed from %.40q to %.40q: err = %v, want ErrChecksum", k, v, w, err)
		}
	}
}
