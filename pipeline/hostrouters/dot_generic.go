//go:build !(goexperiment.simd && amd64)

package hostrouters

func dot4(t, q0, q1, q2, q3 []float32) (float32, float32, float32, float32) {
	return dot4Generic(t, q0, q1, q2, q3)
}

func dot1(a, b []float32) float32 { return dot1Generic(a, b) }
