package dataset

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Shape of one Fashion-MNIST image and the number of classes.
const (
	Rows    = 28
	Cols    = 28
	Pixels  = Rows * Cols
	Classes = 10
)

// MaxItems is the largest item count a decoder accepts from a header, so that
// a hostile or broken file cannot make it reserve gigabytes. Fashion-MNIST has
// 60,000; the limit leaves room for larger variants of the same format.
const MaxItems = 1 << 20

// ClassNames are the ten Fashion-MNIST classes, indexed by label.
var ClassNames = [Classes]string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// Errors that callers test with errors.Is. The errors returned wrap one of
// them and add the file name and the offending values.
var (
	ErrTruncated     = errors.New("truncated")
	ErrMagic         = errors.New("wrong magic number")
	ErrShape         = errors.New("wrong dimensions")
	ErrFormat        = errors.New("corrupt file")
	ErrTooLarge      = errors.New("too large")
	ErrLabelRange    = errors.New("label out of range")
	ErrCountMismatch = errors.New("image and label counts differ")
	ErrChecksum      = errors.New("checksum mismatch")
	ErrNotFound      = errors.New("Fashion-MNIST files not found")
	ErrDownload      = errors.New("download failed")
)

// IDX magic numbers: two zero bytes, the element type (0x08: unsigned byte)
// and the number of dimensions.
const (
	magicImages = 0x00000803
	magicLabels = 0x00000801
	typeUint8   = 0x08
)

// DecodeImages reads an IDX image file (magic 0x00000803, N×28×28 unsigned
// bytes), gzipped or raw, and returns its pixels row-major and N. name is
// used in errors only.
func DecodeImages(r io.Reader, name string) (images []uint8, n int, err error) {
	return decodeImages(r, name, nil, MaxItems)
}

// DecodeLabels reads an IDX label file (magic 0x00000801, N unsigned bytes
// in 0..9), gzipped or raw. name is used in errors only.
func DecodeLabels(r io.Reader, name string) (labels []uint8, err error) {
	return decodeLabels(r, name, nil, MaxItems)
}

// decodeImages is DecodeImages that also writes the decompressed bytes to h
// (when not nil), so that verifying costs no second read.
func decodeImages(r io.Reader, name string, h hash.Hash, maxItems int) ([]uint8, int, error) {
	d, err := newDecoder(r, name, h)
	if err != nil {
		return nil, 0, err
	}
	dims, err := d.header(magicImages, 3)
	if err != nil {
		return nil, 0, err
	}
	if dims[1] != Rows || dims[2] != Cols {
		return nil, 0, d.errorf(ErrShape, "images are %d×%d, want %d×%d", dims[1], dims[2], Rows, Cols)
	}
	n := dims[0]
	if n > uint64(maxItems) {
		return nil, 0, d.errorf(ErrTooLarge, "header says %d images, limit %d", n, maxItems)
	}
	px, err := d.payload(int(n)*Pixels, "pixel")
	if err != nil {
		return nil, 0, err
	}
	return px, int(n), d.end()
}

func decodeLabels(r io.Reader, name string, h hash.Hash, maxItems int) ([]uint8, error) {
	d, err := newDecoder(r, name, h)
	if err != nil {
		return nil, err
	}
	dims, err := d.header(magicLabels, 1)
	if err != nil {
		return nil, err
	}
	n := dims[0]
	if n > uint64(maxItems) {
		return nil, d.errorf(ErrTooLarge, "header says %d labels, limit %d", n, maxItems)
	}
	labels, err := d.payload(int(n), "label")
	if err != nil {
		return nil, err
	}
	if i, ok := badLabel(labels); ok {
		return nil, d.errorf(ErrLabelRange, "label %d at index %d, want 0..%d", labels[i], i, Classes-1)
	}
	return labels, d.end()
}

// badLabel returns the index of the first label outside 0..Classes-1.
func badLabel(labels []uint8) (int, bool) {
	for i, l := range labels {
		if l >= Classes {
			return i, true
		}
	}
	return 0, false
}

// decoder reads the decompressed bytes of one IDX file.
type decoder struct {
	name string
	r    io.Reader // decompressed stream, teed into the hash
	gz   bool
}

func newDecoder(r io.Reader, name string, h hash.Hash) (*decoder, error) {
	d := &decoder{name: name}
	br := bufio.NewReaderSize(r, 64<<10)
	m, err := br.Peek(2)
	switch {
	case len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b:
		d.gz = true
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, d.wrap(err, "gzip header")
		}
		d.r = zr
	case err != nil && err != io.EOF:
		return nil, d.wrap(err, "read")
	default:
		d.r = br
	}
	if h != nil {
		d.r = io.TeeReader(d.r, h)
	}
	return d, nil
}

func (d *decoder) errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("dataset: %s: %w: "+format, append([]any{d.name, kind}, args...)...)
}

// wrap turns a read error into one of the package's errors: a stream that
// ends early is ErrTruncated, a damaged gzip stream is ErrFormat, and
// anything else (an I/O error) is passed on wrapped.
func (d *decoder) wrap(err error, what string) error {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return d.errorf(ErrTruncated, "file ends in the %s", what)
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.As(err, &corrupt):
		return d.errorf(ErrFormat, "%s: %v", what, err)
	}
	return fmt.Errorf("dataset: %s: %s: %w", d.name, what, err)
}

// header reads and checks the magic number and returns the dimensions.
func (d *decoder) header(magic uint32, ndim int) ([]uint64, error) {
	var b [4 * 4]byte
	if _, err := io.ReadFull(d.r, b[:4]); err != nil {
		return nil, d.wrap(err, "header")
	}
	got := binary.BigEndian.Uint32(b[:4])
	if got != magic {
		return nil, d.errorf(ErrMagic, "magic 0x%08x, want 0x%08x%s", got, magic, magicHint(got, magic))
	}
	if _, err := io.ReadFull(d.r, b[:4*ndim]); err != nil {
		return nil, d.wrap(err, "header")
	}
	dims := make([]uint64, ndim)
	for i := range dims {
		dims[i] = uint64(binary.BigEndian.Uint32(b[4*i:]))
	}
	return dims, nil
}

// magicHint explains a wrong magic number when the reason is easy to name.
func magicHint(got, want uint32) string {
	switch {
	case got == magicLabels && want == magicImages:
		return " (this is a label file)"
	case got == magicImages && want == magicLabels:
		return " (this is an image file)"
	case got>>16 != 0:
		return " (not an IDX file)"
	case (got>>8)&0xff != typeUint8:
		return fmt.Sprintf(" (element type 0x%02x, want 0x08 unsigned byte)", (got>>8)&0xff)
	}
	return fmt.Sprintf(" (%d dimensions, want %d)", got&0xff, want&0xff)
}

// payload reads exactly n bytes. The buffer grows with what actually
// arrives, so a header that lies about its size costs no more memory than
// the file holds.
func (d *decoder) payload(n int, what string) ([]uint8, error) {
	const first = 1 << 20
	buf := make([]uint8, 0, min(n, first))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]uint8, len(buf), min(n, 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		m, err := io.ReadFull(d.r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, d.errorf(ErrTruncated, "%d of %d %s bytes", len(buf), n, what)
			}
			return nil, d.wrap(err, what+" data")
		}
	}
	return buf, nil
}

// end checks that nothing follows the last item. Reading to the end also
// makes the gzip reader check its CRC and length.
func (d *decoder) end() error {
	var b [1]byte
	m, err := io.ReadFull(d.r, b[:])
	if m > 0 {
		return d.errorf(ErrFormat, "data after the last item")
	}
	if err != nil && err != io.EOF {
		return d.wrap(err, "gzip trailer")
	}
	return nil
}

// EncodeImages writes images (N×784 pixels, row-major) as a raw IDX file.
// Wrap w in a gzip.Writer for a .gz file.
func EncodeImages(w io.Writer, images []uint8) error {
	if len(images)%Pixels != 0 {
		return fmt.Errorf("dataset: encode: %d pixels is not a whole number of %d-pixel images", len(images), Pixels)
	}
	n := len(images) / Pixels
	if n > MaxItems {
		return fmt.Errorf("dataset: encode: %w: %d images, limit %d", ErrTooLarge, n, MaxItems)
	}
	var h [16]byte
	binary.BigEndian.PutUint32(h[0:], magicImages)
	binary.BigEndian.PutUint32(h[4:], uint32(n))
	binary.BigEndian.PutUint32(h[8:], Rows)
	binary.BigEndian.PutUint32(h[12:], Cols)
	if _, err := w.Write(h[:]); err != nil {
		return fmt.Errorf("dataset: encode: %w", err)
	}
	if _, err := w.Write(images); err != nil {
		return fmt.Errorf("dataset: encode: %w", err)
	}
	return nil
}

// EncodeLabels writes labels (each 0..9) as a raw IDX file.
func EncodeLabels(w io.Writer, labels []uint8) error {
	if len(labels) > MaxItems {
		return fmt.Errorf("dataset: encode: %w: %d labels, limit %d", ErrTooLarge, len(labels), MaxItems)
	}
	if i, ok := badLabel(labels); ok {
		return fmt.Errorf("dataset: encode: %w: label %d at index %d", ErrLabelRange, labels[i], i)
	}
	var h [8]byte
	binary.BigEndian.PutUint32(h[0:], magicLabels)
	binary.BigEndian.PutUint32(h[4:], uint32(len(labels)))
	if _, err := w.Write(h[:]); err != nil {
		return fmt.Errorf("dataset: encode: %w", err)
	}
	if _, err := w.Write(labels); err != nil {
		return fmt.Errorf("dataset: encode: %w", err)
	}
	return nil
}
