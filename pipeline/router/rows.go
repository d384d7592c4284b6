package router

import (
	"math"

	"github.com/routerdc-go/routerdc/pipeline/vec"
)

// Rows are feature rows kept sparse: row r's non-zero features are
// Index[Start[r]:Start[r+1]], ascending, with their Value. The hashed
// n-gram features hit a few hundred of 4,096 buckets (a tenth of those
// after input_dropout); the first layer then sums that many rows of its
// weights instead of multiplying a 4,096-wide row. Dense features are
// rows with every feature listed, and cost what a dense product costs.
type Rows struct {
	vec.Sparse
	D int
}

// SparseRows lists the features of x that are not +0 (a -0 is kept: the
// sum it enters keeps its sign as a dense product would).
func SparseRows(x [][]float32) *Rows {
	r := &Rows{Sparse: vec.Sparse{Start: make([]int, 1, len(x)+1)}}
	if len(x) > 0 {
		r.D = len(x[0])
	}
	for _, row := range x {
		for k, v := range row {
			if math.Float32bits(v) != 0 {
				r.Index = append(r.Index, int32(k))
				r.Value = append(r.Value, v)
			}
		}
		r.Start = append(r.Start, len(r.Index))
	}
	return r
}

// Len is the number of rows.
func (r *Rows) Len() int { return len(r.Start) - 1 }

// DenseInto writes the rows into out [Len, D], row-major (out is cleared
// first).
func (r *Rows) DenseInto(out []float32) {
	clear(out)
	for i := 0; i < r.Len(); i++ {
		for j := r.Start[i]; j < r.Start[i+1]; j++ {
			out[i*r.D+int(r.Index[j])] = r.Value[j]
		}
	}
}

// reset empties r for rows of D features, keeping its memory.
func (r *Rows) reset(D int) {
	r.Start, r.Index, r.Value, r.D = append(r.Start[:0], 0), r.Index[:0], r.Value[:0], D
}
