// Package vec holds the float32 loops of the router's host-side lead layer
// and optimizer: SIMD kernels (simd/archsimd: AVX-512, else AVX2) and plain
// Go elsewhere.
//
// The kernels use separate multiplies and adds (no fused multiply-add) and
// keep each output's order of operations, so all paths give bit-identical
// results: a training run does not change with the CPU. Each call does a
// whole batch: on the CPUs measured, a call into 512-bit code costs ~150 ns
// (a 64-wide multiply-add alone takes ~3 ns), so per-row calls were slower
// than plain Go.
package vec

import (
	"os"
	"strings"
)

// Level names the kernels this process uses: "avx512", "avx2" or "none".
// It mirrors gomlx/compute's choice for its own kernels: SIMD only in a
// GOEXPERIMENT=simd build on amd64, each width switched off by
// GOMLX_SIMD_AVX512 / GOMLX_SIMD_AVX2 set to a false value.
func Level() string { return level }

var level = detect()

// enabled reads a GoMLX switch the way gomlx/compute's envutil does:
// unset, or anything but a false value, leaves the kernels on.
func enabled(env string) bool {
	switch strings.ToLower(os.Getenv(env)) {
	case "0", "false", "f", "no", "off", "disabled":
		return false
	}
	return true
}

// Sparse are rows of D-wide vectors kept sparse: row r's non-zero entries
// are Index[Start[r]:Start[r+1]] with their Value.
type Sparse struct {
	Start []int
	Index []int32
	Value []float32
}

// GatherSum sets row r of out [rows, dim] (rows lo..hi-1 of x, out's row 0
// being x's row lo) to bias + the sum over x's entries j of row r of
// Value[j] * W[Index[j]], W being [D, dim] row-major: summed in entry
// order from zero, then the bias added (a dense product's order).
func GatherSum(out, W, bias []float32, dim int, x Sparse, lo, hi int) {
	c := gatherSIMD(out, W, bias, dim, x, lo, hi)
	if c == dim {
		return
	}
	for r := lo; r < hi; r++ {
		o := out[(r-lo)*dim : (r-lo+1)*dim]
		for col := c; col < dim; col++ {
			var acc float32
			for j := x.Start[r]; j < x.Start[r+1]; j++ {
				acc += float32(x.Value[j] * W[int(x.Index[j])*dim+col]) // the conversion keeps Go from fusing
			}
			o[col] = acc + bias[col]
		}
	}
}

// ScatterAdd adds, for each row r of x (its gradient being row r of g
// [rows, dim]) and each entry j of it, Value[j] * g[r] to row Index[j] of
// gW [D, dim], in row then entry order.
func ScatterAdd(gW, g []float32, dim int, x Sparse) {
	c := scatterSIMD(gW, g, dim, x)
	if c == dim {
		return
	}
	for r := 0; r+1 < len(x.Start); r++ {
		gr := g[r*dim : (r+1)*dim]
		for j := x.Start[r]; j < x.Start[r+1]; j++ {
			row := gW[int(x.Index[j])*dim : int(x.Index[j]+1)*dim]
			for col := c; col < dim; col++ {
				row[col] += float32(x.Value[j] * gr[col])
			}
		}
	}
}

// Adam are one AdamW step's coefficients (GoMLX's formulation): with
// moments m1, m2 and gradient g,
//
//	m1 = Beta1*m1 + (1-Beta1)*g
//	m2 = Beta2*m2 + (1-Beta2)*g*g
//	w -= LR*(m1*Debias1) / (sqrt(m2*Debias2) + Eps) + LR*(w*Decay)
type Adam struct {
	Beta1, Beta2, Debias1, Debias2, Eps, LR, Decay float32
}

// AdamW applies one step to the parameters w in place; g, m1 and m2 have
// w's length.
func AdamW(w, g, m1, m2 []float32, c Adam) {
	g, m1, m2 = g[:len(w)], m1[:len(w)], m2[:len(w)]
	n := adamSIMD(w, g, m1, m2, c)
	ob1, ob2 := 1-c.Beta1, 1-c.Beta2
	for i := n; i < len(w); i++ {
		a := float32(c.Beta1*m1[i]) + float32(ob1*g[i])
		b := float32(c.Beta2*m2[i]) + float32(ob2*float32(g[i]*g[i]))
		m1[i], m2[i] = a, b
		num := c.LR * float32(a*c.Debias1)
		den := sqrt32(float32(b*c.Debias2)) + c.Eps
		step := float32(num/den) + float32(c.LR*float32(w[i]*c.Decay))
		w[i] -= step
	}
}

// MatMul sets out [n, m] to a [n, k] times b [k, m] (row-major), each
// output summed over k in order from zero: GatherSum with every entry of a.
func MatMul(out, a, b []float32, n, k, m int) {
	x := Sparse{Start: make([]int, n+1), Index: make([]int32, n*k), Value: a[:n*k]}
	for i := 0; i < n; i++ {
		x.Start[i+1] = (i + 1) * k
		for c := 0; c < k; c++ {
			x.Index[i*k+c] = int32(c)
		}
	}
	GatherSum(out, b, make([]float32, m), m, x, 0, n)
}
