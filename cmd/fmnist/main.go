// Command fmnist trains and evaluates neural networks on Fashion-MNIST.
//
// Each subcommand lives in its own file and registers itself in init. This
// file only dispatches, prints errors and chooses the exit code: 0 on
// success, 1 on a failure, 2 on a usage error, 128+n for a run stopped by
// signal n (130 for SIGINT, Ctrl-C), as shells expect.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand. run gets the arguments after its name, and
// writes results to stdout and progress and logs to stderr.
type command struct {
	name    string
	summary string
	order   int // position in the help listing
	run     func(args []string, stdout, stderr io.Writer) error
	// subs are its own subcommands, name and summary, for the listing.
	subs [][2]string
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// errUsage marks an error that is the caller's fault: bad flags or arguments.
var errUsage = errors.New("usage")

// usageErrorf returns an error wrapping errUsage.
func usageErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `fmnist trains and evaluates neural networks on Fashion-MNIST, on the CPU.

Usage:
  fmnist <command> [flags]

Commands:
`)
	list := make([]command, 0, len(commands))
	for _, c := range commands {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].order < list[j].order })
	for _, c := range list {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
		for _, sub := range c.subs {
			fmt.Fprintf(w, "  %-12s %s\n", c.name+" "+sub[0], sub[1])
		}
	}
	fmt.Fprint(w, `
Run 'fmnist <command> --help' for the flags of a command. Flags may come
before or after the arguments; -- ends them. 'fmnist --version' prints the
version.
`)
}

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

// run executes one command line, its results on os.Stdout, and returns the
// exit code.
func run(args []string, stderr io.Writer) int { return runTo(args, os.Stdout, stderr) }

// runTo is run with the results on stdout.
func runTo(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(helpOut)
		return 0
	case "-version", "--version":
		args = []string{"version"}
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "fmnist: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	err := c.run(args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(*exitError)):
		fmt.Fprintf(stderr, "fmnist %s: %v\n", c.name, err)
		var ee *exitError
		errors.As(err, &ee)
		return ee.code
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "fmnist %s: %v\n", c.name, err)
		return 2
	default:
		fmt.Fprintf(stderr, "fmnist %s: %v\n", c.name, err)
		return 1
	}
}

// newFlags returns a flag set for a subcommand that reports errors instead
// of exiting, with a usage text built from the summary and the flags.
func newFlags(name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: fmnist %s\n\n%s\n\nFlags (before or after the arguments; -- ends them):\n", synopsis, about)
		printFlags(w, fs)
	}
	return fs
}

// helpOut receives the help a user asked for (--help), so that it can be
// piped through grep or less; a variable for tests.
var helpOut io.Writer = os.Stdout

// parseFlags parses args and turns flag errors into usage errors: one line
// that points to --help, rather than the flag package's error and usage.
//
// Flags may come before and after the positional arguments, as in git or
// kubectl: `predict MODEL IMG --json` is `predict --json MODEL IMG`. A "--"
// ends the flags; everything after it is an argument even if it starts
// with a dash. The positional arguments are then fs.Args(), in order.
func parseFlags(fs *flag.FlagSet, args []string) error {
	flags, pos, dangling := splitArgs(fs, args)
	if !dangling {
		// After "--" every argument is positional to fs too.
		flags = append(append(flags, "--"), pos...)
	}
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(flags)
	fs.SetOutput(out)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(helpOut)
			fs.Usage()
			fs.SetOutput(out)
			return err
		}
		return usageErrorf("%v (see fmnist %s --help)", err, fs.Name())
	}
	return nil
}

// splitArgs separates the flags of args, each with its value, from the
// positional arguments. A flag takes the next argument as its value unless
// it is boolean or written -name=value, as the flag package reads it. An
// unknown flag stays with the flags, for fs.Parse to report; so does a
// last flag that lacks its value, and dangling says so.
func splitArgs(fs *flag.FlagSet, args []string) (flags, pos []string, dangling bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(pos, args[i+1:]...), false
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a) // "-" alone is an argument: stdin, by custom
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 == len(args) {
			return flags, pos, true
		}
		i++
		flags = append(flags, args[i])
	}
	return flags, pos, false
}

// printFlags lists the flags of fs with double dashes, as the prose writes
// them, and each default once: a usage text that already says "(default"
// explains it better than the zero value that stands for it.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if typ != "" {
			line += " " + typ
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
		if !strings.Contains(usage, "(default") && !isZeroDefault(f) {
			if typ == "string" {
				fmt.Fprintf(w, " (default %q)", f.DefValue)
			} else {
				fmt.Fprintf(w, " (default %v)", f.DefValue)
			}
		}
		fmt.Fprintln(w)
	})
}

// isZeroDefault reports whether f's default is its type's zero value,
// which goes without saying.
func isZeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "0s":
		return true
	}
	return false
}
