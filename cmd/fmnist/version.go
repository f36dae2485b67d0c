package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func init() {
	register(command{name: "version", order: 90, run: cmdVersion,
		summary: "print the version, commit and Go version of this binary (also --version)"})
}

func cmdVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "version", "Prints the module version, the commit it was built from and the Go version.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q", fs.Arg(0))
	}
	info, _ := debug.ReadBuildInfo()
	printVersion(stdout, info)
	return nil
}

// printVersion writes one line from the build info the linker embedded.
// `go install fmnist/cmd/fmnist@v1.2.3` records the version; a build in a
// clone records "(devel)" and, unless -buildvcs=false, the commit.
func printVersion(w io.Writer, info *debug.BuildInfo) {
	version, goVersion := "unknown", runtime.Version()
	commit, dirty := "unknown commit", false
	var when string
	if info != nil {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		if info.GoVersion != "" {
			goVersion = info.GoVersion
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = "commit " + s.Value[:min(12, len(s.Value))]
			case "vcs.time":
				when = " of " + s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if dirty {
		commit += " with local changes"
	}
	fmt.Fprintf(w, "fmnist %s, %s%s, %s %s/%s\n", version, commit, when, goVersion, runtime.GOOS, runtime.GOARCH)
}
