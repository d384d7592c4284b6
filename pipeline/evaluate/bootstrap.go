package evaluate

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// PairedBootstrap compares two routers on the same queries: a and b are their
// per-query credits (as from Credits), index i being the same query in both.
// It returns the observed accuracy difference 100 x (mean(a) - mean(b)) and
// its 95% percentile interval from iters resamples of the queries; the same
// resample is applied to both, which is what makes small test sets usable.
// The same seed gives the same interval.
func PairedBootstrap(a, b []float64, iters int, seed int64) (meanDiff, lo, hi float64) {
	return PairedBootstrapTasks([][]float64{a}, [][]float64{b}, iters, seed)
}

// PairedBootstrapTasks is PairedBootstrap for an average over tasks, as in
// the paper's Avg columns: a[t] and b[t] are per-query credits on task t.
// Queries are resampled within each task (task sizes stay fixed) and task
// accuracies are averaged unweighted, so HumanEval's 49 queries weigh as much
// as MMLU's 4213, exactly as in the paper.
func PairedBootstrapTasks(a, b [][]float64, iters int, seed int64) (meanDiff, lo, hi float64) {
	if len(a) != len(b) || len(a) == 0 {
		panic(fmt.Sprintf("evaluate: paired bootstrap over %d vs %d tasks", len(a), len(b)))
	}
	if iters < 1 {
		panic(fmt.Sprintf("evaluate: paired bootstrap with %d iterations", iters))
	}
	// Only the per-query difference matters for a paired comparison.
	diffs := make([][]float64, len(a))
	for t := range a {
		if len(a[t]) != len(b[t]) || len(a[t]) == 0 {
			panic(fmt.Sprintf("evaluate: paired bootstrap task %d has %d vs %d queries", t, len(a[t]), len(b[t])))
		}
		diffs[t] = make([]float64, len(a[t]))
		for i := range a[t] {
			diffs[t][i] = a[t][i] - b[t][i]
		}
		meanDiff += Mean(diffs[t])
	}
	meanDiff = 100 * meanDiff / float64(len(a))

	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	stats := make([]float64, iters)
	for it := range stats {
		var avg float64
		for _, d := range diffs {
			var s float64
			for range d {
				s += d[rng.IntN(len(d))]
			}
			avg += s / float64(len(d))
		}
		stats[it] = 100 * avg / float64(len(diffs))
	}
	slices.Sort(stats)
	return meanDiff, percentile(stats, 0.025), percentile(stats, 0.975)
}

// percentile of sorted xs with linear interpolation between ranks.
func percentile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(i)
	return sorted[i]*(1-frac) + sorted[i+1]*frac
}
