package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
)

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 5} {
		s := synth(n, true)
		ri, rl := encImages(t, s.Images), encLabels(t, s.Labels)
		for _, zip := range []bool{false, true} {
			bi, bl := ri, rl
			if zip {
				bi, bl = gz(t, ri), gz(t, rl)
			}
			// One byte at a time, to exercise short reads.
			img, m, err := DecodeImages(iotest.OneByteReader(bytes.NewReader(bi)), "img")
			if err != nil || m != n || !bytes.Equal(img, s.Images) {
				t.Fatalf("n=%d gz=%v: images: n %d, err %v, equal %v", n, zip, m, err, bytes.Equal(img, s.Images))
			}
			lbl, err := DecodeLabels(bytes.NewReader(bl), "lbl")
			if err != nil || !bytes.Equal(lbl, s.Labels) {
				t.Fatalf("n=%d gz=%v: labels: err %v, equal %v", n, zip, err, bytes.Equal(lbl, s.Labels))
			}
		}
	}
}

// header builds an IDX header by hand, for files the encoder refuses to
// write.
func header(magic uint32, dims ...uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestDecodeErrors(t *testing.T) {
	img := encImages(t, synth(2, false).Images)
	lbl := encLabels(t, []uint8{1, 2, 3})
	badCRC := gz(t, img)
	badCRC[len(badCRC)-6] ^= 0xff // inside the CRC-32 of the trailer
	badDeflate := gz(t, img)
	for i := 10; i < 40; i++ { // scramble the start of the deflate stream
		badDeflate[i] ^= 0x5a
	}
	for _, tc := range []struct {
		name   string
		images bool
		in     []byte
		want   error
	}{
		{"empty images", true, nil, ErrTruncated},
		{"empty labels", false, nil, ErrTruncated},
		{"short magic", true, []byte{0, 0, 8}, ErrTruncated},
		{"short dims", true, header(magicImages, 2, 28), ErrTruncated},
		{"labels as images", true, lbl, ErrMagic},
		{"images as labels", false, img, ErrMagic},
		{"float32 images", true, header(0x00000d03, 1, 28, 28), ErrMagic},
		{"two dims", true, header(0x00000802, 1, 784), ErrMagic},
		{"not idx", true, []byte("PK\x03\x04 a zip file, not IDX"), ErrMagic},
		{"32x32", true, header(magicImages, 1, 32, 32), ErrShape},
		{"28x27", true, header(magicImages, 1, 28, 27), ErrShape},
		{"too many images", true, header(magicImages, MaxItems+1, 28, 28), ErrTooLarge},
		{"2^32-1 images", true, header(magicImages, 1<<32-1, 28, 28), ErrTooLarge},
		{"too many labels", false, header(magicLabels, MaxItems+1), ErrTooLarge},
		{"pixels missing", true, img[:len(img)-1], ErrTruncated},
		{"header lies", true, header(magicImages, MaxItems, 28, 28), ErrTruncated},
		{"labels missing", false, lbl[:len(lbl)-1], ErrTruncated},
		{"label 10", false, cat(header(magicLabels, 3), []byte{0, 10, 1}), ErrLabelRange},
		{"label 255", false, cat(header(magicLabels, 1), []byte{255}), ErrLabelRange},
		{"trailing byte", true, cat(img, []byte{0}), ErrFormat},
		{"trailing label", false, cat(lbl, []byte{1}), ErrFormat},
		{"gzip bad crc", true, badCRC, ErrFormat},
		{"gzip bad deflate", true, badDeflate, ErrFormat},
		{"gzip header only", true, gz(t, img)[:10], ErrTruncated},
		{"gzip no trailer", true, gz(t, img)[:len(gz(t, img))-8], ErrTruncated},
		{"gzip then garbage", true, cat(gz(t, img), []byte("garbage after the gzip stream")), ErrFormat},
		{"gzip of gzip", true, gz(t, gz(t, img)), ErrMagic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeAny(tc.images, tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !bytes.Contains([]byte(err.Error()), []byte("dataset: the-file: ")) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func decodeAny(images bool, in []byte) error {
	if images {
		_, _, err := DecodeImages(bytes.NewReader(in), "the-file")
		return err
	}
	_, err := DecodeLabels(bytes.NewReader(in), "the-file")
	return err
}

func TestDecodeErrorText(t *testing.T) {
	for _, tc := range []struct {
		images bool
		in     []byte
		want   string
	}{
		{false, encImages(t, nil), "dataset: the-file: wrong magic number: magic 0x00000803, want 0x00000801 (this is an image file)"},
		{true, header(0x00000d03), "magic 0x00000d03, want 0x00000803 (element type 0x0d, want 0x08 unsigned byte)"},
		{true, header(magicImages, 3, 28, 28), "truncated: 0 of 2352 pixel bytes"},
		{true, header(magicImages, 2000000, 28, 28), "too large: header says 2000000 images, limit 1048576"},
		{false, cat(header(magicLabels, 3), []byte{0, 1, 12}), "label out of range: label 12 at index 2, want 0..9"},
	} {
		err := decodeAny(tc.images, tc.in)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Errorf("err = %v, want it to contain %q", err, tc.want)
		}
	}
}

// TestTruncatedPrefixes cuts a small file at every length: each prefix
// must fail cleanly, never panic, and the whole file must decode.
func TestTruncatedPrefixes(t *testing.T) {
	s := synth(3, true)
	for _, f := range []struct {
		name   string
		images bool
		raw    []byte
	}{
		{"images", true, encImages(t, s.Images)},
		{"labels", false, encLabels(t, s.Labels)},
	} {
		for _, zip := range []bool{false, true} {
			in := f.raw
			if zip {
				in = gz(t, f.raw)
			}
			for n := range len(in) {
				err := decodeAny(f.images, in[:n])
				// A gzip stream cut inside its trailer is reported as
				// truncated too; nothing else is acceptable.
				if !errors.Is(err, ErrTruncated) {
					t.Fatalf("%s gz=%v: prefix %d of %d: err = %v, want ErrTruncated", f.name, zip, n, len(in), err)
				}
			}
			if err := decodeAny(f.images, in); err != nil {
				t.Fatalf("%s gz=%v: whole file: %v", f.name, zip, err)
			}
		}
	}
}

// TestHeaderDoesNotSizeBuffers decodes a file that claims MaxItems images
// but holds a few bytes: the decoder must not reserve the 822 MB the
// header asks for.
func TestHeaderDoesNotSizeBuffers(t *testing.T) {
	in := cat(header(magicImages, MaxItems, 28, 28), make([]byte, 100))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := DecodeImages(bytes.NewReader(in), "liar")
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("err = %v, want ErrTruncated", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("allocated %d bytes for a 116-byte file", got)
	}
}

// TestReadError checks that an I/O error is passed on, wrapped.
func TestReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	img := encImages(t, synth(2, false).Images)
	for _, n := range []int{0, 10, 100} {
		r := io.MultiReader(bytes.NewReader(img[:n]), iotest.ErrReader(boom))
		_, _, err := DecodeImages(r, "x")
		if !errors.Is(err, boom) {
			t.Errorf("cut at %d: err = %v, want it to wrap %v", n, err, boom)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	if err := EncodeImages(io.Discard, make([]uint8, 100)); err == nil {
		t.Error("EncodeImages(100 pixels): no error")
	}
	if err := EncodeLabels(io.Discard, []uint8{1, 10}); !errors.Is(err, ErrLabelRange) {
		t.Errorf("EncodeLabels(10): err = %v, want ErrLabelRange", err)
	}
	boom := errors.New("full")
	if err := EncodeLabels(errWriter{boom}, []uint8{1}); !errors.Is(err, boom) {
		t.Errorf("EncodeLabels to a failing writer: err = %v", err)
	}
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }
