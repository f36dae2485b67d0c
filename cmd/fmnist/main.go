// Command fmnist trains and evaluates neural networks on Fashion-MNIST.
//
// Each subcommand lives in its own file and registers itself in init. This
// file only dispatches, prints errors and chooses the exit code: 0 on
// success, 1 on a failure, 2 on a usage error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand. run gets the arguments after its name.
type command struct {
	name    string
	summary string
	order   int // position in the help listing
	run     func(args []string) error
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
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'fmnist <command> --help' for the flags of a command.
`)
}

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

// run executes one command line and returns the exit code.
func run(args []string, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(os.Stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "fmnist: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	err := c.run(args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
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
		fmt.Fprintf(w, "Usage: fmnist %s\n\n%s\n\nFlags:\n", synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and turns flag errors into usage errors: one line
// that points to --help, rather than the flag package's error and usage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return err
		}
		return usageErrorf("%v (see fmnist %s --help)", err, fs.Name())
	}
	return nil
}
