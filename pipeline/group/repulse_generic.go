//go:build !(goexperiment.simd && amd64)

package group

const haveRepulse5 = false

func repulse5(yT, w []float64, i int, ri []float64) float64 {
	panic("group: no vector kernel")
}
