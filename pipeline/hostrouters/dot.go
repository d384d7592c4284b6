package hostrouters

func dot4Generic(t, q0, q1, q2, q3 []float32) (s0, s1, s2, s3 float32) {
	n := len(t)
	q0, q1, q2, q3 = q0[:n], q1[:n], q2[:n], q3[:n]
	for i, v := range t {
		s0 += v * q0[i]
		s1 += v * q1[i]
		s2 += v * q2[i]
		s3 += v * q3[i]
	}
	return
}

// dot1Generic sums in the order of one dot4Generic lane.
func dot1Generic(a, b []float32) float32 {
	b = b[:len(a)]
	var s float32
	for i, v := range a {
		s += v * b[i]
	}
	return s
}
