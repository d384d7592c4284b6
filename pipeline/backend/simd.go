package backend

import (
	"os"
	"runtime/debug"
	"strings"

	"golang.org/x/sys/cpu"
)

// SIMD names the matmul kernels the pure-Go backend uses in this process:
// "avx512", "avx2" or "none". The kernels sum in different orders, so the
// same seed gives weights that differ in their last bits (measured: the
// loss moves around 1e-9 with GOMLX_SIMD_AVX512=false); results record it
// and the train stage's cache key includes it. It mirrors gomlx/compute's
// choice: SIMD kernels only in a GOEXPERIMENT=simd build, each switched off
// by GOMLX_SIMD_AVX512 / GOMLX_SIMD_AVX2 set to a false value.
func SIMD() string {
	if !simdBuild() {
		return "none"
	}
	x := cpu.X86
	switch {
	case x.HasAVX512F && x.HasAVX512BW && x.HasAVX512DQ && x.HasAVX512VL && enabled("GOMLX_SIMD_AVX512"):
		return "avx512"
	case x.HasAVX2 && enabled("GOMLX_SIMD_AVX2"):
		return "avx2"
	}
	return "none"
}

func simdBuild() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "GOEXPERIMENT" && strings.Contains(","+s.Value+",", ",simd,") {
			return true
		}
	}
	return false
}

// enabled reads a GoMLX switch the way gomlx/compute's envutil does:
// unset or anything but a false value leaves the kernels on.
func enabled(env string) bool {
	switch strings.ToLower(os.Getenv(env)) {
	case "0", "false", "f", "no", "off", "disabled":
		return false
	}
	return true
}
