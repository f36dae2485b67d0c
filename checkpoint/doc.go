// Package checkpoint saves and loads tensors and their metadata as
// safetensors files, atomically.
//
// A file is an 8-byte little-endian header length N, N bytes of JSON
// mapping each tensor name to {"dtype", "shape", "data_offsets"} plus an
// optional "__metadata__" map of strings, then the raw little-endian data.
// We write exactly what the safetensors library reads (so PyTorch loads our
// files): dtypes F32 and I64, the header padded with spaces to 8 bytes, the
// data packed with no gaps. I64 tensors come first in the data so that every
// tensor is aligned to its element size; the header lists the tensors in the
// caller's order, then __metadata__ with sorted keys, so the same File always
// gives the same bytes.
//
// The metadata always carries "format" ("fmnist/2"),
// "checksum", the SHA-256 of the data section, and "header_checksum", the
// SHA-256 of the length and the header with that value's own digits read as
// zeros. The header holds the data's checksum, so together they cover every
// byte: a changed digit of a metadata value is a checksum error, like a
// flipped bit in a weight. Decode verifies what is present and says so in
// File.Check. Format 1 files (data checksum only) and files from elsewhere
// (PyTorch's, with no checksum) still load, as DataChecked or Unchecked:
// their readers must validate the metadata values they use. A file whose
// format is ours but not 1 must have both checksums, so that removing the
// header checksum does not turn a file into an unchecked one.
//
// Decoding trusts nothing in the file: every size is checked against the
// bytes present before anything is allocated from it, and every error wraps
// ErrTruncated, ErrFormat or ErrChecksum (or an I/O error of the reader).
//
// Training state for resume is a File too: the weights, the optimiser slots
// and whatever else as extra tensors, the step and config in the metadata.
package checkpoint
