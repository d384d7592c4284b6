//go:build goexperiment.simd && amd64

package group

import "simd/archsimd"

var haveRepulse5 = archsimd.X86.AVX()

// repulse5 is repulseLanes for 5 dimensions with the four lanes in one
// AVX register: the same operations in the same order, 4 rows per step.
func repulse5(yT, w []float64, i int, ri []float64) float64 {
	np := len(w)
	s0, s1, s2, s3, s4 := yT[:np], yT[np:2*np], yT[2*np:3*np], yT[3*np:4*np], yT[4*np:5*np]
	b0 := archsimd.BroadcastFloat64x4(s0[i])
	b1 := archsimd.BroadcastFloat64x4(s1[i])
	b2 := archsimd.BroadcastFloat64x4(s2[i])
	b3 := archsimd.BroadcastFloat64x4(s3[i])
	b4 := archsimd.BroadcastFloat64x4(s4[i])
	one := archsimd.BroadcastFloat64x4(1)
	var z, r0, r1, r2, r3, r4 archsimd.Float64x4
	for j := 0; j+4 <= np; j += 4 {
		t0 := b0.Sub(archsimd.LoadFloat64x4Slice(s0[j:]))
		t1 := b1.Sub(archsimd.LoadFloat64x4Slice(s1[j:]))
		t2 := b2.Sub(archsimd.LoadFloat64x4Slice(s2[j:]))
		t3 := b3.Sub(archsimd.LoadFloat64x4Slice(s3[j:]))
		t4 := b4.Sub(archsimd.LoadFloat64x4Slice(s4[j:]))
		d2 := t0.Mul(t0).Add(t1.Mul(t1)).Add(t2.Mul(t2)).Add(t3.Mul(t3)).Add(t4.Mul(t4))
		q := one.Div(one.Add(d2)).Mul(archsimd.LoadFloat64x4Slice(w[j:]))
		z = z.Add(q)
		q = q.Mul(q)
		r0 = r0.Add(q.Mul(t0))
		r1 = r1.Add(q.Mul(t1))
		r2 = r2.Add(q.Mul(t2))
		r3 = r3.Add(q.Mul(t3))
		r4 = r4.Add(q.Mul(t4))
	}
	ri[0], ri[1], ri[2], ri[3], ri[4] = hsum4(r0), hsum4(r1), hsum4(r2), hsum4(r3), hsum4(r4)
	return hsum4(z)
}

func hsum4(v archsimd.Float64x4) float64 {
	var a [4]float64
	v.Store(&a)
	return sumLanes(a[0], a[1], a[2], a[3])
}
