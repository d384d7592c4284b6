//go:build xla

// Command pjrtinstall downloads a PJRT plugin for the XLA backend with
// go-xla's own installer package (the version go.mod pins, so plugin and
// backend match): go-xla's cmd/pjrt_installer is a separate module the Go
// proxy does not serve. It needs network (github.com for cpu, pypi.org for
// cuda).
//
//	go run -tags xla ./benchmarks/pjrtinstall [cpu|cuda] [LIBDIR]
//
// installs into LIBDIR/go-xla (default ~/.local/lib/go-xla, which the
// backend searches); cuda also fetches the NVIDIA libraries it needs, and
// installs only where nvidia-smi sees a GPU.
package main

import (
	"fmt"
	"os"

	"github.com/gomlx/go-xla/installer"
)

func main() {
	plugin, dir := "cpu", ""
	args := os.Args[1:]
	if len(args) > 0 {
		plugin, args = args[0], args[1:]
	}
	if len(args) > 0 {
		dir, args = args[0], args[1:]
	}
	if (plugin != "cpu" && plugin != "cuda") || len(args) > 0 {
		fmt.Fprintln(os.Stderr, "usage: pjrtinstall [cpu|cuda] [LIBDIR]")
		os.Exit(2)
	}
	if plugin == "cuda" && !installer.HasNvidiaGPU() {
		fmt.Fprintln(os.Stderr, "pjrtinstall: no NVIDIA GPU seen (nvidia-smi): the cuda plugin installs only beside one")
		os.Exit(1)
	}
	if err := installer.AutoInstallPlugin(plugin, dir, true, installer.Normal); err != nil {
		fmt.Fprintf(os.Stderr, "pjrtinstall: %v\n", err)
		os.Exit(1)
	}
}
