package evaluate

import (
	"fmt"
	"math"

	"github.com/routerdc-go/routerdc/pipeline/data"
)

// Costs of routing, in dollars per query. They need a dataset whose queries
// carry data.Query.Costs; a query without them is an error naming the file
// and the record (0-based, as data.ValidationError counts), because a mean
// over the queries that happen to have costs would silently compare
// routers on different queries.

// queryCosts returns query i's costs, checked against the LLMs of ds.
func queryCosts(ds *data.Dataset, i int) ([]float64, error) {
	c := ds.Queries[i].Costs
	if c == nil {
		return nil, fmt.Errorf("%s: record %d: field \"costs\": missing (the cost figures need a cost per LLM for every query)", ds.Path, i)
	}
	if len(c) != len(ds.LLMs) {
		return nil, fmt.Errorf("%s: record %d: field \"costs\": %d values for %d LLMs", ds.Path, i, len(c), len(ds.LLMs))
	}
	for t, v := range c {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, fmt.Errorf("%s: record %d: field \"costs.%s\": %v is not a finite non-negative number of dollars", ds.Path, i, ds.LLMs[t], v)
		}
	}
	return c, nil
}

// MeanCost is the average cost per query, in dollars, of picks (one LLM
// index per query of ds, as Dataset and Accuracy take them).
func MeanCost(ds *data.Dataset, picks []int) (float64, error) {
	if len(picks) != len(ds.Queries) {
		return 0, fmt.Errorf("%s: %d picks for %d queries", ds.Path, len(picks), len(ds.Queries))
	}
	if len(picks) == 0 {
		return 0, fmt.Errorf("%s: no queries, so no mean cost", ds.Path)
	}
	var sum float64
	for i, p := range picks {
		c, err := queryCosts(ds, i)
		if err != nil {
			return 0, err
		}
		if p < 0 || p >= len(c) {
			return 0, fmt.Errorf("%s: record %d: pick %d is not one of the %d LLMs", ds.Path, i, p, len(c))
		}
		sum += c[p]
	}
	return sum / float64(len(picks)), nil
}

// LLMCost is the average cost per query of always picking one LLM: the
// cost coordinate of that LLM's point in the cost-quality plane.
func LLMCost(ds *data.Dataset, llm int) (float64, error) {
	if llm < 0 || llm >= len(ds.LLMs) {
		return 0, fmt.Errorf("%s: LLM index %d, want 0..%d", ds.Path, llm, len(ds.LLMs)-1)
	}
	picks := make([]int, len(ds.Queries))
	for i := range picks {
		picks[i] = llm
	}
	return MeanCost(ds, picks)
}

// OraclePicks picks, per query, the cheapest LLM among those with the best
// credit under metric m. Credit rather than the raw score decides "best",
// so that the oracle's accuracy is exactly OracleAccuracy: under
// "probability" any correct LLM is as good as another, and the oracle then
// pays for the cheapest correct one, which is what makes it the cost floor
// of a perfect router. When no LLM earns credit, every LLM ties at 0 and
// the oracle picks the cheapest (a wrong answer is not worth paying for).
// Equal costs among the best go to the first in the LLM order, so the
// picks are deterministic.
func OraclePicks(ds *data.Dataset, m data.Metric) ([]int, error) {
	picks := make([]int, len(ds.Queries))
	for i, q := range ds.Queries {
		c, err := queryCosts(ds, i)
		if err != nil {
			return nil, err
		}
		best := math.Inf(-1)
		for _, s := range q.Scores {
			best = max(best, Credit(m, s))
		}
		pick := -1
		for t, s := range q.Scores {
			if Credit(m, s) == best && (pick < 0 || c[t] < c[pick]) {
				pick = t
			}
		}
		picks[i] = pick
	}
	return picks, nil
}

// OracleCost is the average cost per query of OraclePicks.
func OracleCost(ds *data.Dataset, m data.Metric) (float64, error) {
	picks, err := OraclePicks(ds, m)
	if err != nil {
		return 0, err
	}
	return MeanCost(ds, picks)
}
