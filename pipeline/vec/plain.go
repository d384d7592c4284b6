//go:build !(goexperiment.simd && amd64)

package vec

import "math"

func detect() string { return "none" }

// ClearUpper has nothing to clear without the SIMD kernels' build.
func ClearUpper() {}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

func gatherSIMD(out, W, bias []float32, dim int, x Sparse, lo, hi int) int { return 0 }

func scatterSIMD(gW, g []float32, dim int, x Sparse) int { return 0 }

func adamSIMD(w, g, m1, m2 []float32, c Adam) int { return 0 }

func levels() []string { return []string{"none"} }

func setLevel(string) {}
