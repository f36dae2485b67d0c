package tensor

import (
	"strings"
	"testing"
)

func TestNewAndFromData(t *testing.T) {
	shape := []int{2, 3}
	x := New(shape...)
	shape[0] = 9
	if x.Shape[0] != 2 || x.Len() != 6 {
		t.Fatalf("New: shape %v len %d, want (2, 3) and 6 (the shape is copied)", x.Shape, x.Len())
	}
	for _, v := range x.Data {
		if v != 0 {
			t.Fatal("New: not zeroed")
		}
	}
	d := []float32{1, 2, 3, 4}
	y := FromData(d, 2, 2)
	d[3] = 7
	if y.Data[3] != 7 {
		t.Error("FromData copied the data; it should wrap it")
	}
	if r := y.Reshape(4); r.Shape[0] != 4 || &r.Data[0] != &d[0] {
		t.Errorf("Reshape: shape %v, or not a view", r.Shape)
	}
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, "3 elements for shape [2 2]") {
			t.Errorf("FromData with the wrong size: panic %q", msg)
		}
	}()
	FromData(make([]float32, 3), 2, 2)
}

func TestEnsure(t *testing.T) {
	a := Ensure(nil, 2, 4)
	if !SameShape(a.Shape, []int{2, 4}) || a.Len() != 8 {
		t.Fatalf("from nil: %v", a)
	}
	if Ensure(a, 2, 4) != a {
		t.Error("same shape: want the same tensor")
	}
	a.Data[0] = 5
	b := Ensure(a, 3, 2) // fits in a's storage: reused and cleared
	if &b.Data[0] != &a.Data[0] || b.Data[0] != 0 || b.Len() != 6 {
		t.Errorf("smaller shape: reuse %v, first %v, len %d; want reused, cleared, 6", &b.Data[0] == &a.Data[0], b.Data[0], b.Len())
	}
	c := Ensure(a, 3, 3) // too big: new storage
	if &c.Data[0] == &a.Data[0] || c.Len() != 9 {
		t.Error("larger shape: want new storage of 9")
	}
}

func TestMustShape(t *testing.T) {
	x := New(4, 28, 28, 1)
	MustShape("ok", x, -1, 28, 28, 1)
	if n := testing.AllocsPerRun(100, func() { MustShape("ok", x, -1, 28, 28, 1) }); n != 0 {
		t.Errorf("a passing check allocates %v times", n)
	}
	for _, want := range [][]int{{-1, 28, 28}, {4, 28, 27, 1}} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, "layer: shape [4 28 28 1], want") {
					t.Errorf("want %v: panic %q", want, msg)
				}
			}()
			MustShape("layer", x, want...)
		}()
	}
}

func TestShapeString(t *testing.T) {
	for _, c := range []struct {
		shape []int
		want  string
	}{{nil, "()"}, {[]int{5}, "(5,)"}, {[]int{50000, 28, 28}, "(50000, 28, 28)"}} {
		if got := ShapeString(c.shape); got != c.want {
			t.Errorf("ShapeString(%v) = %q, want %q", c.shape, got, c.want)
		}
	}
	if got := New(2, 3).String(); got != "(2, 3) float32" {
		t.Errorf("String %q", got)
	}
}
