package checkpoint

import (
	"errors"
	"fmt"
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
