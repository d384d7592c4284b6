package gateway

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
)

// Rank orders the mapped LLMs for one query, best first: by p[i] - w*cost[i]
// (p: the router's probability of mapped LLM i; cost: Config.Costs, so in
// [0, 1]), ties in the router's order. The first is the choice, the rest the
// fallbacks; with w = 0 that is by probability.
func Rank(p, cost []float64, w float64) []int {
	order := make([]int, len(p))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return score(p, cost, w, order[a]) > score(p, cost, w, order[b])
	})
	return order
}

// score is LLM i's p - w*cost; a NaN probability (a broken model) ranks
// last instead of making the order arbitrary.
func score(p, cost []float64, w float64, i int) float64 {
	v := p[i] - w*cost[i]
	if math.IsNaN(v) {
		return math.Inf(-1)
	}
	return v
}

// Choose is Rank's first: the mapped LLM a query goes to at w.
func Choose(p, cost []float64, w float64) int {
	best, bestV := 0, math.Inf(-1)
	for i := range p {
		if v := score(p, cost, w, i); v > bestV {
			best, bestV = i, v
		}
	}
	return best
}

// ParseW reads the W of "router:W": a finite number >= 0.
func ParseW(s string) (float64, error) {
	w, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
		return 0, fmt.Errorf("W in router:W must be a number >= 0, got %q", s)
	}
	return w, nil
}

// Calibration is a W and what it does to a set of queries.
type Calibration struct {
	W float64
	// Shares is the fraction of queries each mapped LLM gets.
	Shares []float64
	// AvgCost is the mean cost of a query in dollars.
	AvgCost float64
}

// Evaluate routes every query at w. probs are the mapped LLMs'
// probabilities per query; dollars is what a query costs on each LLM.
func Evaluate(probs [][]float64, cost, dollars []float64, w float64) Calibration {
	c := Calibration{W: w, Shares: make([]float64, len(cost))}
	for _, p := range probs {
		j := Choose(p, cost, w)
		c.Shares[j]++
		c.AvgCost += dollars[j]
	}
	if n := float64(len(probs)); n > 0 {
		for j := range c.Shares {
			c.Shares[j] /= n
		}
		c.AvgCost /= n
	}
	return c
}

// interval is a range of W over which every query keeps its choice.
type interval struct {
	lo, hi float64 // hi is +Inf for the last
	counts []int
}

// intervals sweeps W from 0 up: each query's choice changes only where
// its best line p_j - W*cost_j is overtaken by a cheaper one (at most
// len(cost)-1 times), so the choices of all queries over all W are a few
// intervals, found exactly without trying Ws.
func intervals(probs [][]float64, cost []float64) []interval {
	type event struct {
		w        float64
		from, to int
	}
	m := len(cost)
	counts := make([]int, m)
	var events []event
	for _, p := range probs {
		// Just above W = 0: the most probable, ties to the cheaper.
		cur := 0
		for j := 1; j < m; j++ {
			if p[j] > p[cur] || (p[j] == p[cur] && cost[j] < cost[cur]) {
				cur = j
			}
		}
		counts[cur]++
		w := 0.0
		for {
			next, nextW := -1, math.Inf(1)
			for k := range m {
				if cost[k] >= cost[cur] {
					continue
				}
				x := max((p[cur]-p[k])/(cost[cur]-cost[k]), w)
				if next < 0 || x < nextW || (x == nextW && cost[k] < cost[next]) {
					next, nextW = k, x
				}
			}
			if next < 0 {
				break
			}
			events = append(events, event{nextW, cur, next})
			cur, w = next, nextW
		}
	}
	sort.Slice(events, func(a, b int) bool { return events[a].w < events[b].w })
	var out []interval
	lo := 0.0
	for i := 0; i <= len(events); i++ {
		if i < len(events) && events[i].w == lo {
			counts[events[i].from]--
			counts[events[i].to]++
			continue
		}
		hi := math.Inf(1)
		if i < len(events) {
			hi = events[i].w
		}
		out = append(out, interval{lo, hi, slices.Clone(counts)})
		if i == len(events) {
			break
		}
		lo = hi
		counts[events[i].from]--
		counts[events[i].to]++
	}
	return out
}

// inside is a W strictly inside iv, short to print: the fewest significant
// digits that stay inside (so "router:W" as printed routes as calibrated).
func (iv interval) inside() float64 {
	var mid float64
	switch {
	case math.IsInf(iv.hi, 1) && iv.lo == 0:
		return 0
	case math.IsInf(iv.hi, 1):
		mid = iv.lo * 1.5
	default:
		mid = (iv.lo + iv.hi) / 2
	}
	for digits := 1; digits <= 17; digits++ {
		w, _ := strconv.ParseFloat(strconv.FormatFloat(mid, 'g', digits, 64), 64)
		if w > iv.lo && w < iv.hi {
			return w
		}
	}
	return mid
}

// CalibrateCost finds the smallest W (the most quality) whose average cost
// per query is at most target dollars.
func CalibrateCost(probs [][]float64, cost, dollars []float64, target float64) (Calibration, error) {
	if len(probs) == 0 {
		return Calibration{}, errors.New("no queries to calibrate on")
	}
	if c := Evaluate(probs, cost, dollars, 0); c.AvgCost <= target {
		return c, nil
	}
	ivs := intervals(probs, cost)
	n := float64(len(probs))
	lowest := math.Inf(1)
	for _, iv := range ivs {
		var avg float64
		for j, k := range iv.counts {
			avg += float64(k) * dollars[j] / n
		}
		lowest = min(lowest, avg)
		if avg <= target*(1+1e-12) {
			return Evaluate(probs, cost, dollars, iv.inside()), nil
		}
	}
	return Calibration{}, fmt.Errorf("no W reaches an average cost of $%.6g per query; the lowest is $%.6g (each query on its cheapest mapped LLM)", target, lowest)
}

// CalibrateShare finds the W whose share of queries for mapped LLM llm is
// closest to target (the smallest such W).
func CalibrateShare(probs [][]float64, cost, dollars []float64, llm int, target float64) (Calibration, error) {
	if len(probs) == 0 {
		return Calibration{}, errors.New("no queries to calibrate on")
	}
	best := Evaluate(probs, cost, dollars, 0)
	bestGap := math.Abs(best.Shares[llm] - target)
	n := float64(len(probs))
	for _, iv := range intervals(probs, cost) {
		if gap := math.Abs(float64(iv.counts[llm])/n - target); gap < bestGap-1e-12 {
			best, bestGap = Evaluate(probs, cost, dollars, iv.inside()), gap
		}
	}
	return best, nil
}
