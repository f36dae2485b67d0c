package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/internal/runlock"
)

// newRunDir creates a new folder under parent named after t, adding -2, -3
// and so on when that name is taken: os.Mkdir fails if the folder exists,
// so two runs started in the same second get two folders.
func newRunDir(parent string, t time.Time) (string, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("--out: %w", err)
	}
	base := filepath.Join(parent, t.Format("20060102-150405"))
	for i := 1; i <= 1000; i++ {
		dir := base
		if i > 1 {
			dir = fmt.Sprintf("%s-%d", base, i)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("--out: %w", err)
		}
	}
	return "", fmt.Errorf("--out: %s-1 to -1000 all exist; give --out", base)
}

// newOut creates the output folder before the data is loaded, so that a
// bad --out fails at once, and locks it for this process before anything
// is written. It refuses a folder that holds a run (writing over it would
// lose that run) and one that holds anything else (it is not ours). A
// folder left by a run that stopped before its first checkpoint (config.json
// alone) is taken: neither --resume nor anything else could use it.
func newOut(dir string) (*runlock.Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	lock, err := runlock.Acquire(dir)
	if err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	if err := checkpoint.RemoveTemps(dir); err != nil {
		lock.Release()
		return nil, fmt.Errorf("--out: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		lock.Release()
		return nil, fmt.Errorf("--out: %w", err)
	}
	var other []string
	hasConfig := false
	for _, e := range ents {
		switch e.Name() {
		case runlock.Name:
		case "config.json":
			hasConfig = true
		default:
			other = append(other, e.Name())
		}
	}
	switch {
	case hasConfig && len(other) > 0:
		err = fmt.Errorf("--out %s already holds a run; continue it with --resume %s, or choose another folder", dir, dir)
	case len(other) > 0:
		if len(other) > 3 {
			other = append(other[:3], "...")
		}
		err = fmt.Errorf("--out %s is not empty (%s) and holds no run: choose a new or empty folder",
			dir, strings.Join(other, ", "))
	}
	if err != nil {
		lock.Release()
		return nil, err
	}
	return lock, nil
}
