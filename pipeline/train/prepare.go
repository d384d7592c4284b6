// Package train assembles the paper's training set, fits the encoder and
// trains any router kind into a router directory.
package train

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"

	"github.com/routerdc-go/routerdc/pipeline/data"
)

// Row is one training query with where it came from.
type Row struct {
	Question string
	Scores   []float64
	Task     int // index into Set.Tasks
	Cluster  int // released cluster id
	Credit   bool
}

// Set is the training data of one run: the rows used for fitting and the
// held-out validation rows (empty unless val_fraction > 0).
type Set struct {
	LLMs  []string
	Tasks []data.Task
	Train []Row
	Val   []Row
}

// Prepare loads the training files of the in-distribution tasks (the
// released files with cluster ids), carves a validation split of
// valFraction of each file (seeded), and truncates or replicates each
// task's remaining rows to samplesPerTask, as the official code does
// (MMLU/CMMLU cut from 2000, HumanEval's 115 repeated). samplesPerTask <= 0
// keeps every remaining row of each task as it is (no cut, no repetition).
func Prepare(dir string, tasks []data.Task, samplesPerTask int, valFraction float64, seed int64) (*Set, error) {
	var paths []string
	var used []data.Task
	for _, t := range tasks {
		if t.ClusterTrain == "" {
			continue
		}
		used = append(used, t)
		paths = append(paths, filepath.Join(dir, filepath.FromSlash(t.ClusterTrain)))
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no training task among %d given", len(tasks))
	}
	sets, err := data.LoadConsistent(paths...)
	if err != nil {
		return nil, err
	}
	s := &Set{LLMs: sets[0].LLMs, Tasks: used}
	for ti, ds := range sets {
		rows := make([]Row, len(ds.Queries))
		for i, q := range ds.Queries {
			rows[i] = Row{Question: q.Question, Scores: q.Scores, Task: ti, Cluster: q.ClusterID,
				Credit: used[ti].Metric == data.Probability}
		}
		fit := rows
		if valFraction > 0 {
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(ti)+1))
			perm := rng.Perm(len(rows))
			nVal := int(float64(len(rows)) * valFraction)
			if nVal < 1 || nVal >= len(rows) {
				return nil, fmt.Errorf("%s: val_fraction %.2f leaves no validation or no training rows", ds.Path, valFraction)
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
