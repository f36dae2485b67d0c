//go:build race

package checkpoint

// raceEnabled thins the exhaustive tests under the race detector, which
// makes JSON decoding about ten times slower.
const raceEnabled = true
