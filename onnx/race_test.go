//go:build race

package onnx_test

// raceEnabled scales the real-data tests down under the race detector,
// which makes the forward passes about ten times slower: the race lines of
// CI check concurrency, not accuracy.
const raceEnabled = true
