//go:build race

package pipeline

// The race detector changes allocation counts (sync.Pool drops items on
// purpose), so they mean nothing under it.
const raceEnabled = true
