package evaluate

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func pts(xy ...float64) []CostPoint {
	var out []CostPoint
	for i := 0; i < len(xy); i += 2 {
		out = append(out, CostPoint{xy[i], xy[i+1]})
	}
	return out
}

func TestNonDecreasingHull(t *testing.T) {
	cases := []struct {
		name     string
		in, want []CostPoint
	}{
		{"single", pts(2, 60), pts(2, 60)},
		{"collinear middle dropped", pts(1, 10, 2, 20, 3, 30), pts(1, 10, 3, 30)},
		{"dominated point dropped", pts(1, 10, 2, 5, 3, 30), pts(1, 10, 3, 30)},
		{"below a chord dropped", pts(1, 10, 2, 15, 3, 30), pts(1, 10, 3, 30)},
		{"above a chord kept", pts(1, 10, 2, 25, 3, 30), pts(1, 10, 2, 25, 3, 30)},
		{"unsorted input", pts(3, 30, 1, 10, 2, 25), pts(1, 10, 2, 25, 3, 30)},
		{"equal cost keeps the best", pts(1, 5, 1, 10, 3, 30), pts(1, 10, 3, 30)},
		{"decreasing becomes flat", pts(1, 90, 2, 80, 3, 70), pts(1, 90)},
		{"cut after the top", pts(1, 80, 2, 90, 3, 60), pts(1, 80, 2, 90)},
		{"equal tops keep the cheaper", pts(1, 80, 2, 90, 3, 90), pts(1, 80, 2, 90)},
	}
	for _, c := range cases {
		in := slices.Clone(c.in)
		got := NonDecreasingHull(c.in)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: NonDecreasingHull(%v) = %v, want %v", c.name, c.in, got, c.want)
		}
		if !slices.Equal(in, c.in) {
			t.Errorf("%s: the input was modified to %v", c.name, c.in)
		}
	}
}

// The hull of random points must be what its definition says: increasing
// cost, non-decreasing quality, concave, and on or above every point from
// the cheapest on.
func TestNonDecreasingHullProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		in := make([]CostPoint, 1+r.IntN(12))
		for i := range in {
			in[i] = CostPoint{float64(r.IntN(20)), float64(r.IntN(100))}
		}
		h := NonDecreasingHull(in)
		for i := 1; i < len(h); i++ {
			if !(h[i].Cost > h[i-1].Cost) || h[i].Quality < h[i-1].Quality {
				t.Fatalf("trial %d: hull %v of %v not increasing", trial, h, in)
			}
			if i >= 2 && cross(h[i-2], h[i-1], h[i]) >= 0 {
				t.Fatalf("trial %d: hull %v of %v not strictly concave at %d", trial, h, in, i-1)
			}
		}
		for _, p := range in {
			if v := hullValue(h, p.Cost); p.Cost >= h[0].Cost && p.Quality > v+1e-9 {
				t.Fatalf("trial %d: point %v above the hull %v (%v there)", trial, p, h, v)
			}
		}
	}
}

// hullValue is the hull's curve at cost c, written independently of AIQ:
// 0 below the first vertex, flat after the last.
func hullValue(h []CostPoint, c float64) float64 {
	if c < h[0].Cost {
		return 0
	}
	for i := 0; i+1 < len(h); i++ {
		if c <= h[i+1].Cost {
			return h[i].Quality + (h[i+1].Quality-h[i].Quality)*(c-h[i].Cost)/(h[i+1].Cost-h[i].Cost)
		}
	}
	return h[len(h)-1].Quality
}

func TestAIQ(t *testing.T) {
	cases := []struct {
		name   string
		in     []CostPoint
		lo, hi float64
		want   float64
	}{
		// 0 on [1,2) where the router cannot operate, 60 on [2,3].
		{"single point inside", pts(2, 60), 1, 3, 30},
		{"single point at lo", pts(2, 60), 2, 3, 60},
		// Mean of the line 10..30 over [1,3].
		{"collinear", pts(1, 10, 2, 20, 3, 30), 1, 3, 20},
		// Area 40 under the line on [1,3], then flat 30 on [3,5]: 100/4.
		{"flat after the costliest", pts(1, 10, 2, 20, 3, 30), 1, 5, 25},
		{"dominated point removed", pts(1, 10, 2, 5, 3, 30), 1, 3, 20},
		// The line 10c from (0,0) to (4,40) over [1,3]: mean 20.
		{"points outside the range", pts(0, 0, 4, 40), 1, 3, 20},
		{"all points above hi", pts(5, 50, 6, 60), 1, 3, 0},
		{"all points below lo", pts(0.5, 40), 1, 3, 40},
		{"decreasing is flat", pts(1, 90, 2, 80, 3, 70), 1, 3, 90},
		// 0 on [0,1), 90 on [1,3].
		{"decreasing from 0", pts(1, 90, 2, 80, 3, 70), 0, 3, 60},
		// Trapezoid 80..90 on [1,2] (85), then flat 90 on [2,3].
		{"cut after the top", pts(1, 80, 2, 90, 3, 60), 1, 3, 87.5},
		// calc_AIQ's convention (lo = 0, hi = the largest cost): trapz over
		// (1,10),(3,30) is 40, divided by 3.
		{"routerbench code range", pts(1, 10, 3, 30), 0, 3, 40.0 / 3},
	}
	for _, c := range cases {
		got, err := AIQ(c.in, c.lo, c.hi)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !near(got, c.want) {
			t.Errorf("%s: AIQ(%v, %v, %v) = %v, want %v", c.name, c.in, c.lo, c.hi, got, c.want)
		}
	}
}

func TestAIQErrors(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name   string
		in     []CostPoint
		lo, hi float64
		want   string
	}{
		{"no points", nil, 0, 1, "at least one"},
		{"NaN quality", pts(1, nan), 0, 2, "point 0"},
		{"NaN cost", pts(1, 10, nan, 20), 0, 2, "point 1"},
		{"Inf cost", pts(math.Inf(1), 20), 0, 2, "not finite"},
		{"empty range", pts(1, 10), 2, 2, "lo < hi"},
		{"reversed range", pts(1, 10), 3, 2, "lo < hi"},
		{"NaN range", pts(1, 10), nan, 2, "lo < hi"},
	}
	for _, c := range cases {
		got, err := AIQ(c.in, c.lo, c.hi)
		if err == nil {
			t.Errorf("%s: AIQ = %v, want an error", c.name, got)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.want)
		}
	}
}
