package main

import (
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/fmnist/fmnist/model"
)

// memBudget is the --mem-budget flag: a size such as 8GiB, 500MB or a
// number of bytes, setting model.MemoryBudget.
type memBudget struct{}

func (memBudget) String() string {
	if model.MemoryBudget > 0 {
		return model.Bytes(model.MemoryBudget)
	}
	return ""
}

func (memBudget) Set(s string) error {
	v, err := parseBytes(s)
	if err != nil {
		return err
	}
	model.MemoryBudget = v
	return nil
}

// addMemBudget registers --mem-budget on fs.
func addMemBudget(fs *flag.FlagSet) {
	model.MemoryBudget = 0
	fs.Var(memBudget{}, "mem-budget", fmt.Sprintf("refuse a model that would need more memory than this, e.g. 6GiB (default: 60%% of this machine's, now %s)",
		model.Bytes(model.DefaultMemoryBudget())))
}

// parseBytes reads a positive size with an optional unit: B, K/KB/KiB,
// M/MB/MiB, G/GB/GiB, T/TB/TiB (KB and the like are powers of 1000).
func parseBytes(s string) (float64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	v, err := strconv.ParseFloat(num, 64)
	mult := map[string]float64{"": 1, "B": 1,
		"K": 1 << 10, "KiB": 1 << 10, "KB": 1e3, "M": 1 << 20, "MiB": 1 << 20, "MB": 1e6,
		"G": 1 << 30, "GiB": 1 << 30, "GB": 1e9, "T": 1 << 40, "TiB": 1 << 40, "TB": 1e12}[unit]
	if err != nil || mult == 0 || !(v > 0) || math.IsInf(v*mult, 0) || v*mult < 1<<20 {
		return 0, fmt.Errorf("%q: want a size of 1MiB or more such as 6GiB or 500MB", s)
	}
	return v * mult, nil
}
