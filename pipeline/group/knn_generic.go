//go:build !(goexperiment.simd && amd64)

package group

const haveDistTile = false

func distTileSIMD(q, blk []float64, p int, out []float64) {
	panic("group: no vector kernel")
}
