package backend

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// The SIMD record must follow the switches GoMLX reads: a cache entry
// trained with AVX-512 kernels must not be reused by a run without them.
func TestSIMDFollowsTheSwitches(t *testing.T) {
	if !simdBuild() {
		t.Fatal("test binary not built with GOEXPERIMENT=simd (every build path of the project sets it)")
	}
	if cpu.X86.HasAVX2 {
		t.Setenv("GOMLX_SIMD_AVX512", "false")
		if got := SIMD(); got != "avx2" {
			t.Errorf("GOMLX_SIMD_AVX512=false: SIMD() = %q, want avx2", got)
		}
		t.Setenv("GOMLX_SIMD_AVX2", "off")
		if got := SIMD(); got != "none" {
			t.Errorf("both switched off: SIMD() = %q, want none", got)
		}
	}
	t.Setenv("GOMLX_SIMD_AVX512", "")
	t.Setenv("GOMLX_SIMD_AVX2", "")
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL {
		if got := SIMD(); got != "avx512" {
			t.Errorf("AVX-512 CPU, switches unset: SIMD() = %q, want avx512", got)
		}
	}
}
