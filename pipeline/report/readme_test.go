package report

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
)

var update = flag.Bool("update", false, "rewrite the README's generated blocks")

// repoRoot is the module's directory (the tests run in pipeline/report).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", root, err)
	}
	return root
}

// TestREADMESettings: the README's list of the paper's and our settings is
// the one the setting specs give (`routerdc settings` prints the same
// specs). With -update it rewrites the list.
func TestREADMESettings(t *testing.T) {
	path := filepath.Join(repoRoot(t), "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	const begin, end = "<!-- settings:begin", "<!-- settings:end -->"
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q ... %q markers", begin, end)
	}
	i += strings.Index(s[i:], "-->\n") + len("-->\n")
	want := "\n" + SettingsMarkdown() + "\n"
	if s[i:j] == want {
		return
	}
	if *update {
		if err := atomicfile.Write(path, []byte(s[:i]+want+s[j:])); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's settings list differs from the setting specs; run `go test ./pipeline/report -run TestREADMESettings -update`.\nREADME:\n%s\nspecs:\n%s", s[i:j], want)
}
