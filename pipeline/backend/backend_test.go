package backend

import (
	"strings"
	"testing"
)

func TestDefaultIsGoBackend(t *testing.T) {
	t.Setenv(EnvVar, "")
	if Config() != DefaultConfig {
		t.Fatalf("config %q, want %q", Config(), DefaultConfig)
	}
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ToLower(b.Name()+b.Description()), "go") {
		t.Errorf("default backend is %q (%s)", b.Name(), b.Description())
	}
}

func TestUnknownBackendIsAClearError(t *testing.T) {
	t.Setenv(EnvVar, "tpu-from-mars")
	_, err := New()
	if err == nil || !strings.Contains(err.Error(), "tpu-from-mars") || !strings.Contains(err.Error(), "GOMLX_BACKEND") {
		t.Errorf("error %v should name the backend and GOMLX_BACKEND", err)
	}
}
