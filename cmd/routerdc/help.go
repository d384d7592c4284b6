package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// newFlags makes a subcommand's flag set. synopsis is its usage line
// without "routerdc " ("train --out DIR [...]"); about, if given, says more.
// A flag's placeholder is the backquoted word of its usage (`DIR`), so a
// usage must quote anything else with "...", never with backquotes.
func newFlags(synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("routerdc "+synopsis, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: routerdc %s\n", synopsis)
		if about != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimRight(about, "\n"))
		}
		printFlags(w, fs)
	}
	return fs
}

// printFlags lists the flags as the docs write them: "--name PLACEHOLDER".
func printFlags(w io.Writer, fs *flag.FlagSet) {
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprintln(w, "\nFlags:")
			first = false
		}
		placeholder, usage := flag.UnquoteUsage(f)
		if _, isBool := f.Value.(interface{ IsBoolFlag() bool }); isBool {
			placeholder = ""
		}
		line := "  --" + f.Name
		if placeholder != "" {
			line += " " + placeholder
		}
		if d := f.DefValue; d != "" && d != "0" && d != "false" && d != "0s" {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, usage)
	})
}

// parseFlags parses a subcommand's flags. --help or -h prints the usage on
// stdout and gives flag.ErrHelp, which main turns into exit status 0; a
// bad flag's error and the usage go to stderr.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var buf bytes.Buffer
	out := fs.Output()
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		os.Stdout.Write(buf.Bytes())
		return err
	}
	out.Write(buf.Bytes())
	return err
}
