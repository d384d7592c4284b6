// Package backend picks the GoMLX compute backend: the pure-Go one by default,
// XLA (CPU or CUDA) when GOMLX_BACKEND asks for it and its PJRT plugin is
// installed.
package backend

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
)

// EnvVar is GoMLX's own variable; we only change its default.
const EnvVar = compute.ConfigEnvVar

// DefaultConfig is used when GOMLX_BACKEND is unset. The Go backend's worker
// pool deadlocked here with parallelism 1 or 2 and ran clean with -1
// (unlimited), so that is our default.
const DefaultConfig = "go:parallelism=-1"

var (
	mu      sync.Mutex
	cached  compute.Backend
	usedCfg string
)

// Config returns the backend configuration in force.
func Config() string {
	if cfg := strings.TrimSpace(os.Getenv(EnvVar)); cfg != "" {
		return cfg
	}
	return DefaultConfig
}

// New returns the process-wide backend, creating it on first use.
func New() (compute.Backend, error) {
	mu.Lock()
	defer mu.Unlock()
	cfg := Config()
	if cached != nil && cfg == usedCfg {
		return cached, nil
	}
	name, _, _ := strings.Cut(cfg, ":")
	if !registered(name) {
		return nil, fmt.Errorf("GOMLX_BACKEND=%q: backend %q is not compiled in (have %v); "+
			"build with -tags xla for XLA, or unset GOMLX_BACKEND for the pure-Go backend", cfg, name, compute.List())
	}
	b, err := newQuiet(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating GoMLX backend %q: %w", cfg, err)
	}
	cached, usedCfg = b, cfg
	return b, nil
}

// MustNew is New for tests and notebooks.
func MustNew() compute.Backend {
	b, err := New()
	if err != nil {
		panic(err)
	}
	return b
}

func registered(name string) bool {
	for _, n := range compute.List() {
		if n == name {
			return true
		}
	}
	return false
}

// newQuiet creates the backend while stdout is muted: the Go backend prints
// its parallelism setting to stdout, which would corrupt the JSON lines our
// commands print there.
func newQuiet(cfg string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	devNull, openErr := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if openErr == nil {
		saved := os.Stdout
		os.Stdout = devNull
		defer func() { os.Stdout = saved; devNull.Close() }()
	}
	return compute.NewWithConfig(cfg)
}
