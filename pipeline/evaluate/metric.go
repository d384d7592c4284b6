// Package evaluate turns routing decisions into the paper's accuracies and
// compares routers with a paired bootstrap.
package evaluate

import (
	"fmt"
	"math"

	"github.com/routerdc-go/routerdc/pipeline/data"
)

// Credit is what a query earns when the router picks an LLM with this score.
// "probability" scores are the model's probability of the right answer when
// it answered correctly and 0 otherwise, so any positive score counts as
// correct; "multi_attempt" scores are already the fraction of correct tries.
func Credit(m data.Metric, score float64) float64 {
	switch m {
	case data.Probability:
		if score > 0 {
			return 1
		}
		return 0
	case data.MultiAttempt:
		return score
	}
	panic(fmt.Sprintf("evaluate: unknown metric %q", m))
}

// Credits is the per-query credit of picks (one LLM index per query), the
// input of Accuracy and of the paired bootstrap.
func Credits(ds *data.Dataset, m data.Metric, picks []int) []float64 {
	if len(picks) != len(ds.Queries) {
		panic(fmt.Sprintf("evaluate: %d picks for %d queries of %s", len(picks), len(ds.Queries), ds.Path))
	}
	out := make([]float64, len(picks))
	for i, q := range ds.Queries {
		out[i] = Credit(m, q.Scores[picks[i]])
	}
	return out
}

// Accuracy is 100 x the mean credit of picks, the unit of the paper's tables.
func Accuracy(ds *data.Dataset, m data.Metric, picks []int) float64 {
	return 100 * Mean(Credits(ds, m, picks))
}

// LLMAccuracy is the accuracy of always picking one LLM.
func LLMAccuracy(ds *data.Dataset, m data.Metric, llm int) float64 {
	var sum float64
	for _, q := range ds.Queries {
		sum += Credit(m, q.Scores[llm])
	}
	return 100 * sum / float64(len(ds.Queries))
}

// OracleAccuracy is the accuracy of a router that always picks the best LLM
// for each query: the ceiling of any router over these candidates.
func OracleAccuracy(ds *data.Dataset, m data.Metric) float64 {
	var sum float64
	for _, q := range ds.Queries {
		best := 0.0
		for _, s := range q.Scores {
			best = max(best, Credit(m, s))
		}
		sum += best
	}
	return 100 * sum / float64(len(ds.Queries))
}

// RandomAccuracy is the expected accuracy of picking an LLM uniformly at
// random per query, computed exactly rather than sampled.
func RandomAccuracy(ds *data.Dataset, m data.Metric) float64 {
	var sum float64
	for _, q := range ds.Queries {
		var s float64
		for _, x := range q.Scores {
			s += Credit(m, x)
		}
		sum += s / float64(len(q.Scores))
	}
	return 100 * sum / float64(len(ds.Queries))
}

// BestLLMAccuracy is the "task oracle": the single LLM with the best accuracy
// on this set (the first on ties) and that accuracy.
func BestLLMAccuracy(ds *data.Dataset, m data.Metric) (llm int, acc float64) {
	llm, acc = -1, -1
	for i := range ds.LLMs {
		if a := LLMAccuracy(ds, m, i); a > acc {
			llm, acc = i, a
		}
	}
	return llm, acc
}

// Mean of xs; 0 for none, so an empty set does not poison an average with NaN.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// MeanStd returns the mean of xs and its sample standard deviation (0 for
// fewer than two values): the seed spread of the tables and sweeps.
func MeanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) > 1 {
		for _, x := range xs {
			std += (x - mean) * (x - mean)
		}
		std = math.Sqrt(std / float64(len(xs)-1))
	}
	return mean, std
}
