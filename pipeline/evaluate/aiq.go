package evaluate

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// CostPoint is one operating point of a router (or one LLM) in the
// cost-quality plane: Cost is the average cost per query in dollars,
// Quality the accuracy (any unit; AIQ comes out in the same unit).
type CostPoint struct{ Cost, Quality float64 }

// NonDecreasingHull is the non-decreasing convex hull of RouterBench
// (Hu et al. 2024, "RouterBench: A Benchmark for Multi-LLM Routing
// System", arXiv:2403.12031): the smallest concave,
// non-decreasing curve on or above every point. Any cost-quality pair on
// it is reachable by mixing two of the router's settings at random (the
// chords of the hull), and paying more never has to lower quality (keep
// the best setting and leave the extra budget unspent), hence "convex" and
// "non-decreasing".
//
// It returns the hull's vertices by increasing cost: the upper hull of the
// points, cut after its first point of highest quality (from there on the
// curve is flat at that quality). Points strictly below the curve, points
// on a chord (collinear) and, of equal-cost points, all but the best are
// dropped. The points must be finite (AIQ checks this); the input is not
// modified.
//
// RouterBench's own code (withmartian/routerbench, evaluation/AIQ.py,
// get_non_descreasing_convex_hull_of) builds the same curve by
// interpolating between all pairs of points and then dropping points lower
// than their predecessor; this is the standard monotone-chain construction
// of the same upper hull, O(n log n) instead of O(n^3).
func NonDecreasingHull(points []CostPoint) []CostPoint {
	ps := slices.Clone(points)
	// By cost, and the best first among equal costs so the others drop.
	slices.SortFunc(ps, func(a, b CostPoint) int {
		if c := cmp.Compare(a.Cost, b.Cost); c != 0 {
			return c
		}
		return cmp.Compare(b.Quality, a.Quality)
	})
	var h []CostPoint
	for _, p := range ps {
		if len(h) > 0 && h[len(h)-1].Cost == p.Cost {
			continue
		}
		// Pop the last vertex while it is on or below the chord from the
		// one before it to p: the upper hull turns right (clockwise) only.
		for len(h) >= 2 && cross(h[len(h)-2], h[len(h)-1], p) >= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p)
	}
	// A concave chain rises to its highest point and then falls: keep the
	// rise. The first of equal highest points wins (same quality, cheaper).
	top := 0
	for i, p := range h {
		if p.Quality > h[top].Quality {
			top = i
		}
	}
	return h[:top+1]
}

// cross is the z of (b-a) x (c-a): positive when a, b, c turn left.
func cross(a, b, c CostPoint) float64 {
	return (b.Cost-a.Cost)*(c.Quality-a.Quality) - (b.Quality-a.Quality)*(c.Cost-a.Cost)
}

// AIQ is RouterBench's "average improvement in quality" of a router's
// operating points over the cost range [lo, hi]: the area under
// NonDecreasingHull(points) between lo and hi, divided by hi - lo, i.e. the
// hull's mean quality over the range (in the unit of Quality).
//
// The definition followed is the paper's (arXiv:2403.12031: AIQ(R) =
// 1/(c_max - c_min) * the integral from c_min to c_max of R's
// non-decreasing convex hull, dc), with the curve at the ends as the
// reference code (withmartian/routerbench, evaluation/AIQ.py, calc_AIQ)
// draws it:
//   - above the costliest hull vertex the curve stays flat at its quality
//     (calc_AIQ appends the point (max cost, last quality));
//   - below the cheapest point the router has no operating point, so it
//     earns 0 there: calc_AIQ integrates from the cheapest point but divides
//     by the whole range from cost 0, which is the same thing.
//
// RouterBench's tables take [lo, hi] as the range spanned by the LLMs
// (c_min, c_max: the cheapest and the costliest LLM alone), which makes
// AIQs of different routers on one dataset comparable; calc_AIQ itself
// uses lo = 0 and hi = the largest cost among the routers compared.
// Points outside [lo, hi] still shape the hull (a costlier point pulls the
// chord up inside the range), but only the part of the curve within
// [lo, hi] counts.
func AIQ(points []CostPoint, lo, hi float64) (float64, error) {
	if len(points) == 0 {
		return 0, errors.New("evaluate: AIQ needs at least one (cost, quality) point")
	}
	for i, p := range points {
		if !finite(p.Cost) || !finite(p.Quality) {
			return 0, fmt.Errorf("evaluate: AIQ point %d (cost %v, quality %v) is not finite", i, p.Cost, p.Quality)
		}
	}
	if !finite(lo) || !finite(hi) || !(hi > lo) {
		return 0, fmt.Errorf("evaluate: AIQ cost range [%v, %v] is empty or not finite (want lo < hi)", lo, hi)
	}
	h := NonDecreasingHull(points)
	var area float64
	// Zero below h[0].Cost adds nothing. Each hull segment, clipped to
	// [lo, hi], is a trapezoid; so is the flat tail after the last vertex.
	for i := 0; i+1 < len(h); i++ {
		a, b := max(h[i].Cost, lo), min(h[i+1].Cost, hi)
		if a < b {
			area += (b - a) * (lerp(h[i], h[i+1], a) + lerp(h[i], h[i+1], b)) / 2
		}
	}
	last := h[len(h)-1]
	if a := max(last.Cost, lo); a < hi {
		area += (hi - a) * last.Quality
	}
	return area / (hi - lo), nil
}

// lerp is the quality on the chord from p to q at cost c.
func lerp(p, q CostPoint, c float64) float64 {
	return p.Quality + (q.Quality-p.Quality)*(c-p.Cost)/(q.Cost-p.Cost)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
