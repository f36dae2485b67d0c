package runfolder

import (
	"strings"
	"testing"
)

// A huge field is not echoed whole into an error.
func TestLongFieldClipped(t *testing.T) {
	for _, c := range []struct {
		name, field string
		want        string
	}{
		{"short", "abc", `"abc"`},
		{"50 MB", strings.Repeat("9x", 25<<20), `"9x9x9x9x9x9x9x9x9x9x9x9x9x9x9x9x9x9x9x9x... (52428800 bytes)"`},
	} {
		err := badf("p", 1, "value %q", c.field)
		if !strings.Contains(err.Error(), c.want) || len(err.Error()) > 200 {
			t.Errorf("%s: %.300s, want %s", c.name, err, c.want)
		}
	}
}
