//go:build xla

package backend

import (
	"strings"
	"testing"
)

// With -tags xla the XLA backend is compiled in but never the default, and
// GOMLX_BACKEND=xla:cpu either gets it (a plugin is installed) or fails with
// an error that says where plugins are looked for, never a panic.
func TestXLACompiledInNotDefault(t *testing.T) {
	if !registered("xla") {
		t.Fatal("built with -tags xla, but no xla backend is registered")
	}
	if DefaultConfig != "go:parallelism=-1" {
		t.Fatalf("DefaultConfig %q: XLA must stay opt-in", DefaultConfig)
	}
	t.Setenv(EnvVar, "xla:cpu")
	b, err := New()
	if err != nil {
		if !strings.Contains(err.Error(), "PJRT_PLUGIN_LIBRARY_PATH") || !strings.Contains(err.Error(), "xla:cpu") {
			t.Errorf("no plugin: error %q should name the config and PJRT_PLUGIN_LIBRARY_PATH", err)
		}
		return
	}
	if b.Name() != "xla" || !strings.HasPrefix(b.Description(), "xla:cpu") {
		t.Errorf("GOMLX_BACKEND=xla:cpu gave backend %q (%s)", b.Name(), b.Description())
	}
}
