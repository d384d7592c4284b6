package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestBinaryDoesNotLinkTesting: library code must not import testing (it
// would register the test flags and ship test helpers in the binary); test
// helpers belong in _test.go files or pipeline/data/datatest.
func TestBinaryDoesNotLinkTesting(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if slices.Contains(deps, "testing") {
		var why []string
		for _, d := range deps {
			if strings.Contains(d, "routerdc-go/routerdc/") {
				why = append(why, d)
			}
		}
		t.Errorf("the routerdc binary links package testing; one of these imports it: %s", strings.Join(why, " "))
	}
}
