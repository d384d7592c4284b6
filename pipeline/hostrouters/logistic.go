package hostrouters

import (
	"math"
)

// sparseRows is a CSR copy of a feature matrix (row-major, float32).
type sparseRows struct {
	indptr []int
	idx    []int32
	val    []float32
}

func toSparse(x [][]float32) sparseRows {
	s := sparseRows{indptr: []int{0}}
	for _, row := range x {
		for j, v := range row {
			if v != 0 {
				s.idx = append(s.idx, int32(j))
				s.val = append(s.val, v)
			}
		}
		s.indptr = append(s.indptr, len(s.idx))
	}
	return s
}

// fitLogistic fits one L2-regularised logistic regression per target column
// on rows (sparse, of width dim) with soft labels y[i][l] in [0, 1]:
//
//	min_{w_l, b_l} mean_i BCE(sigmoid(b_l + w_l . x_i), y_il) + lambda/2 |w_l|^2
//
// (the bias is not penalised), by full-batch Nesterov-accelerated gradient
// descent from w = 0, b = logit(mean label) for iters steps. It returns the
// weights (nOut rows of dim, row-major) and biases. With unit rows the
// gradient's Lipschitz constant is at most 1/4 + lambda, hence the step.
func fitLogistic(x sparseRows, y [][]float64, dim int, lambda float64, iters int) ([]float64, []float64) {
	n := len(x.indptr) - 1
	nOut := len(y[0])
	w := make([]float64, nOut*dim)
	b := make([]float64, nOut)
	for l := range nOut {
		var m float64
		for i := range n {
			m += y[i][l]
		}
		m = min(max(m/float64(n), 1e-3), 1-1e-3)
		b[l] = math.Log(m / (1 - m))
	}
	// Nesterov: v = previous iterate; look-ahead point z.
	wPrev := append([]float64(nil), w...)
	bPrev := append([]float64(nil), b...)
	zw := make([]float64, len(w))
	zb := make([]float64, nOut)
	gw := make([]float64, len(w))
	gb := make([]float64, nOut)
	// dimension-major gradient accumulation is row-major over l: gw[j*nOut+l]
	step := 1 / (0.25 + lambda)
	r := make([]float64, nOut)
	for it := range iters {
		mom := float64(it) / float64(it+3)
		for k := range w {
			zw[k] = w[k] + mom*(w[k]-wPrev[k])
		}
		for l := range b {
			zb[l] = b[l] + mom*(b[l]-bPrev[l])
		}
		clear(gw)
		clear(gb)
		for i := range n {
			lo, hi := x.indptr[i], x.indptr[i+1]
			copy(r, zb)
			for p := lo; p < hi; p++ {
				v := float64(x.val[p])
				zr := zw[int(x.idx[p])*nOut : int(x.idx[p])*nOut+nOut]
				for l := range r {
					r[l] += v * zr[l]
				}
			}
			for l := range r {
				r[l] = (sigmoid(r[l]) - y[i][l]) / float64(n)
				gb[l] += r[l]
			}
			for p := lo; p < hi; p++ {
				v := float64(x.val[p])
				gr := gw[int(x.idx[p])*nOut : int(x.idx[p])*nOut+nOut]
				for l := range r {
					gr[l] += v * r[l]
				}
			}
		}
		copy(wPrev, w)
		copy(bPrev, b)
		for k := range w {
			w[k] = zw[k] - step*(gw[k]+lambda*zw[k])
		}
		for l := range b {
			b[l] = zb[l] - step*gb[l]
		}
	}
	// Transpose to nOut rows of dim.
	out := make([]float64, nOut*dim)
	for j := range dim {
		for l := range nOut {
			out[l*dim+j] = w[j*nOut+l]
		}
	}
	return out, b
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
