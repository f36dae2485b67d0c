package tensor

import (
	"fmt"
	"strings"
)

// Tensor is a dense, row-major float32 array. Data has exactly the product
// of Shape elements.
type Tensor struct {
	Shape []int
	Data  []float32
}

// New returns a zeroed tensor of the given shape.
func New(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, Size(shape))}
}

// FromData wraps data (not copied) with a shape. It panics when the sizes
// disagree, since that is a programming error.
func FromData(data []float32, shape ...int) *Tensor {
	if Size(shape) != len(data) {
		panic(fmt.Sprintf("tensor: %d elements for shape %v", len(data), shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Size is the number of elements of a shape.
func Size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len is the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Reshape returns a view with another shape of the same size.
func (t *Tensor) Reshape(shape ...int) *Tensor { return FromData(t.Data, shape...) }

// Ensure returns t when it already has the shape, and otherwise a new zeroed
// tensor of that shape, reusing t's storage when it is large enough. Layers
// use it to allocate scratch once per batch shape.
func Ensure(t *Tensor, shape ...int) *Tensor {
	if t != nil && SameShape(t.Shape, shape) {
		return t
	}
	n := Size(shape)
	if t != nil && cap(t.Data) >= n {
		d := t.Data[:n]
		clear(d)
		return &Tensor{Shape: append([]int(nil), shape...), Data: d}
	}
	return New(shape...)
}

// SameShape reports whether two shapes are equal.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// MustShape panics with a message naming who when t's shape is not want;
// -1 in want matches any size.
func MustShape(who string, t *Tensor, want ...int) {
	ok := len(t.Shape) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = want[i] < 0 || want[i] == t.Shape[i]
	}
	if !ok {
		// Copying want keeps it from escaping, so the caller's variadic
		// slice stays on the stack and a passing check allocates nothing.
		panic(fmt.Sprintf("%s: shape %v, want %v", who, t.Shape, append([]int(nil), want...)))
	}
}

// String is a short description, like (128, 28, 28, 1) float32.
func (t *Tensor) String() string { return ShapeString(t.Shape) + " float32" }

// ShapeString formats a shape the way numpy prints it: (50000, 28, 28).
func ShapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
