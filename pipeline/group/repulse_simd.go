//go:build goexperiment.simd && amd64

package group

import (
	"simd/archsimd"

	"github.com/routerdc-go/routerdc/pipeline/vec"
)

var haveRepulse5 = archsimd.X86.AVX()

// Each kernel ends with VZEROUPPER (archsimd.ClearAVXUpperBits), which the
// compiler does not emit yet: without it the scalar (SSE) code after a
// kernel ran many times slower on the Intel CPUs measured (math.Exp ~500 ns
// instead of ~10).

// The float32 kernel follows pipeline/vec's choice of width (and with it
// the GOMLX_SIMD_AVX512 / GOMLX_SIMD_AVX2 switches).
var (
	haveRepulse32x5 = vec.Level() != "none"
	repulseWide     = vec.Level() == "avx512"
)

// repulse32x5 is repulse32Lanes for 5 dimensions with the sixteen lanes in
// one AVX-512 register, or in two AVX2 ones (lanes 0-7 and 8-15): the same
// operations in the same order, 16 rows per step.
func repulse32x5(yT, w []float32, i int, ri []float64) float64 {
	np := len(w)
	s0, s1, s2, s3, s4 := yT[:np], yT[np:2*np], yT[2*np:3*np], yT[3*np:4*np], yT[4*np:5*np]
	var z, r0, r1, r2, r3, r4 [lanes32]float32
	if repulseWide {
		b0 := archsimd.BroadcastFloat32x16(s0[i])
		b1 := archsimd.BroadcastFloat32x16(s1[i])
		b2 := archsimd.BroadcastFloat32x16(s2[i])
		b3 := archsimd.BroadcastFloat32x16(s3[i])
		b4 := archsimd.BroadcastFloat32x16(s4[i])
		one := archsimd.BroadcastFloat32x16(1)
		var zv, a0, a1, a2, a3, a4 archsimd.Float32x16
		for j := 0; j+16 <= np; j += 16 {
			t0 := b0.Sub(archsimd.LoadFloat32x16Slice(s0[j:]))
			t1 := b1.Sub(archsimd.LoadFloat32x16Slice(s1[j:]))
			t2 := b2.Sub(archsimd.LoadFloat32x16Slice(s2[j:]))
			t3 := b3.Sub(archsimd.LoadFloat32x16Slice(s3[j:]))
			t4 := b4.Sub(archsimd.LoadFloat32x16Slice(s4[j:]))
			d2 := t0.Mul(t0).Add(t1.Mul(t1)).Add(t2.Mul(t2)).Add(t3.Mul(t3)).Add(t4.Mul(t4))
			q := one.Div(one.Add(d2)).Mul(archsimd.LoadFloat32x16Slice(w[j:]))
			zv = zv.Add(q)
			q = q.Mul(q)
			a0 = a0.Add(q.Mul(t0))
			a1 = a1.Add(q.Mul(t1))
			a2 = a2.Add(q.Mul(t2))
			a3 = a3.Add(q.Mul(t3))
			a4 = a4.Add(q.Mul(t4))
		}
		zv.StoreSlice(z[:])
		a0.StoreSlice(r0[:])
		a1.StoreSlice(r1[:])
		a2.StoreSlice(r2[:])
		a3.StoreSlice(r3[:])
		a4.StoreSlice(r4[:])
	} else {
		b0 := archsimd.BroadcastFloat32x8(s0[i])
		b1 := archsimd.BroadcastFloat32x8(s1[i])
		b2 := archsimd.BroadcastFloat32x8(s2[i])
		b3 := archsimd.BroadcastFloat32x8(s3[i])
		b4 := archsimd.BroadcastFloat32x8(s4[i])
		one := archsimd.BroadcastFloat32x8(1)
		// h = 0: lanes 0-7, h = 1: lanes 8-15.
		var zv, a0, a1, a2, a3, a4 [2]archsimd.Float32x8
		for j := 0; j+16 <= np; j += 16 {
			for h := 0; h < 2; h++ {
				k := j + 8*h
				t0 := b0.Sub(archsimd.LoadFloat32x8Slice(s0[k:]))
				t1 := b1.Sub(archsimd.LoadFloat32x8Slice(s1[k:]))
				t2 := b2.Sub(archsimd.LoadFloat32x8Slice(s2[k:]))
				t3 := b3.Sub(archsimd.LoadFloat32x8Slice(s3[k:]))
				t4 := b4.Sub(archsimd.LoadFloat32x8Slice(s4[k:]))
				d2 := t0.Mul(t0).Add(t1.Mul(t1)).Add(t2.Mul(t2)).Add(t3.Mul(t3)).Add(t4.Mul(t4))
				q := one.Div(one.Add(d2)).Mul(archsimd.LoadFloat32x8Slice(w[k:]))
				zv[h] = zv[h].Add(q)
				q = q.Mul(q)
				a0[h] = a0[h].Add(q.Mul(t0))
				a1[h] = a1[h].Add(q.Mul(t1))
				a2[h] = a2[h].Add(q.Mul(t2))
				a3[h] = a3[h].Add(q.Mul(t3))
				a4[h] = a4[h].Add(q.Mul(t4))
			}
		}
		for h := 0; h < 2; h++ {
			zv[h].StoreSlice(z[8*h:])
			a0[h].StoreSlice(r0[8*h:])
			a1[h].StoreSlice(r1[8*h:])
			a2[h].StoreSlice(r2[8*h:])
			a3[h].StoreSlice(r3[8*h:])
			a4[h].StoreSlice(r4[8*h:])
		}
	}
	archsimd.ClearAVXUpperBits()
	ri[0], ri[1], ri[2], ri[3], ri[4] = sum16(&r0), sum16(&r1), sum16(&r2), sum16(&r3), sum16(&r4)
	return sum16(&z)
}

func hsum4(v archsimd.Float64x4) float64 {
	var a [4]float64
	v.Store(&a)
	return sumLanes(a[0], a[1], a[2], a[3])
}

// cellSum5 is cellSumLanes for 5 dimensions, the four lanes in one AVX
// register.
func cellSum5(pos []float64, cap int, mass, y, ri []float64) float64 {
	n := len(mass)
	s0, s1, s2, s3, s4 := pos[:n], pos[cap:cap+n], pos[2*cap:2*cap+n], pos[3*cap:3*cap+n], pos[4*cap:4*cap+n]
	b0 := archsimd.BroadcastFloat64x4(y[0])
	b1 := archsimd.BroadcastFloat64x4(y[1])
	b2 := archsimd.BroadcastFloat64x4(y[2])
	b3 := archsimd.BroadcastFloat64x4(y[3])
	b4 := archsimd.BroadcastFloat64x4(y[4])
	one := archsimd.BroadcastFloat64x4(1)
	var z, r0, r1, r2, r3, r4 archsimd.Float64x4
	for j := 0; j+4 <= n; j += 4 {
		t0 := b0.Sub(archsimd.LoadFloat64x4Slice(s0[j:]))
		t1 := b1.Sub(archsimd.LoadFloat64x4Slice(s1[j:]))
		t2 := b2.Sub(archsimd.LoadFloat64x4Slice(s2[j:]))
		t3 := b3.Sub(archsimd.LoadFloat64x4Slice(s3[j:]))
		t4 := b4.Sub(archsimd.LoadFloat64x4Slice(s4[j:]))
		d2 := t0.Mul(t0).Add(t1.Mul(t1)).Add(t2.Mul(t2)).Add(t3.Mul(t3)).Add(t4.Mul(t4))
		q := one.Div(one.Add(d2))
		m := q.Mul(archsimd.LoadFloat64x4Slice(mass[j:]))
		z = z.Add(m)
		m = m.Mul(q)
		r0 = r0.Add(m.Mul(t0))
		r1 = r1.Add(m.Mul(t1))
		r2 = r2.Add(m.Mul(t2))
		r3 = r3.Add(m.Mul(t3))
		r4 = r4.Add(m.Mul(t4))
	}
	ri[0], ri[1], ri[2], ri[3], ri[4] = hsum4(r0), hsum4(r1), hsum4(r2), hsum4(r3), hsum4(r4)
	zs := hsum4(z)
	archsimd.ClearAVXUpperBits()
	return zs
}

// attract5SIMD is attract5Lanes with the four lanes in one AVX register:
// four affinities per step share one division.
func attract5SIMD(P *sparseP, y []float64, i int, ai []float64) {
	yi := (*[5]float64)(y[i*5:])
	b0 := archsimd.BroadcastFloat64x4(yi[0])
	b1 := archsimd.BroadcastFloat64x4(yi[1])
	b2 := archsimd.BroadcastFloat64x4(yi[2])
	b3 := archsimd.BroadcastFloat64x4(yi[3])
	b4 := archsimd.BroadcastFloat64x4(yi[4])
	one := archsimd.BroadcastFloat64x4(1)
	var a0, a1, a2, a3, a4 archsimd.Float64x4
	cols, vals := P.col[P.ptr[i]:P.ptr[i+1]], P.val[P.ptr[i]:P.ptr[i+1]]
	var c0, c1, c2, c3, c4, v [4]float64
	for e := 0; e < len(cols); e += 4 {
		for l := 0; l < 4; l++ {
			yj, w := yi, 0.0 // padding: weight 0 at y_i
			if e+l < len(cols) {
				yj, w = (*[5]float64)(y[int(cols[e+l])*5:]), vals[e+l]
			}
			c0[l], c1[l], c2[l], c3[l], c4[l], v[l] = yj[0], yj[1], yj[2], yj[3], yj[4], w
		}
		t0 := b0.Sub(archsimd.LoadFloat64x4(&c0))
		t1 := b1.Sub(archsimd.LoadFloat64x4(&c1))
		t2 := b2.Sub(archsimd.LoadFloat64x4(&c2))
		t3 := b3.Sub(archsimd.LoadFloat64x4(&c3))
		t4 := b4.Sub(archsimd.LoadFloat64x4(&c4))
		d2 := t0.Mul(t0).Add(t1.Mul(t1)).Add(t2.Mul(t2)).Add(t3.Mul(t3)).Add(t4.Mul(t4))
		q := archsimd.LoadFloat64x4(&v).Div(one.Add(d2))
		a0 = a0.Add(q.Mul(t0))
		a1 = a1.Add(q.Mul(t1))
		a2 = a2.Add(q.Mul(t2))
		a3 = a3.Add(q.Mul(t3))
		a4 = a4.Add(q.Mul(t4))
	}
	ai[0], ai[1], ai[2], ai[3], ai[4] = hsum4(a0), hsum4(a1), hsum4(a2), hsum4(a3), hsum4(a4)
	archsimd.ClearAVXUpperBits()
}
