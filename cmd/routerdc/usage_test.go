package main

import (
	"strings"
	"testing"
)

// TestUsageMatchesFlags: the top-level usage names every flag each command
// has (the cache flags in their own paragraph), and shows eval's --metric
// as optional, as the code takes it.
func TestUsageMatchesFlags(t *testing.T) {
	bin := binary(t)
	top, _, err := run(t, bin, "", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"data", "train", "eval", "route", "validate", "reproduce", "run", "serve", "calibrate"} {
		help, _, err := run(t, bin, "", cmd, "--help")
		if err != nil {
			t.Fatalf("%s --help: %v", cmd, err)
		}
		for _, line := range strings.Split(help, "\n") {
			if !strings.HasPrefix(line, "  --") {
				continue
			}
			flag := strings.Fields(line)[0]
			if !strings.Contains(top, flag) {
				t.Errorf("routerdc --help does not mention %s %s", cmd, flag)
			}
		}
	}
	for _, want := range []string{"[--metric probability|multi_attempt]", "[--format json|text]"} {
		if !strings.Contains(top, want) {
			t.Errorf("routerdc --help lacks %q", want)
		}
	}
}
