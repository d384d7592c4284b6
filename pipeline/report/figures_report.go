package report

import (
	"fmt"
	"path/filepath"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/figures"
	"github.com/routerdc-go/routerdc/pipeline/stages"
	"github.com/routerdc-go/routerdc/pipeline/train"
)

// SmallGap is the top-2 score gap under which the paper's analysis calls a
// query's best two LLMs close (64% of queries in the paper; 0.1 matches it
// on the released training data).
const SmallGap = 0.1

// writeFigures draws the report stage's figures into dir, their names
// prefixed with prefix: with the paper's tables, ours beside the paper per
// task; the score analysis (from the training data) and, for the baseline
// router's first seed, the routing heatmap and the training curves.
func writeFigures(dir, prefix string, col *data.Collection, baseline string, first *stages.Outcome, tables []*Table, seeds []int64) ([]string, error) {
	var written []string
	if len(tables) > 0 && len(tables[0].Paper.Rows) > 0 {
		p := filepath.Join(dir, prefix+PaperFigure)
		if err := writePaperFigure(p, tables, seeds); err != nil {
			return nil, err
		}
		written = append(written, p)
	}
	var trainSets []*data.Dataset
	var taskOf []string // the task of each training set
	for _, t := range col.Tasks {
		for _, ds := range t.Train {
			trainSets = append(trainSets, ds)
			taskOf = append(taskOf, t.Name)
		}
	}
	p := filepath.Join(dir, prefix+"score-gap.png")
	if _, err := figures.ScoreGap(p, figures.TopTwoGaps(trainSets), SmallGap); err != nil {
		return nil, err
	}
	written = append(written, p)
	if set, q := exampleQuery(trainSets); q >= 0 {
		p = filepath.Join(dir, prefix+"score-normalization.png")
		if err := figures.ScoreNormalization(p, trainSets[set].LLMs, trainSets[set].Queries[q].Scores,
			fmt.Sprintf("Scores of one %s training query, raw and softmax-normalised", taskOf[set])); err != nil {
			return nil, err
		}
		written = append(written, p)
	}
	if first == nil {
		return written, nil
	}
	llms := col.LLMs
	var names []string
	share := make([][]float64, len(first.Tasks))
	for i, t := range first.Tasks {
		names = append(names, t.Task)
		share[i] = make([]float64, len(llms))
		for _, pick := range t.Picks {
			share[i][pick] += 1 / float64(len(t.Picks))
		}
	}
	p = filepath.Join(dir, prefix+"routing-heatmap.png")
	if err := figures.RoutingHeatmap(p, names, llms, share,
		fmt.Sprintf("%s (seed %d): share of each task's test queries routed to each LLM", baseline, first.Seed)); err != nil {
		return nil, err
	}
	written = append(written, p)
	if tr := first.Training; tr != nil && tr.Train != nil && len(tr.Train.Curve) > 0 {
		p = filepath.Join(dir, prefix+"training-curves.png")
		if err := TrainingCurves(p, tr); err != nil {
			return nil, err
		}
		written = append(written, p)
	}
	return written, nil
}

// exampleQuery is the training query (set, query index) that
// figures.ExampleQuery picks among all the training sets' queries, in data
// order; q is -1 when no query has a non-zero score.
func exampleQuery(sets []*data.Dataset) (set, q int) {
	var scores [][]float64
	var where [][2]int
	for i, ds := range sets {
		for j, query := range ds.Queries {
			scores = append(scores, query.Scores)
			where = append(where, [2]int{i, j})
		}
	}
	k := figures.ExampleQuery(scores)
	if k < 0 {
		return 0, -1
	}
	return where[k][0], where[k][1]
}

// TrainingCurves draws a training report's curve: the loss, the accuracy
// the checkpoint is chosen by, and, when the run monitored them, the ID
// test sets (never used for the choice).
func TrainingCurves(path string, tr *train.Report) error {
	if tr == nil || tr.Train == nil || len(tr.Train.Curve) == 0 {
		return fmt.Errorf("%s: the training report has no curve (host routers have none)", path)
	}
	loss := figures.Curve{Name: "training loss (moving average)", Axis: "loss"}
	acc := figures.Curve{Name: "training-set routing accuracy", Axis: "accuracy"}
	test := figures.Curve{Name: "ID test routing accuracy (not used for selection)", Axis: "accuracy"}
	for _, c := range tr.Train.Curve {
		loss.Steps, loss.Values = append(loss.Steps, c.Step), append(loss.Values, c.Loss)
		acc.Steps, acc.Values = append(acc.Steps, c.Step), append(acc.Values, c.SelectAcc)
		test.Steps, test.Values = append(test.Steps, c.Step), append(test.Values, c.MonitorAcc)
	}
	curves := []figures.Curve{loss, acc}
	if test.Values[0] != 0 {
		curves = append(curves, test)
	}
	return figures.TrainingCurves(path, curves)
}
