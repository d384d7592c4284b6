//go:build xla

package backend

// XLA is opt-in (build tag "xla"): its autoinstall variant downloads a PJRT
// plugin at start-up, which fails offline, so we register the plain backend
// and rely on an installed plugin (PJRT_PLUGIN_LIBRARY_PATH or the standard
// locations).
import _ "github.com/gomlx/go-xla/compute/xla"
