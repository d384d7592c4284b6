package router

import (
	"errors"
	"fmt"
	"math"
)

// CostAdjusted is the cost-aware training target of RouterDC's RouterBench
// script (shuhao02/RouterDC, train_router_mdeberta_routerbench.py,
// RouterDataset.__getitem__: scores = scores - costs * cost_rate):
//
//	target[i][t] = scores[i][t] - rate * costs[i][t]
//
// for query i and LLM t, costs in dollars per query in the LLM order. The
// result is new slices; scores and costs are left as they are (scores may
// be the Examples' own, as TargetScores returns them). With rate 0 it
// returns scores itself and costs may be nil, so a caller can apply it
// unconditionally when the setting is off.
//
// Apply it to TargetScores' output, not before: target=credit turns every
// positive score into 1, which would erase a penalty applied first.
//
// Choosing the scale of rate. Scores are in [0, 1]; costs are dollars per
// query, roughly 1e-5 (a 7B model) to 1e-2 (GPT-4-class) on RouterBench.
// The penalty only changes the targets' ranking when rate * (difference
// in cost) is comparable to the differences in score (0.1 to 1), so a
// useful raw rate is about 0.05/c to 1/c where c is the mean cost of the
// dearest LLM: tens to thousands, depending on the LLMs. Beyond that the
// losses lose their signal: the sample-LLM loss only counts a positive
// whose target is > 0 (batch.go's PosMask) and keeps as negatives those
// <= neg_threshold, so once rate * cost exceeds 1 for every LLM no query
// has a positive left; ZOOTER's softmax(target / zooter_temp) and the
// CosineClassifier's argmax have no such cliff but follow the same scale.
//
// A normalised form makes the rate unitless and comparable across
// datasets and LLM sets: divide the costs by the dearest LLM's mean cost
// over the training queries,
//
//	cbar = max over t of (1/N) * sum over i of costs[i][t]   (MaxMeanCost)
//	target[i][t] = scores[i][t] - kappa * costs[i][t] / cbar
//
// i.e. rate = kappa / cbar. kappa = 1 means that always answering with the
// dearest LLM costs one full point of score on average; a sweep such as
// kappa in {0, 0.01, 0.03, 0.1, 0.3, 1} spans "cost barely matters" to
// "cost dominates". cbar must come from the training set alone (never the
// test sets), and it changes with the LLM set, so record kappa and cbar
// with the run.
func CostAdjusted(scores, costs [][]float64, rate float64) ([][]float64, error) {
	if math.IsNaN(rate) || math.IsInf(rate, 0) || rate < 0 {
		return nil, fmt.Errorf("cost_rate %v: want a finite number >= 0", rate)
	}
	if rate == 0 {
		return scores, nil
	}
	if err := checkCosts(costs, len(scores)); err != nil {
		return nil, err
	}
	out := make([][]float64, len(scores))
	for i, s := range scores {
		if len(costs[i]) != len(s) {
			return nil, fmt.Errorf("training row %d: %d costs for %d scores (one per LLM needed)", i, len(costs[i]), len(s))
		}
		row := make([]float64, len(s))
		for t, v := range s {
			row[t] = v - rate*costs[i][t]
		}
		out[i] = row
	}
	return out, nil
}

// MaxMeanCost is cbar of CostAdjusted's normalised form: the largest, over
// the LLMs, of the mean cost per query on these (training) queries.
func MaxMeanCost(costs [][]float64) (float64, error) {
	if len(costs) == 0 {
		return 0, errors.New("no training rows, so no mean cost")
	}
	if err := checkCosts(costs, len(costs)); err != nil {
		return 0, err
	}
	T := len(costs[0])
	sums := make([]float64, T)
	for i, row := range costs {
		if len(row) != T {
			return 0, fmt.Errorf("training row %d: %d costs, row 0 has %d (one per LLM needed)", i, len(row), T)
		}
		for t, c := range row {
			sums[t] += c
		}
	}
	var best float64
	for _, s := range sums {
		best = max(best, s/float64(len(costs)))
	}
	if best == 0 {
		return 0, errors.New("every LLM's mean cost is 0, so costs cannot be normalised by it")
	}
	return best, nil
}

// checkCosts checks that there is one finite, non-negative cost row per
// training row.
func checkCosts(costs [][]float64, rows int) error {
	if len(costs) != rows {
		return fmt.Errorf("%d cost rows for %d training rows (does every query of the training files have costs?)", len(costs), rows)
	}
	for i, row := range costs {
		if row == nil {
			return fmt.Errorf("training row %d has no costs", i)
		}
		for t, c := range row {
			if math.IsNaN(c) || math.IsInf(c, 0) || c < 0 {
				return fmt.Errorf("training row %d: cost of LLM %d is %v, want a finite number of dollars >= 0", i, t, c)
			}
		}
	}
	return nil
}
