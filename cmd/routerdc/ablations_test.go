package main

import (
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
	"github.com/routerdc-go/routerdc/pipeline/experiments"
)

// "ablations" expands to every built-in declaration but the paper's tables
// and the validation-* selection runs: they are not cached, and `just
// ablate` would otherwise retrain their dozens of runs on every call.
func TestAblationsLeaveOutPaperAndValidation(t *testing.T) {
	datatest.RequireDir(t)
	bin := binary(t)
	_, stderr, err := run(t, bin, "", "run", "--dry-run", "--no-cache", "--out", t.TempDir(), "ablations")
	if err != nil {
		t.Fatalf("run --dry-run ablations: %v\n%s", err, stderr)
	}
	for _, b := range experiments.Builtin() {
		ran := strings.Contains(stderr, b+" (pipeline/experiments/"+b+".yaml)")
		if want := b != "paper" && !strings.HasPrefix(b, "validation-"); ran != want {
			t.Errorf("ablations ran %s: %v, want %v", b, ran, want)
		}
	}
}
