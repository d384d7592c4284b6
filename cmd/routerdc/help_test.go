package main

import (
	"regexp"
	"strings"
	"testing"
)

// placeholderOK: what a flag's value placeholder may look like in help:
// DIR, FILE, N, URL, key=value, NAME=VALUE or a list of choices (a|b).
var placeholderOK = regexp.MustCompile(`^([A-Z][A-Z0-9_.]*|key=value|[A-Z]+=[A-Z]+|[a-z_-]+(\|[a-z_-]+)+)$`)

// TestSubcommandHelp: --help and -h on every subcommand print its usage on
// stdout and exit 0 (they exited 1 with "flag: help requested"), and every
// flag shows a placeholder that reads as one ("-router routerdc train" was
// the flag package taking a backquoted word of the usage).
func TestSubcommandHelp(t *testing.T) {
	bin := binary(t)
	for _, cmd := range [][]string{
		{"data"}, {"train"}, {"eval"}, {"route"}, {"validate"}, {"reproduce"}, {"run"}, {"settings"}, {"serve"}, {"calibrate"},
		{"score", "import"}, {"score", "api"}, {"score", "questions"}, {"score", "merge"},
		{"score", "run"}, {"score", "sandbox"},
	} {
		for _, h := range []string{"--help", "-h"} {
			args := append(append([]string{}, cmd...), h)
			stdout, stderr, err := run(t, bin, "", args...)
			name := strings.Join(args, " ")
			if err != nil {
				t.Errorf("%s: %v\nstderr: %s", name, err, stderr)
				continue
			}
			if strings.Contains(stdout+stderr, "help requested") {
				t.Errorf("%s says %q", name, "help requested")
			}
			if !strings.HasPrefix(stdout, "Usage: routerdc "+strings.Join(cmd, " ")) {
				t.Errorf("%s: stdout does not start with its usage line:\n%s", name, stdout)
			}
			if cmd[0] == "settings" && strings.Contains(stdout, "SETTING") {
				t.Errorf("%s printed the settings table instead of its help", name)
			}
			for _, line := range strings.Split(stdout, "\n") {
				if !strings.HasPrefix(line, "  --") {
					continue
				}
				f := strings.Fields(line)
				if len(f) > 2 || (len(f) == 2 && !placeholderOK.MatchString(f[1])) {
					t.Errorf("%s: flag line %q: placeholder is not DIR, FILE, N, key=value, NAME=VALUE or a|b", name, line)
				}
			}
		}
	}
	for _, args := range [][]string{{"--help"}, {"score", "--help"}} {
		stdout, _, err := run(t, bin, "", args...)
		if err != nil || !strings.Contains(stdout, "routerdc") {
			t.Errorf("%v: err %v, stdout %q", args, err, stdout)
		}
	}
}
