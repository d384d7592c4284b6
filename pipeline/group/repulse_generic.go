//go:build !(goexperiment.simd && amd64)

package group

const haveRepulse5 = false

func repulse5(yT, w []float64, i int, ri []float64) float64 {
	panic("group: no vector kernel")
}

func cellSum5(pos []float64, cap int, mass, y, ri []float64) float64 {
	panic("group: no vector kernel")
}

func attract5SIMD(P *sparseP, y []float64, i int, ai []float64) {
	panic("group: no vector kernel")
}
