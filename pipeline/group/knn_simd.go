//go:build goexperiment.simd && amd64

package group

import "simd/archsimd"

var haveDistTile = archsimd.X86.AVX()

// distTileSIMD is distTileScalar with four candidates per AVX register
// (one lane each) and the four query rows sharing each load.
func distTileSIMD(q, blk []float64, p int, out []float64) {
	q0, q1, q2, q3 := q[:p], q[p:2*p], q[2*p:3*p], q[3*p:4*p]
	for j := 0; j+4 <= knnBlock; j += 4 {
		var a0, a1, a2, a3 archsimd.Float64x4
		for c := 0; c < p; c++ {
			v := archsimd.LoadFloat64x4Slice(blk[c*knnBlock+j:])
			t0 := archsimd.BroadcastFloat64x4(q0[c]).Sub(v)
			t1 := archsimd.BroadcastFloat64x4(q1[c]).Sub(v)
			t2 := archsimd.BroadcastFloat64x4(q2[c]).Sub(v)
			t3 := archsimd.BroadcastFloat64x4(q3[c]).Sub(v)
			a0 = a0.Add(t0.Mul(t0))
			a1 = a1.Add(t1.Mul(t1))
			a2 = a2.Add(t2.Mul(t2))
			a3 = a3.Add(t3.Mul(t3))
		}
		a0.StoreSlice(out[j:])
		a1.StoreSlice(out[knnBlock+j:])
		a2.StoreSlice(out[2*knnBlock+j:])
		a3.StoreSlice(out[3*knnBlock+j:])
	}
	archsimd.ClearAVXUpperBits() // see repulse_simd.go
}
