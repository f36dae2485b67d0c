package train

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fmnist/fmnist/checkpoint"
	"github.com/fmnist/fmnist/nn"
)

// A resume refuses a finished stage's model file that is not the one the
// run wrote, though its checksums are valid: another architecture, or
// another run's pixel normalisation.
func TestResumeChecksModelFiles(t *testing.T) {
	d := synthSplits(t)
	template, _ := writeRun(t, d) // stopped in the cnn, the mlp done
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, path string)
		want string
	}{
		{"as written", func(*testing.T, string) {}, ""},
		{"another architecture", func(t *testing.T, path string) {
			m := nn.MustBuild(nn.Spec{Kind: "mlp", Hidden: []int{16}}, 1)
			if err := SaveModel(path, m, d.meta()); err != nil {
				t.Fatal(err)
			}
		}, `mlp is {"kind":"mlp","in":784,"hidden":[16]`},
		{"another run's pixel_mean", func(t *testing.T, path string) {
			rewrite(t, path, func(f *checkpoint.File) { f.Metadata["pixel_mean"] = "0.25" })
		}, `pixel_mean "0.25", the run's data gives`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			if err := os.CopyFS(out, os.DirFS(template)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(out, "mlp.safetensors")
			tc.edit(t, path)
			ck, err := LatestCheckpoint(out)
			if err != nil {
				t.Fatal(err)
			}
			err = runPipeline(t, d, out, 0, ck)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant ErrCheckpoint naming %s and saying %q", err, path, tc.want)
			}
		})
	}
}
