package dataset

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to both decoders. They must return an
// error or a result that re-encodes to the same decompressed bytes, never
// panic. Item counts are capped so that a tiny gzip bomb cannot make one
// input take seconds.
func FuzzDecode(f *testing.F) {
	const maxItems = 64
	s := synth(3, true)
	img, lbl := encImages(f, s.Images), encLabels(f, s.Labels)
	for _, seed := range [][]byte{
		img, lbl, gz(f, img), gz(f, lbl),
		encImages(f, nil), encLabels(f, nil),
		header(magicImages, 1, 28, 28), header(magicLabels, 2, 9),
		img[:100], gz(f, lbl)[:20],
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 1<<16 {
			return
		}
		images, n, err := decodeImages(bytes.NewReader(in), "fuzz", nil, maxItems)
		if err == nil {
			if n > maxItems || len(images) != n*Pixels {
				t.Fatalf("n = %d with %d pixels", n, len(images))
			}
			again, m, err := DecodeImages(bytes.NewReader(encImages(t, images)), "again")
			if err != nil || m != n || !bytes.Equal(again, images) {
				t.Fatalf("images do not round-trip: %v", err)
			}
		}
		labels, err := decodeLabels(bytes.NewReader(in), "fuzz", nil, maxItems)
		if err == nil {
			if len(labels) > maxItems {
				t.Fatalf("%d labels", len(labels))
			}
			if i, bad := badLabel(labels); bad {
				t.Fatalf("label %d accepted at %d", labels[i], i)
			}
			again, err := DecodeLabels(bytes.NewReader(encLabels(t, labels)), "again")
			if err != nil || !bytes.Equal(again, labels) {
				t.Fatalf("labels do not round-trip: %v", err)
			}
		}
	})
}
