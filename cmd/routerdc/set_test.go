package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSetErrors: a bad --set (or a bad setting in a declaration) names the
// key, the value and what it wants, and suggests the key meant; it used to
// show GoMLX's internals ("full path", "root scope").
func TestSetErrors(t *testing.T) {
	bin := binary(t)
	out := filepath.Join(t.TempDir(), "r")
	decl := filepath.Join(t.TempDir(), "d.yaml")
	os.WriteFile(decl, []byte("name: t\nkind: tables\nseeds: [1]\nsettings: \"lamda=0.5\"\nmethods:\n  - {name: a, kind: routerdc}\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--out", out, "--set", "lamda=0.5"},
			`--set lamda=0.5: unknown setting "lamda" (did you mean "lambda"? "routerdc settings" lists them all)`},
		{[]string{"train", "--out", out, "--set", "steps=10;lambda=abc"},
			`--set lambda=abc: want a number >= 0 (`},
		{[]string{"reproduce", "--no-cache", "--dry-run", "--out", out, "--set", "k_pos=x"},
			`--set k_pos=x: want an integer >= 1 (`},
		{[]string{"run", "--no-cache", "--dry-run", "--out", out, decl},
			`line 4: settings: lamda=0.5: unknown setting "lamda" (did you mean "lambda"?`},
	} {
		_, stderr, err := run(t, bin, "", c.args...)
		if err == nil || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: err %v, stderr %q, want it to contain %q", c.args, err, stderr, c.want)
		}
		for _, internal := range []string{"full path", "root scope", "invalid character"} {
			if strings.Contains(stderr, internal) {
				t.Errorf("%v: stderr shows GoMLX's %q: %s", c.args, internal, stderr)
			}
		}
	}
}
