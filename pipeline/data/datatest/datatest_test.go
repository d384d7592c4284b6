package datatest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
)

// A data dir that is set but wrong must fail the test, never skip it: a
// skipped test would read as passing in CI. The check runs RequireDir in a
// child test process, since a failing t cannot be observed from inside.
func TestRequireDirFailsOnWrongDir(t *testing.T) {
	if os.Getenv("DATATEST_CHILD") != "" {
		RequireDir(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRequireDirFailsOnWrongDir$", "-test.v")
	cmd.Env = append(os.Environ(), "DATATEST_CHILD=1", data.EnvVar+"="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--- FAIL") || strings.Contains(string(out), "--- SKIP") {
		t.Errorf("RequireDir with %s at an empty directory: err %v, output:\n%s", data.EnvVar, err, out)
	}
	if !strings.Contains(string(out), "does not hold the released RouterDC data") {
		t.Errorf("the failure does not say what is wrong:\n%s", out)
	}
}
