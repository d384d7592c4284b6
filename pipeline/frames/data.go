package frames

import (
	"fmt"
	"path/filepath"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/evaluate"
)

// TestSets loads the 8 test sets of the released split in table order (LLM
// order checked equal).
func TestSets(dataDir string) ([]*data.Dataset, error) {
	col, err := data.Builtin(dataDir)
	if err != nil {
		return nil, err
	}
	var sets []*data.Dataset
	for _, t := range col.Tasks {
		sets = append(sets, t.Test)
	}
	return sets, nil
}

// Tasks is the catalog of the paper's 8 tasks: name, ID/OOD, metric, the
// number of training and test queries, and the files they come from.
func Tasks(dataDir string) (dataframe.DataFrame, error) {
	var name, split, metric, trainFile, testFile []string
	var nTrain, nTest []int
	for _, t := range data.Tasks {
		test, err := data.Load(filepath.Join(dataDir, filepath.FromSlash(t.Test)))
		if err != nil {
			return dataframe.DataFrame{}, err
		}
		n := 0
		if t.Train != "" {
			tr, err := data.Load(filepath.Join(dataDir, filepath.FromSlash(t.Train)))
			if err != nil {
				return dataframe.DataFrame{}, err
			}
			n = len(tr.Queries)
		}
		name, split, metric = append(name, t.Name), append(split, splitName(t.OOD)), append(metric, string(t.Metric))
		trainFile, testFile = append(trainFile, t.Train), append(testFile, t.Test)
		nTrain, nTest = append(nTrain, n), append(nTest, len(test.Queries))
	}
	df := dataframe.New(
		series.New(name, series.String, "task"),
		series.New(split, series.String, "split"),
		series.New(metric, series.String, "metric"),
		series.New(nTrain, series.Int, "n_train"),
		series.New(nTest, series.Int, "n_test"),
		series.New(trainFile, series.String, "train_file"),
		series.New(testFile, series.String, "test_file"),
	)
	return df, df.Err
}

func splitName(ood bool) string {
	if ood {
		return "OOD"
	}
	return "ID"
}

// LLMAccuracy is one row per test set: the task, ID/OOD, the number of
// queries, each candidate LLM's accuracy (paper names, file order), the best
// single LLM and its accuracy (task oracle), the per-query oracle, the
// random router and the oracle gap (oracle - best LLM): how much a perfect
// router could add over always sending the task to its best LLM.
func LLMAccuracy(dataDir string) (dataframe.DataFrame, error) {
	sets, err := TestSets(dataDir)
	if err != nil {
		return dataframe.DataFrame{}, err
	}
	llms := sets[0].LLMs
	var task, split, best []string
	var n []int
	perLLM := make([][]float64, len(llms))
	var bestAcc, oracle, random, gap []float64
	for i, t := range data.Tasks {
		ds := sets[i]
		task = append(task, t.Name)
		split = append(split, splitName(t.OOD))
		n = append(n, len(ds.Queries))
		for j := range llms {
			perLLM[j] = append(perLLM[j], evaluate.LLMAccuracy(ds, t.Metric, j))
		}
		b, acc := evaluate.BestLLMAccuracy(ds, t.Metric)
		o := evaluate.OracleAccuracy(ds, t.Metric)
		best, bestAcc = append(best, data.ShortName(llms[b])), append(bestAcc, acc)
		oracle, random, gap = append(oracle, o), append(random, evaluate.RandomAccuracy(ds, t.Metric)), append(gap, o-acc)
	}
	ss := []series.Series{
		series.New(task, series.String, "task"),
		series.New(split, series.String, "split"),
		series.New(n, series.Int, "n"),
	}
	for j, l := range llms {
		ss = append(ss, series.New(perLLM[j], series.Float, data.ShortName(l)))
	}
	ss = append(ss,
		series.New(best, series.String, "best_llm"),
		series.New(bestAcc, series.Float, "best_llm_acc"),
		series.New(oracle, series.Float, "oracle"),
		series.New(random, series.Float, "random"),
		series.New(gap, series.Float, "oracle_gap"),
	)
	df := dataframe.New(ss...)
	return df, df.Err
}

// ScoreStats is one row per (task, LLM) of a set of files (the training
// files when train is true, else the test files): the mean score and the
// shares of scores that are exactly 0, exactly 1, and in between. The
// released multiple-choice scores are probabilities and the open-ended ones
// multiples of 0.1, which is what the in-between share shows.
func ScoreStats(dataDir string, train bool) (dataframe.DataFrame, error) {
	var task, llm []string
	var mean, zero, one, mid []float64
	for _, t := range data.Tasks {
		file := t.Test
		if train {
			if t.Train == "" {
				continue
			}
			file = t.Train
		}
		ds, err := data.Load(filepath.Join(dataDir, filepath.FromSlash(file)))
		if err != nil {
			return dataframe.DataFrame{}, err
		}
		for j, l := range ds.LLMs {
			var sum, z, o float64
			for _, q := range ds.Queries {
				s := q.Scores[j]
				sum += s
				switch s {
				case 0:
					z++
				case 1:
					o++
				}
			}
			nq := float64(len(ds.Queries))
			task, llm = append(task, t.Name), append(llm, data.ShortName(l))
			mean, zero, one = append(mean, sum/nq), append(zero, z/nq), append(one, o/nq)
			mid = append(mid, 1-(z+o)/nq)
		}
	}
	df := dataframe.New(
		series.New(task, series.String, "task"),
		series.New(llm, series.String, "llm"),
		series.New(mean, series.Float, "mean_score"),
		series.New(zero, series.Float, "share_0"),
		series.New(one, series.Float, "share_1"),
		series.New(mid, series.Float, "share_between"),
	)
	return df, df.Err
}

// Results is one row per test set of a router's evaluation (evaluate.Tasks):
// task, ID/OOD, number of queries, accuracy, then the ID and OOD averages as
// two extra rows, as in the paper's Avg column.
func Results(res []*evaluate.TaskResult) dataframe.DataFrame {
	var task, split []string
	var n []int
	var acc, id, ood []float64
	for _, r := range res {
		task, split, n, acc = append(task, r.Task), append(split, splitName(r.OOD)), append(n, r.N), append(acc, r.Accuracy)
		if r.OOD {
			ood = append(ood, r.Accuracy)
		} else {
			id = append(id, r.Accuracy)
		}
	}
	for _, avg := range []struct {
		name string
		v    []float64
	}{{"ID Avg", id}, {"OOD Avg", ood}} {
		if len(avg.v) > 0 {
			task, split, n, acc = append(task, avg.name), append(split, ""), append(n, 0), append(acc, evaluate.Mean(avg.v))
		}
	}
	return dataframe.New(
		series.New(task, series.String, "task"),
		series.New(split, series.String, "split"),
		series.New(n, series.Int, "n"),
		series.New(acc, series.Float, "accuracy"),
	)
}

// Crosstab counts pairs: one row per distinct row label (first-seen order),
// one column per distinct column id (ascending), e.g. tasks against groups.
func Crosstab(rowName string, rows []string, colPrefix string, cols []int) (dataframe.DataFrame, error) {
	if len(rows) != len(cols) {
		return dataframe.DataFrame{}, fmt.Errorf("crosstab: %d row labels for %d column ids", len(rows), len(cols))
	}
	var order []string
	index := map[string]int{}
	maxCol := -1
	for i, r := range rows {
		if _, ok := index[r]; !ok {
			index[r] = len(order)
			order = append(order, r)
		}
		maxCol = max(maxCol, cols[i])
	}
	counts := make([][]int, maxCol+1)
	for c := range counts {
		counts[c] = make([]int, len(order))
	}
	for i, r := range rows {
		if cols[i] < 0 {
			return dataframe.DataFrame{}, fmt.Errorf("crosstab: negative id %d at %d", cols[i], i)
		}
		counts[cols[i]][index[r]]++
	}
	ss := []series.Series{series.New(order, series.String, rowName)}
	for c, v := range counts {
		ss = append(ss, series.New(v, series.Int, fmt.Sprintf("%s%d", colPrefix, c)))
	}
	df := dataframe.New(ss...)
	return df, df.Err
}

// Probabilities is one row per LLM (paper names) and one column per query
// label: a router's probability of each LLM for each query.
func Probabilities(llms, labels []string, probs [][]float64) (dataframe.DataFrame, error) {
	if len(labels) != len(probs) {
		return dataframe.DataFrame{}, fmt.Errorf("probabilities: %d labels for %d queries", len(labels), len(probs))
	}
	names := make([]string, len(llms))
	for i, l := range llms {
		names[i] = data.ShortName(l)
	}
	ss := []series.Series{series.New(names, series.String, "llm")}
	for i, p := range probs {
		if len(p) != len(llms) {
			return dataframe.DataFrame{}, fmt.Errorf("probabilities: query %q has %d values for %d LLMs", labels[i], len(p), len(llms))
		}
		ss = append(ss, series.New(p, series.Float, labels[i]))
	}
	df := dataframe.New(ss...)
	return df, df.Err
}
