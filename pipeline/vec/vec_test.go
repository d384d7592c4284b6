package vec

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64())
	}
	return out
}

// randSparse has rows of random entries of D features, ascending, some
// repeated across rows, one row empty.
func randSparse(rng *rand.Rand, rows, D int) Sparse {
	x := Sparse{Start: []int{0}}
	for r := 0; r < rows; r++ {
		if r != 2 {
			for k := 0; k < D; k++ {
				if rng.Float64() < 0.3 {
					x.Index = append(x.Index, int32(k))
					x.Value = append(x.Value, float32(rng.NormFloat64()))
				}
			}
		}
		x.Start = append(x.Start, len(x.Index))
	}
	return x
}

// eachLevel runs fn at every kernel level the CPU has and checks that all
// give the same bits as the plain loops.
func eachLevel(t *testing.T, fn func() []float32) {
	t.Helper()
	saved := level
	defer setLevel(saved)
	setLevel("none")
	want := fn()
	for _, l := range levels() {
		setLevel(l)
		got := fn()
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: element %d is %v, plain Go gives %v", l, i, got[i], want[i])
			}
		}
	}
}

func TestGatherSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dim := range []int{64, 80, 24, 7, 1} {
		D := 40
		W, bias := randSlice(rng, D*dim), randSlice(rng, dim)
		x := randSparse(rng, 9, D)
		eachLevel(t, func() []float32 {
			out := make([]float32, 7*dim)
			GatherSum(out, W, bias, dim, x, 1, 8)
			return out
		})
		// Against a float64 sum.
		out := make([]float32, 7*dim)
		GatherSum(out, W, bias, dim, x, 1, 8)
		for r := 1; r < 8; r++ {
			for c := 0; c < dim; c++ {
				want := float64(bias[c])
				for j := x.Start[r]; j < x.Start[r+1]; j++ {
					want += float64(x.Value[j]) * float64(W[int(x.Index[j])*dim+c])
				}
				if got := float64(out[(r-1)*dim+c]); math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
					t.Fatalf("dim %d: row %d col %d is %v, want %v", dim, r, c, got, want)
				}
			}
		}
	}
}

func TestScatterAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, dim := range []int{64, 24, 5} {
		D := 30
		x := randSparse(rng, 6, D)
		g, start := randSlice(rng, 6*dim), randSlice(rng, D*dim)
		eachLevel(t, func() []float32 {
			gW := slices.Clone(start)
			ScatterAdd(gW, g, dim, x)
			return gW
		})
		gW := slices.Clone(start)
		ScatterAdd(gW, g, dim, x)
		want := make([]float64, D*dim)
		for i, v := range start {
			want[i] = float64(v)
		}
		for r := 0; r < 6; r++ {
			for j := x.Start[r]; j < x.Start[r+1]; j++ {
				for c := 0; c < dim; c++ {
					want[int(x.Index[j])*dim+c] += float64(x.Value[j]) * float64(g[r*dim+c])
				}
			}
		}
		for i := range want {
			if math.Abs(float64(gW[i])-want[i]) > 1e-4*(1+math.Abs(want[i])) {
				t.Fatalf("dim %d: element %d is %v, want %v", dim, i, gW[i], want[i])
			}
		}
	}
}

func TestMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	a, b := randSlice(rng, 5*9), randSlice(rng, 9*33)
	eachLevel(t, func() []float32 {
		out := make([]float32, 5*33)
		MatMul(out, a, b, 5, 9, 33)
		return out
	})
	out := make([]float32, 5*33)
	MatMul(out, a, b, 5, 9, 33)
	for i := 0; i < 5; i++ {
		for j := 0; j < 33; j++ {
			var want float64
			for k := 0; k < 9; k++ {
				want += float64(a[i*9+k]) * float64(b[k*33+j])
			}
			if math.Abs(float64(out[i*33+j])-want) > 1e-4*(1+math.Abs(want)) {
				t.Fatalf("(%d, %d) is %v, want %v", i, j, out[i*33+j], want)
			}
		}
	}
}

// TestAdamW: every level gives the bits of the plain loop, and a step
// matches GoMLX's formula computed in float64.
func TestAdamW(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	n := 16*5 + 9
	w0, g := randSlice(rng, n), randSlice(rng, n)
	m10, m20 := randSlice(rng, n), randSlice(rng, n)
	for i := range m20 {
		m20[i] = m20[i] * m20[i]
	}
	c := Adam{Beta1: 0.9, Beta2: 0.999, Debias1: 1 / (1 - 0.9*0.9), Debias2: 1 / (1 - 0.999*0.999), Eps: 1e-7, LR: 5e-3, Decay: 0.01}
	run := func() (w, m1, m2 []float32) {
		w, m1, m2 = slices.Clone(w0), slices.Clone(m10), slices.Clone(m20)
		AdamW(w, g, m1, m2, c)
		return w, m1, m2
	}
	eachLevel(t, func() []float32 {
		w, m1, m2 := run()
		return slices.Concat(w, m1, m2)
	})
	w, _, _ := run()
	for i := range w {
		b1, b2 := float64(c.Beta1), float64(c.Beta2)
		m1 := b1*float64(m10[i]) + (1-b1)*float64(g[i])
		m2 := b2*float64(m20[i]) + (1-b2)*float64(g[i])*float64(g[i])
		lr := float64(c.LR)
		step := lr*m1*float64(c.Debias1)/(math.Sqrt(m2*float64(c.Debias2))+float64(c.Eps)) + lr*float64(w0[i])*float64(c.Decay)
		want := float64(w0[i]) - step
		if math.Abs(float64(w[i])-want) > 1e-6*(1+math.Abs(want)) {
			t.Fatalf("element %d is %v, want %v", i, w[i], want)
		}
	}
}
