//go:build !(goexperiment.simd && amd64)

package group

const haveRepulse5 = false

const haveRepulse32x5 = false

var repulseWide = false

func repulse32x5(yT, w []float32, i int, ri []float64) float64 {
	panic("group: no vector kernel")
}

func cellSum5(pos []float64, cap int, mass, y, ri []float64) float64 {
	panic("group: no vector kernel")
}

func attract5SIMD(P *sparseP, y []float64, i int, ai []float64) {
	panic("group: no vector kernel")
}
