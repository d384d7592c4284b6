package backend

import (
	"strings"
	"testing"

	"github.com/gomlx/compute/gobackend"
)

// The default must be exactly the pure-Go backend with unlimited
// parallelism: its worker pool deadlocked here with parallelism 1 or 2, so
// "some backend named go" is not enough.
func TestDefaultIsGoBackend(t *testing.T) {
	t.Setenv(EnvVar, "")
	if want := "go:parallelism=-1"; Config() != want || DefaultConfig != want {
		t.Fatalf("config %q (DefaultConfig %q), want %q", Config(), DefaultConfig, want)
	}
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != gobackend.BackendName || usedCfg != DefaultConfig {
		t.Errorf("backend %q built from %q, want %q from %q", b.String(), usedCfg, gobackend.BackendName, DefaultConfig)
	}
	if want := "(parallelism=-1)"; !strings.HasSuffix(b.Description(), want) {
		t.Errorf("backend %q, want its parallelism setting %s in force", b.Description(), want)
	}
}

// GOMLX_BACKEND replaces the default, and New follows a change of it.
func TestBackendFollowsEnv(t *testing.T) {
	t.Setenv(EnvVar, " go:parallelism=3 ")
	if Config() != "go:parallelism=3" {
		t.Fatalf("config %q, want the trimmed GOMLX_BACKEND", Config())
	}
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != gobackend.BackendName || !strings.HasSuffix(b.Description(), "(parallelism=3)") {
		t.Errorf("GOMLX_BACKEND=go:parallelism=3 gave %q (%s)", b.String(), b.Description())
	}
}

func TestUnknownBackendIsAClearError(t *testing.T) {
	t.Setenv(EnvVar, "tpu-from-mars")
	_, err := New()
	if err == nil || !strings.Contains(err.Error(), "tpu-from-mars") || !strings.Contains(err.Error(), "GOMLX_BACKEND") {
		t.Errorf("error %v should name the backend and GOMLX_BACKEND", err)
	}
}
