package benchmarks

import (
	"os"
	"strings"
	"testing"
)

// readmeBlock is what benchmarks/readme_block.py copies from report.md into
// the README: the report after its title, up to the raw benchmark output,
// headings one level down.
func readmeBlock(report string) string {
	lines := strings.Split(report, "\n")
	var out []string
	for _, l := range lines[min(2, len(lines)):] {
		if strings.HasPrefix(l, "```") {
			break
		}
		if strings.HasPrefix(l, "## ") {
			l = "#" + l
		}
		out = append(out, l)
	}
	return strings.Trim(strings.Join(out, "\n"), "\n")
}

// The README's timings must be the last `just bench` run's, not typed.
func TestREADMEBenchmarksFromReport(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	report, err := os.ReadFile("report.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- bench:begin -->\n", "\n<!-- bench:end -->"
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README.md has no <!-- bench:begin --> ... <!-- bench:end --> block")
	}
	if got, want := s[i+len(begin):j], readmeBlock(string(report)); got != want {
		t.Errorf("README's benchmark block differs from benchmarks/report.md: run `just bench --full` (it rewrites both)\nREADME:\n%s\nreport:\n%s", got, want)
	}
}
