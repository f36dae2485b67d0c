//go:build race

package main

// raceEnabled scales the tests that run the pipeline on the real data down
// under the race detector, which makes them several times slower.
const raceEnabled = true
