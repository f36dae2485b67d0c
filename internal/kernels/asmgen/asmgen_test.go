package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The committed .s files are the generator's output: a hand edit, or a
// generator change without `go generate`, fails here as well as in CI.
func TestCommittedFilesMatch(t *testing.T) {
	for _, f := range files() {
		got, err := os.ReadFile(filepath.Join("..", f.name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, f.b.Bytes()) {
			t.Errorf("%s differs from the generator's output; run go generate in internal/kernels", f.name)
		}
	}
}

func TestFrame(t *testing.T) {
	for _, tc := range []struct {
		params, results string
		args            map[string]int
		size            int
		err             string
	}{
		{"k int, a, b, c *float32, ldc int, alpha, beta float32", "",
			map[string]int{"k": 0, "a": 8, "b": 16, "c": 24, "ldc": 32, "alpha": 40, "beta": 44}, 48, ""},
		{"y, bias *float32, rows, w, stride int, relu bool", "",
			map[string]int{"y": 0, "bias": 8, "rows": 16, "w": 24, "stride": 32, "relu": 40}, 41, ""},
		// A bool then an int: the int moves to the next multiple of 8.
		{"relu bool, n int", "", map[string]int{"relu": 0, "n": 8}, 16, ""},
		{"x *float32, n int, a float32", "", map[string]int{"x": 0, "n": 8, "a": 16}, 20, ""},
		// The result starts at a multiple of 8 after the arguments.
		{"a float32", "bool", map[string]int{"a": 0, "ret": 8}, 9, ""},
		{"src *[16]*float32, c int", "", map[string]int{"src": 0, "c": 8}, 16, ""},
		{"a, b", "", nil, 0, "without a type"},
		{"a uint16", "", nil, 0, "unknown type"},
		{"a int", "string", nil, 0, "unknown type"},
		{"a int,, b int", "", nil, 0, "bad parameter"},
	} {
		args, size, err := frame(tc.params, tc.results)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("frame(%q, %q): error %v, want one with %q", tc.params, tc.results, err, tc.err)
			}
			continue
		}
		if err != nil || size != tc.size || !reflect.DeepEqual(args, tc.args) {
			t.Errorf("frame(%q, %q) = %v, %d, %v; want %v, %d", tc.params, tc.results, args, size, err, tc.args, tc.size)
		}
	}
}

// A tile size is one change: other tiles generate kernels with one FMA per
// accumulator and step, and tiles the registers cannot hold are refused.
func TestSgemmTileSizes(t *testing.T) {
	for _, tc := range []struct {
		tile gemmTile
		err  string
	}{
		{tileAVX2, ""},
		{tileAVX512, ""},
		{with(tileAVX2, func(t *gemmTile) { t.mr = 4 }), ""},
		{with(tileAVX2, func(t *gemmTile) { t.mr, t.nr, t.bcasts = 3, 24, 3 }), ""},
		{with(tileAVX512, func(t *gemmTile) { t.mr = 8 }), ""},
		{with(tileAVX512, func(t *gemmTile) { t.unroll = 8 }), ""},
		{with(tileAVX2, func(t *gemmTile) { t.mr = 7 }), "registers"},
		{with(tileAVX2, func(t *gemmTile) { t.nr = 12 }), "lanes"},
		{with(tileAVX2, func(t *gemmTile) { t.mr, t.nr = 3, 24 }), "temporaries"},
		{with(tileAVX512, func(t *gemmTile) { t.mr, t.nr = 13, 16 }), "rows"},
		{with(tileAVX2, func(t *gemmTile) { t.unroll = 3 }), "power of 2"},
	} {
		err := tc.tile.check()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want one with %q", tc.tile.name(), err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.tile.name(), err)
			continue
		}
		text := sgemmFile("x.s", tc.tile).b.String()
		// Packed and strided forms, each unroll + 1 steps.
		steps := 2 * (tc.tile.unroll + 1)
		accs := tc.tile.mr * tc.tile.nv()
		// The store adds alpha·acc once per accumulator.
		if got, want := strings.Count(text, "VFMADD231PS"), steps*accs+2*accs; got != want {
			t.Errorf("%s: %d VFMADD231PS, want %d", tc.tile.name(), got, want)
		}
		if got, want := strings.Count(text, "\tVBROADCASTSS "), steps*tc.tile.mr+2*2; got != want {
			t.Errorf("%s: %d VBROADCASTSS, want %d", tc.tile.name(), got, want)
		}
		if !strings.Contains(text, "TEXT ·sgemmKernel"+tc.tile.dims()+"Strided"+tc.tile.isa+"(SB)") {
			t.Errorf("%s: no strided kernel", tc.tile.name())
		}
	}
}

func with(t gemmTile, change func(*gemmTile)) gemmTile {
	change(&t)
	return t
}
