// Package tensor is a dense float32 array with a shape. It knows nothing of
// layers; it exists so that shapes travel with data and mistakes fail loudly.
package tensor
