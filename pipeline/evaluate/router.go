package evaluate

import (
	"fmt"

	"github.com/routerdc-go/routerdc/pipeline/data"
)

// Scorer gives one value per LLM per query text (higher is better); a
// trained router (routerdir.Router) is one.
type Scorer interface {
	Scores(texts []string) ([][]float64, error)
}

// TaskResult is a router's result on one test set.
type TaskResult struct {
	Task     string  `json:"task"`
	OOD      bool    `json:"ood"`
	N        int     `json:"n"`
	Accuracy float64 `json:"accuracy"`
	// Cost is the mean cost per query of the picks, in dollars (0 when the
	// data has no costs).
	Cost    float64   `json:"cost,omitempty"`
	Picks   []int     `json:"-"`
	Credits []float64 `json:"-"`
}

// scoreBatch is how many queries Dataset encodes and scores at a time: the
// features of a whole big file at once would need gigabytes (8192 float32s
// per query). A multiple of the router's inference chunk (512) and every
// scorer being row by row make the picks those of one call over the file.
const scoreBatch = 1024

// Dataset routes every query of ds and scores the picks with metric m.
func Dataset(s Scorer, ds *data.Dataset, m data.Metric) (*TaskResult, error) {
	picks := make([]int, 0, len(ds.Queries))
	texts := make([]string, 0, min(scoreBatch, len(ds.Queries)))
	for start := 0; start < len(ds.Queries); start += scoreBatch {
		texts = texts[:0]
		for _, q := range ds.Queries[start:min(start+scoreBatch, len(ds.Queries))] {
			texts = append(texts, q.Question)
		}
		scores, err := s.Scores(texts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ds.Path, err)
		}
		if len(scores) != len(texts) {
			return nil, fmt.Errorf("%s: the router gave %d rows for %d queries (records %d..%d)",
				ds.Path, len(scores), len(texts), start, start+len(texts)-1)
		}
		for _, row := range scores {
			best := 0
			for t := range row {
				if row[t] > row[best] {
					best = t
				}
			}
			picks = append(picks, best)
		}
	}
	credits := Credits(ds, m, picks)
	return &TaskResult{N: len(picks), Accuracy: 100 * Mean(credits), Picks: picks, Credits: credits}, nil
}

// Tasks evaluates a router on the test set of every task of a collection.
func Tasks(s Scorer, col *data.Collection) ([]*TaskResult, error) {
	var out []*TaskResult
	for _, t := range col.Tasks {
		r, err := Dataset(s, t.Test, t.Metric)
		if err != nil {
			return nil, err
		}
		if col.HasCosts {
			if r.Cost, err = MeanCost(t.Test, r.Picks); err != nil {
				return nil, err
			}
		}
		r.Task, r.OOD = t.Name, t.OOD
		out = append(out, r)
	}
	return out, nil
}

// Averages returns the unweighted ID and OOD mean accuracies.
func Averages(results []*TaskResult) (id, ood float64) {
	var a, b []float64
	for _, r := range results {
		if r.OOD {
			b = append(b, r.Accuracy)
		} else {
			a = append(a, r.Accuracy)
		}
	}
	return Mean(a), Mean(b)
}
