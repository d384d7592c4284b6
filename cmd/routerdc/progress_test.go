package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
)

// TestRunProgressAndOutputs runs a small sweep with stderr going to a
// buffer (as to a log file) and progress not silenced: it prints one plain
// line per finished unit, numbered against the planned total, never a "\r"
// frame of a progress bar, and ends with each output on its own line,
// relative to the working directory. A dry run says what would run and
// that it wrote nothing.
func TestRunProgressAndOutputs(t *testing.T) {
	dir := datatest.RequireDir(t)
	bin := binary(t)
	work := t.TempDir()
	decl := `name: tiny
kind: sweep
seeds: [1]
settings: "router=routerdc;steps=40;eval_every=20;group=cluster"
sweep:
  param: lambda
  values: [0, 1]
figure: tiny.png
`
	if err := os.WriteFile(filepath.Join(work, "tiny.yaml"), []byte(decl), 0o644); err != nil {
		t.Fatal(err)
	}
	routerdc := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = work
		cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "ROUTERDC_QUIET=") })
		var e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &e, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("routerdc %v: %v\n%s", args, err, e.String())
		}
		return e.String()
	}
	common := []string{"run", "--data", dir, "--cache", "cache", "--out", "out"}

	dry := routerdc(append(common, "--dry-run", "tiny.yaml")...)
	if !strings.Contains(dry, "tiny: dry run: 5 units would run, 0 cached; nothing written (a run writes under out)") ||
		strings.Contains(dry, "finished in") || strings.Contains(dry, "\noutputs:") || strings.Contains(dry, "results/") {
		t.Errorf("dry run:\n%s", dry)
	}
	if _, err := os.Stat(filepath.Join(work, "out")); err == nil {
		t.Error("the dry run created the output directory")
	}

	cold := routerdc(append(common, "tiny.yaml")...)
	if strings.Contains(cold, "\r") {
		t.Errorf("the log holds carriage returns (progress-bar frames):\n%q", cold)
	}
	units := regexp.MustCompile(`(?m)^\[(\d)/5\] (embed|train|evaluate) lambda=\d, seed 1: [0-9.]+ s`).FindAllStringSubmatch(cold, -1)
	if len(units) != 5 || units[4][1] != "5" {
		t.Errorf("want 5 unit lines [1/5]..[5/5]:\n%s", cold)
	}
	want := "outputs:\n  out/ablations/tiny.csv\n  out/ablations/tiny.manifest.json\n  out/figures/tiny.png\n  out/README.md\n"
	if !strings.HasSuffix(cold, want) {
		t.Errorf("the run does not end with its outputs, one per line:\n%s\nwant the end:\n%s", cold, want)
	}
}
