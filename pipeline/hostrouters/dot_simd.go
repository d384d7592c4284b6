//go:build goexperiment.simd && amd64

package hostrouters

import "simd/archsimd"

var useAVX2 = archsimd.X86.AVX2() && archsimd.X86.FMA()

// dot4 returns the dot products of t with q0..q3 (all of len(t)).
func dot4(t, q0, q1, q2, q3 []float32) (float32, float32, float32, float32) {
	if !useAVX2 {
		return dot4Generic(t, q0, q1, q2, q3)
	}
	n := len(t)
	q0, q1, q2, q3 = q0[:n], q1[:n], q2[:n], q3[:n]
	var a0, a1, a2, a3 archsimd.Float32x8
	i := 0
	for ; i+8 <= n; i += 8 {
		v := archsimd.LoadFloat32x8Slice(t[i:])
		a0 = v.MulAdd(archsimd.LoadFloat32x8Slice(q0[i:]), a0)
		a1 = v.MulAdd(archsimd.LoadFloat32x8Slice(q1[i:]), a1)
		a2 = v.MulAdd(archsimd.LoadFloat32x8Slice(q2[i:]), a2)
		a3 = v.MulAdd(archsimd.LoadFloat32x8Slice(q3[i:]), a3)
	}
	s0, s1, s2, s3 := hsum(a0), hsum(a1), hsum(a2), hsum(a3)
	// VZEROUPPER, which the compiler does not emit yet: without it the
	// scalar (SSE) code after a kernel ran many times slower on the Intel
	// CPUs measured.
	archsimd.ClearAVXUpperBits()
	for ; i < n; i++ {
		s0 += t[i] * q0[i]
		s1 += t[i] * q1[i]
		s2 += t[i] * q2[i]
		s3 += t[i] * q3[i]
	}
	return s0, s1, s2, s3
}

// dot1 returns the dot product of a and b (len(b) >= len(a)). It sums in
// exactly the order of one dot4 lane, so a query's similarities do not
// depend on which kernel its batch position used.
func dot1(a, b []float32) float32 {
	if !useAVX2 {
		return dot1Generic(a, b)
	}
	n := len(a)
	b = b[:n]
	var a0 archsimd.Float32x8
	i := 0
	for ; i+8 <= n; i += 8 {
		a0 = archsimd.LoadFloat32x8Slice(a[i:]).MulAdd(archsimd.LoadFloat32x8Slice(b[i:]), a0)
	}
	s := hsum(a0)
	archsimd.ClearAVXUpperBits()
	for ; i < n; i++ {
		s += a[i] * b[i]
	}
	return s
}

func hsum(v archsimd.Float32x8) float32 {
	var a [8]float32
	v.Store(&a)
	return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]))
}
