//go:build goexperiment.simd && amd64

package vec

import (
	"math"
	"simd/archsimd"
)

func detect() string {
	switch {
	case archsimd.X86.AVX512() && enabled("GOMLX_SIMD_AVX512"):
		return "avx512"
	case archsimd.X86.AVX2() && enabled("GOMLX_SIMD_AVX2"):
		return "avx2"
	}
	return "none"
}

var wide, narrow = level == "avx512", level == "avx2"

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// ClearUpper ends the thread's use of the wide registers (VZEROUPPER) on
// CPUs with AVX; it changes no value. Without it, measured on this Intel
// Xeon, every later SSE instruction of the thread ran slowly (a call into
// a kernel ~150 ns; math.Exp, SSE mixed with VEX fused multiply-adds,
// ~500-900 ns a call instead of 8). Go 1.26 emits none: not after archsimd
// code, nor after an asynchronous preemption, whose handler in a
// GOEXPERIMENT=simd build restores every vector register with VMOVDQU64
// (runtime/preempt_amd64.s). Each kernel here ends with it, and long
// scalar loops of math.Exp start with it.
func ClearUpper() {
	if haveAVX {
		archsimd.ClearAVXUpperBits()
	}
}

var haveAVX = archsimd.X86.AVX()

// The kernels below return the number of leading columns (or elements)
// they did; the caller does the rest in plain Go. Column blocks are four
// registers wide, then one.

func gatherSIMD(out, W, bias []float32, dim int, x Sparse, lo, hi int) int {
	defer ClearUpper()
	c := 0
	switch {
	case wide:
		for ; c+64 <= dim; c += 64 {
			for r := lo; r < hi; r++ {
				var a0, a1, a2, a3 archsimd.Float32x16
				for j := x.Start[r]; j < x.Start[r+1]; j++ {
					v := archsimd.BroadcastFloat32x16(x.Value[j])
					w := W[int(x.Index[j])*dim+c:]
					a0 = a0.Add(v.Mul(archsimd.LoadFloat32x16Slice(w[0:16])))
					a1 = a1.Add(v.Mul(archsimd.LoadFloat32x16Slice(w[16:32])))
					a2 = a2.Add(v.Mul(archsimd.LoadFloat32x16Slice(w[32:48])))
					a3 = a3.Add(v.Mul(archsimd.LoadFloat32x16Slice(w[48:64])))
				}
				o, b := out[(r-lo)*dim+c:], bias[c:]
				a0.Add(archsimd.LoadFloat32x16Slice(b[0:16])).StoreSlice(o[0:16])
				a1.Add(archsimd.LoadFloat32x16Slice(b[16:32])).StoreSlice(o[16:32])
				a2.Add(archsimd.LoadFloat32x16Slice(b[32:48])).StoreSlice(o[32:48])
				a3.Add(archsimd.LoadFloat32x16Slice(b[48:64])).StoreSlice(o[48:64])
			}
		}
		for ; c+16 <= dim; c += 16 {
			for r := lo; r < hi; r++ {
				var a archsimd.Float32x16
				for j := x.Start[r]; j < x.Start[r+1]; j++ {
					v := archsimd.BroadcastFloat32x16(x.Value[j])
					a = a.Add(v.Mul(archsimd.LoadFloat32x16Slice(W[int(x.Index[j])*dim+c:])))
				}
				a.Add(archsimd.LoadFloat32x16Slice(bias[c:])).StoreSlice(out[(r-lo)*dim+c:])
			}
		}
	case narrow:
		for ; c+32 <= dim; c += 32 {
			for r := lo; r < hi; r++ {
				var a0, a1, a2, a3 archsimd.Float32x8
				for j := x.Start[r]; j < x.Start[r+1]; j++ {
					v := archsimd.BroadcastFloat32x8(x.Value[j])
					w := W[int(x.Index[j])*dim+c:]
					a0 = a0.Add(v.Mul(archsimd.LoadFloat32x8Slice(w[0:8])))
					a1 = a1.Add(v.Mul(archsimd.LoadFloat32x8Slice(w[8:16])))
					a2 = a2.Add(v.Mul(archsimd.LoadFloat32x8Slice(w[16:24])))
					a3 = a3.Add(v.Mul(archsimd.LoadFloat32x8Slice(w[24:32])))
				}
				o, b := out[(r-lo)*dim+c:], bias[c:]
				a0.Add(archsimd.LoadFloat32x8Slice(b[0:8])).StoreSlice(o[0:8])
				a1.Add(archsimd.LoadFloat32x8Slice(b[8:16])).StoreSlice(o[8:16])
				a2.Add(archsimd.LoadFloat32x8Slice(b[16:24])).StoreSlice(o[16:24])
				a3.Add(archsimd.LoadFloat32x8Slice(b[24:32])).StoreSlice(o[24:32])
			}
		}
		for ; c+8 <= dim; c += 8 {
			for r := lo; r < hi; r++ {
				var a archsimd.Float32x8
				for j := x.Start[r]; j < x.Start[r+1]; j++ {
					v := archsimd.BroadcastFloat32x8(x.Value[j])
					a = a.Add(v.Mul(archsimd.LoadFloat32x8Slice(W[int(x.Index[j])*dim+c:])))
				}
				a.Add(archsimd.LoadFloat32x8Slice(bias[c:])).StoreSlice(out[(r-lo)*dim+c:])
			}
		}
	}
	return c
}

func scatterSIMD(gW, g []float32, dim int, x Sparse) int {
	defer ClearUpper()
	c := 0
	rows := len(x.Start) - 1
	switch {
	case wide:
		for ; c+16 <= dim; c += 16 {
			for r := 0; r < rows; r++ {
				gv := archsimd.LoadFloat32x16Slice(g[r*dim+c:])
				for j := x.Start[r]; j < x.Start[r+1]; j++ {
					w := gW[int(x.Index[j])*dim+c:]
					v := archsimd.BroadcastFloat32x16(x.Value[j])
					archsimd.LoadFloat32x16Slice(w).Add(v.Mul(gv)).StoreSlice(w)
				}
			}
		}
	case narrow:
		for ; c+8 <= dim; c += 8 {
			for r := 0; r < rows; r++ {
				gv := archsimd.LoadFloat32x8Slice(g[r*dim+c:])
				for j := x.Start[r]; j < x.Start[r+1]; j++ {
					w := gW[int(x.Index[j])*dim+c:]
					v := archsimd.BroadcastFloat32x8(x.Value[j])
					archsimd.LoadFloat32x8Slice(w).Add(v.Mul(gv)).StoreSlice(w)
				}
			}
		}
	}
	return c
}

func adamSIMD(w, g, m1, m2 []float32, c Adam) int {
	defer ClearUpper()
	n := 0
	switch {
	case wide:
		b1, b2 := archsimd.BroadcastFloat32x16(c.Beta1), archsimd.BroadcastFloat32x16(c.Beta2)
		ob1, ob2 := archsimd.BroadcastFloat32x16(1-c.Beta1), archsimd.BroadcastFloat32x16(1-c.Beta2)
		d1, d2 := archsimd.BroadcastFloat32x16(c.Debias1), archsimd.BroadcastFloat32x16(c.Debias2)
		eps, lr, decay := archsimd.BroadcastFloat32x16(c.Eps), archsimd.BroadcastFloat32x16(c.LR), archsimd.BroadcastFloat32x16(c.Decay)
		for ; n+16 <= len(w); n += 16 {
			gv := archsimd.LoadFloat32x16Slice(g[n:])
			a := b1.Mul(archsimd.LoadFloat32x16Slice(m1[n:])).Add(ob1.Mul(gv))
			b := b2.Mul(archsimd.LoadFloat32x16Slice(m2[n:])).Add(ob2.Mul(gv.Mul(gv)))
			a.StoreSlice(m1[n:])
			b.StoreSlice(m2[n:])
			wv := archsimd.LoadFloat32x16Slice(w[n:])
			step := lr.Mul(a.Mul(d1)).Div(b.Mul(d2).Sqrt().Add(eps)).Add(lr.Mul(wv.Mul(decay)))
			wv.Sub(step).StoreSlice(w[n:])
		}
	case narrow:
		b1, b2 := archsimd.BroadcastFloat32x8(c.Beta1), archsimd.BroadcastFloat32x8(c.Beta2)
		ob1, ob2 := archsimd.BroadcastFloat32x8(1-c.Beta1), archsimd.BroadcastFloat32x8(1-c.Beta2)
		d1, d2 := archsimd.BroadcastFloat32x8(c.Debias1), archsimd.BroadcastFloat32x8(c.Debias2)
		eps, lr, decay := archsimd.BroadcastFloat32x8(c.Eps), archsimd.BroadcastFloat32x8(c.LR), archsimd.BroadcastFloat32x8(c.Decay)
		for ; n+8 <= len(w); n += 8 {
			gv := archsimd.LoadFloat32x8Slice(g[n:])
			a := b1.Mul(archsimd.LoadFloat32x8Slice(m1[n:])).Add(ob1.Mul(gv))
			b := b2.Mul(archsimd.LoadFloat32x8Slice(m2[n:])).Add(ob2.Mul(gv.Mul(gv)))
			a.StoreSlice(m1[n:])
			b.StoreSlice(m2[n:])
			wv := archsimd.LoadFloat32x8Slice(w[n:])
			step := lr.Mul(a.Mul(d1)).Div(b.Mul(d2).Sqrt().Add(eps)).Add(lr.Mul(wv.Mul(decay)))
			wv.Sub(step).StoreSlice(w[n:])
		}
	}
	return n
}

// levels are the kernels this CPU can run, widest first.
func levels() []string {
	var out []string
	if archsimd.X86.AVX512() {
		out = append(out, "avx512")
	}
	if archsimd.X86.AVX2() {
		out = append(out, "avx2")
	}
	return append(out, "none")
}

// setLevel switches the kernels (tests).
func setLevel(l string) { level, wide, narrow = l, l == "avx512", l == "avx2" }
