package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// recipeLine is a recipe's header: "name ARGS:" (not "x := y").
var recipeLine = regexp.MustCompile(`^@?([A-Za-z_][A-Za-z0-9_-]*)[^:=]*:([^=]|$)`)

// TestJustfileRecipesDescribed: every recipe has a description in
// `just --list`, that is a comment right above it (a blank line in between
// loses it, as bench's did).
func TestJustfileRecipesDescribed(t *testing.T) {
	path := filepath.Join("..", "..", "Justfile")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	recipes := 0
	for i, line := range lines {
		m := recipeLine.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(line, "export ") {
			continue
		}
		recipes++
		if i == 0 || !strings.HasPrefix(lines[i-1], "# ") {
			t.Errorf("Justfile:%d: recipe %s has no comment right above it", i+1, m[1])
		}
	}
	if recipes < 5 {
		t.Fatalf("found %d recipes in %s: the test no longer reads it", recipes, path)
	}
	// Where just is installed, ask it too.
	if _, err := exec.LookPath("just"); err != nil {
		return
	}
	cmd := exec.Command("just", "--list", "--justfile", path)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("just --list: %v", err)
	}
	listed := 0
	for _, line := range strings.Split(string(out), "\n")[1:] {
		if strings.TrimSpace(line) == "" {
			continue
		}
		listed++
		if !strings.Contains(line, "# ") {
			t.Errorf("just --list: %q has no description", strings.TrimSpace(line))
		}
	}
	if listed != recipes {
		t.Errorf("just --list shows %d recipes, the Justfile has %d", listed, recipes)
	}
}
