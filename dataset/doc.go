// Package dataset owns the Fashion-MNIST data: decoding the IDX files
// (gzipped or raw), finding or fetching them, checking them, the seeded
// train/validation split, and the batch loader with its augmentations.
//
// The one idea: every byte from a file is distrusted until checked, and
// every random choice is a pure function of a seed.
//
// Decoding never sizes a buffer from a header alone: buffers grow with the
// bytes that actually arrive, up to MaxItems items. The SHA-256 used for
// verification is computed on the decompressed stream while it is decoded,
// so checking costs no second read; decompressed bytes are compared because
// Debian recompresses the files (the mirror's gzip MD5s are checked on
// downloads only).
//
// Load looks in this order: Options.Dir (--data), $FMNIST_DATA, the user's
// cache folder, Debian's /usr/share/datasets/fashion-mnist, and last
// downloads into the cache, through a temp file that is verified and synced
// before it is renamed into place.
//
// Randomness comes from math/rand/v2's PCG, reseeded through splitmix64
// from (seed, purpose, epoch, position). Only PCG's Uint64 is used; bounded
// integers (Lemire) and the erasing geometry (integer areas, a table of
// aspects built from square roots) are computed here, so the split and the
// augmentations are the same on every machine and Go version. Seeding per
// item rather than drawing from one stream per epoch is what makes
// Loader.Seek exact, and would let items be prepared in parallel without
// changing a bit.
package dataset
