package gateway

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func randomProbs(n, m int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([][]float64, n)
	for i := range out {
		p := make([]float64, m)
		var z float64
		for j := range p {
			p[j] = rng.ExpFloat64()
			z += p[j]
		}
		for j := range p {
			p[j] /= z
		}
		out[i] = p
	}
	return out
}

func TestRank(t *testing.T) {
	p, cost := []float64{0.5, 0.4, 0.1}, []float64{1, 0.5, 0}
	for _, c := range []struct {
		w    float64
		want []int
	}{{0, []int{0, 1, 2}}, {0.3, []int{1, 0, 2}}, {0.5, []int{1, 2, 0}}, {2, []int{2, 1, 0}}} {
		got := Rank(p, cost, c.w)
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("W=%g: order %v, want %v", c.w, got, c.want)
				break
			}
		}
		if Choose(p, cost, c.w) != got[0] {
			t.Errorf("W=%g: Choose %d, Rank's first %d", c.w, Choose(p, cost, c.w), got[0])
		}
	}
	if got := Rank([]float64{math.NaN(), 0.1, 0.2}, []float64{0, 0, 0}, 0); got[0] != 2 || got[2] != 0 {
		t.Errorf("NaN order %v, want it last", got)
	}
	// Ties keep the router's order.
	if got := Rank([]float64{0.4, 0.4, 0.2}, []float64{0, 0, 0}, 1); got[0] != 0 || got[1] != 1 {
		t.Errorf("tie order %v", got)
	}
}

// The sweep's intervals agree with routing each query at a W inside them.
func TestIntervalsExact(t *testing.T) {
	probs := randomProbs(200, 4, 1)
	cost := []float64{1, 0.6, 0.6, 0.1} // two LLMs of one cost
	ivs := intervals(probs, cost)
	if len(ivs) < 3 || ivs[0].lo != 0 || !math.IsInf(ivs[len(ivs)-1].hi, 1) {
		t.Fatalf("%d intervals from %v to %v", len(ivs), ivs[0].lo, ivs[len(ivs)-1].hi)
	}
	dollars := []float64{1, 1, 1, 1}
	for _, iv := range ivs {
		w := iv.inside()
		if !(w > iv.lo && w < iv.hi) && !(iv.lo == 0 && w == 0) {
			t.Fatalf("inside(%v, %v) = %v", iv.lo, iv.hi, w)
		}
		if w == 0 {
			continue // W = 0 breaks ties by order, just above it by cost
		}
		e := Evaluate(probs, cost, dollars, w)
		for j, k := range iv.counts {
			if math.Abs(e.Shares[j]*200-float64(k)) > 1e-9 {
				t.Fatalf("W=%v: LLM %d gets %v queries routed, the sweep says %d", w, j, e.Shares[j]*200, k)
			}
		}
	}
}

func TestCalibrate(t *testing.T) {
	probs := randomProbs(300, 4, 2)
	cost := []float64{1, 0.5, 0.2, 0.05}
	dollars := []float64{0.02, 0.01, 0.004, 0.001}
	grid := func(f func(Calibration)) {
		for w := 0.0; w < 20; w += 0.002 {
			f(Evaluate(probs, cost, dollars, w))
		}
	}
	// The average cost falls as W grows.
	last := math.Inf(1)
	grid(func(c Calibration) {
		if c.AvgCost > last+1e-15 {
			t.Fatalf("average cost rises at W=%v", c.W)
		}
		last = c.AvgCost
	})
	for _, target := range []float64{0.012, 0.006, 0.002} {
		c, err := CalibrateCost(probs, cost, dollars, target)
		if err != nil {
			t.Fatal(err)
		}
		if c.AvgCost > target*(1+1e-12) { // sums of dollars round
			t.Errorf("target $%v: W=%v costs $%v", target, c.W, c.AvgCost)
		}
		if again := Evaluate(probs, cost, dollars, c.W); again.AvgCost != c.AvgCost {
			t.Errorf("the printed W=%v routes to $%v, calibration said $%v", c.W, again.AvgCost, c.AvgCost)
		}
		grid(func(g Calibration) {
			if g.W < c.W && g.AvgCost <= target*(1-1e-12) {
				t.Errorf("target $%v: W=%v already meets it, calibration gave the larger %v", target, g.W, c.W)
			}
		})
	}
	if _, err := CalibrateCost(probs, cost, dollars, 0.0005); err == nil || !strings.Contains(err.Error(), "lowest is $0.001") {
		t.Errorf("unreachable target: %v", err)
	}
	for _, target := range []float64{0.1, 0.5, 0.9} {
		c, err := CalibrateShare(probs, cost, dollars, 3, target)
		if err != nil {
			t.Fatal(err)
		}
		gap := math.Abs(c.Shares[3] - target)
		grid(func(g Calibration) {
			if math.Abs(g.Shares[3]-target) < gap-1e-12 {
				t.Errorf("share %v: W=%v gives %v, closer than calibration's W=%v (%v)", target, g.W, g.Shares[3], c.W, c.Shares[3])
			}
		})
	}
}
