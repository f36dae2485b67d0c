package runfolder

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/fmnist/fmnist/model"
)

// A checkpoint of a run is a file of CheckpointDir named
// <stage number>-<stage>-e<epochs done>-b<batches done>.safetensors, so
// that the newest sorts last; what it holds is the pipeline's business.

// CheckpointName is the name of the checkpoint taken in stage (one of
// model.Names, or "" when every stage is done) after epochs epochs and
// batches batches of the next.
func CheckpointName(stage string, epochs, batches int) string {
	i := slices.Index(model.Names, stage) + 1
	if i == 0 {
		i, stage = len(model.Names)+1, "done"
	}
	return fmt.Sprintf("%d-%s-e%04d-b%06d.safetensors", i, stage, epochs, batches)
}

var checkpointRE = regexp.MustCompile(`^([0-9]+)-[a-z_]+-e([0-9]+)-b([0-9]+)\.safetensors$`)

// ListCheckpoints returns the names of the checkpoints of the run folder
// dir, oldest first. Other files there are left out.
func ListCheckpoints(dir string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(dir, CheckpointDir))
	if err != nil {
		return nil, fmt.Errorf("runfolder: %w", err)
	}
	type key struct {
		name string
		k    [3]uint64
	}
	var ks []key
	for _, e := range ents {
		m := checkpointRE.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		k := key{name: e.Name()}
		for i := range k.k {
			k.k[i], _ = strconv.ParseUint(m[i+1], 10, 64) // overflow reads as max: still sorts
		}
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b key) int {
		if c := slices.Compare(a.k[:], b.k[:]); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.name
	}
	return out, nil
}

// PruneCheckpoints removes all but the newest keep (at least one)
// checkpoints of the run folder dir.
func PruneCheckpoints(dir string, keep int) error {
	names, err := ListCheckpoints(dir)
	if err != nil {
		return err
	}
	for _, n := range names[:max(0, len(names)-max(keep, 1))] {
		if err := os.Remove(filepath.Join(dir, CheckpointDir, n)); err != nil {
			return fmt.Errorf("runfolder: pruning checkpoints: %w", err)
		}
	}
	return nil
}
