package evaluate

import (
	"math/rand/v2"
	"testing"
)

func randomCredits(n int, p float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	for i := range out {
		if r.Float64() < p {
			out[i] = 1
		}
	}
	return out
}

func TestPairedBootstrapDeterministic(t *testing.T) {
	a, b := randomCredits(300, 0.6, 1), randomCredits(300, 0.5, 2)
	d1, lo1, hi1 := PairedBootstrap(a, b, 2000, 7)
	d2, lo2, hi2 := PairedBootstrap(a, b, 2000, 7)
	if d1 != d2 || lo1 != lo2 || hi1 != hi2 {
		t.Errorf("same seed, different results: (%v %v %v) vs (%v %v %v)", d1, lo1, hi1, d2, lo2, hi2)
	}
	// 0/1 credits put the percentiles on a grid where two seeds can agree;
	// fractional (multi_attempt-like) credits do not.
	fa, fb := make([]float64, len(a)), make([]float64, len(b))
	for i := range a {
		fa[i], fb[i] = a[i]*0.9+0.05*float64(i%3), b[i]*0.7
	}
	_, loA, hiA := PairedBootstrap(fa, fb, 2000, 7)
	_, loB, hiB := PairedBootstrap(fa, fb, 2000, 8)
	if loA == loB && hiA == hiB {
		t.Errorf("different seeds gave the same interval [%v, %v]", loA, hiA)
	}
	if want := 100 * (Mean(a) - Mean(b)); !near(d1, want) {
		t.Errorf("meanDiff = %v, want the observed %v", d1, want)
	}
	if !(lo1 < d1 && d1 < hi1) {
		t.Errorf("interval [%v, %v] does not contain the observed difference %v", lo1, hi1, d1)
	}
	// For two independent Bernoulli credit vectors the 95% half-width is about
	// 1.96 * sqrt((p1 q1 + p2 q2) / n) = 7.9 points: check the scale.
	if w := (hi1 - lo1) / 2; w < 6 || w > 10 {
		t.Errorf("half-width %v points, want about 7.9", w)
	}
}

func TestPairedBootstrapDegenerate(t *testing.T) {
	a := randomCredits(50, 0.5, 3)
	if d, lo, hi := PairedBootstrap(a, a, 500, 1); d != 0 || lo != 0 || hi != 0 {
		t.Errorf("a vs itself = %v [%v, %v], want all 0", d, lo, hi)
	}
	ones, zeros := make([]float64, 20), make([]float64, 20)
	for i := range ones {
		ones[i] = 1
	}
	if d, lo, hi := PairedBootstrap(ones, zeros, 500, 1); !near(d, 100) || !near(lo, 100) || !near(hi, 100) {
		t.Errorf("always right vs always wrong = %v [%v, %v], want 100 [100, 100]", d, lo, hi)
	}
}

func TestPairedBootstrapTasksIsUnweighted(t *testing.T) {
	// Task 0: one query, a wins by 1. Task 1: 100 queries, a tie. The paper's
	// average weighs tasks equally: 50 points, not 100/101.
	a := [][]float64{{1}, make([]float64, 100)}
	b := [][]float64{{0}, make([]float64, 100)}
	d, lo, hi := PairedBootstrapTasks(a, b, 200, 3)
	if !near(d, 50) || !near(lo, 50) || !near(hi, 50) {
		t.Errorf("= %v [%v, %v], want 50 [50, 50]", d, lo, hi)
	}
}

func TestPairedBootstrapTasksMatchesSingleTask(t *testing.T) {
	a, b := randomCredits(200, 0.7, 4), randomCredits(200, 0.6, 5)
	d1, lo1, hi1 := PairedBootstrap(a, b, 1000, 9)
	d2, lo2, hi2 := PairedBootstrapTasks([][]float64{a}, [][]float64{b}, 1000, 9)
	if d1 != d2 || lo1 != lo2 || hi1 != hi2 {
		t.Errorf("one-task average differs from PairedBootstrap: (%v %v %v) vs (%v %v %v)", d2, lo2, hi2, d1, lo1, hi1)
	}
}

func TestPairedBootstrapPanicsOnMismatch(t *testing.T) {
	for name, f := range map[string]func(){
		"lengths":    func() { PairedBootstrap([]float64{1, 0}, []float64{1}, 10, 1) },
		"empty":      func() { PairedBootstrap(nil, nil, 10, 1) },
		"task count": func() { PairedBootstrapTasks([][]float64{{1}}, nil, 10, 1) },
		"iters":      func() { PairedBootstrap([]float64{1}, []float64{0}, 0, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
