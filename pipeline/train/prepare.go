// Package train assembles the paper's training set, fits the encoder and
// trains any router kind into a router directory.
package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/routerdc-go/routerdc/pipeline/data"
)

// Row is one training query with where it came from.
type Row struct {
	Question string
	Scores   []float64
	Task     int // index into Set.Tasks
	Cluster  int // released cluster id
	Credit   bool
	// Costs are each LLM's cost of answering (nil when the data has none).
	Costs []float64
}

// Set is the training data of one run: the rows used for fitting and the
// held-out validation rows (empty unless val_fraction > 0).
type Set struct {
	LLMs []string
	// Tasks are the collection's tasks with training files, in order; a
	// Row's Task indexes them.
	Tasks []data.TaskData
	Train []Row
	Val   []Row
}

// Prepare takes the training files of the collection's tasks that have
// some (for the released split, the files with cluster ids), carves a
// validation split of valFraction of each task (seeded), and truncates or
// replicates each task's remaining rows to samplesPerTask, as the official
// code does (MMLU/CMMLU cut from 2000, HumanEval's 115 repeated).
// samplesPerTask <= 0 keeps every remaining row of each task as it is (no
// cut, no repetition).
func Prepare(col *data.Collection, samplesPerTask int, valFraction float64, seed int64) (*Set, error) {
	s := &Set{LLMs: col.LLMs}
	for _, t := range col.Tasks {
		if len(t.Train) > 0 {
			s.Tasks = append(s.Tasks, t)
		}
	}
	if len(s.Tasks) == 0 {
		return nil, fmt.Errorf("dataset %s: no task has training files", col.Name)
	}
	for ti, t := range s.Tasks {
		var rows []Row
		for _, ds := range t.Train {
			for _, q := range ds.Queries {
				rows = append(rows, Row{Question: q.Question, Scores: q.Scores, Costs: q.Costs, Task: ti,
					Cluster: q.ClusterID, Credit: t.Metric == data.Probability})
			}
		}
		fit := rows
		if valFraction > 0 {
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(ti)+1))
			perm := rng.Perm(len(rows))
			nVal := int(float64(len(rows)) * valFraction)
			if nVal < 1 || nVal >= len(rows) {
				return nil, fmt.Errorf("%s: val_fraction %.2f leaves no validation or no training rows of its %d",
					t.Name, valFraction, len(rows))
			}
			fit = nil
			for k, i := range perm {
				if k < nVal {
					s.Val = append(s.Val, rows[i])
				} else {
					fit = append(fit, rows[i])
				}
			}
		}
		if len(fit) == 0 {
			return nil, fmt.Errorf("%s: no training rows", t.Name)
		}
		s.Train = append(s.Train, resize(fit, samplesPerTask)...)
	}
	return s, nil
}

// resize truncates rows to n, or repeats them in order until there are n;
// n <= 0 returns rows unchanged.
func resize(rows []Row, n int) []Row {
	if n <= 0 {
		return rows
	}
	out := make([]Row, 0, n)
	for len(out) < n {
		out = append(out, rows[:min(len(rows), n-len(out))]...)
	}
	return out
}

// Questions returns the question texts of rows.
func Questions(rows []Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Question
	}
	return out
}
