package train

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/evaluate"
	"github.com/routerdc-go/routerdc/pipeline/router"
)

// TestExperiment is a scratch harness: EXP holds '|'-separated configs (each
// a ';'-separated list of key=value settings), SEEDS a comma-separated list
// of seeds (default 1). It prints one line per run and a mean/std line per
// config when several seeds are given.
func TestExperiment(t *testing.T) {
	sets := os.Getenv("EXP")
	if sets == "" {
		t.Skip()
	}
	seeds := []int64{1}
	if s := os.Getenv("SEEDS"); s != "" {
		seeds = nil
		for _, f := range strings.Split(s, ",") {
			v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			seeds = append(seeds, v)
		}
	}
	dir := data.Dir("")
	for _, s := range strings.Split(sets, "|") {
		var ids, oods, vals, fits []float64
		perTask := map[string][]float64{}
		var taskOrder []string
		for _, seed := range seeds {
			store := router.NewStore(seed)
			if err := router.ApplySettings(store, []string{s}); err != nil {
				t.Fatal(err)
			}
			r, err := Run(dir, store, nil)
			if err != nil {
				t.Fatal(err)
			}
			ts, err := evaluate.TestSets(dir, data.Tasks, r.Meta.LLMs)
			if err != nil {
				t.Fatal(err)
			}
			res, err := evaluate.Tasks(r, data.Tasks, ts)
			if err != nil {
				t.Fatal(err)
			}
			id, ood := evaluate.Averages(res)
			line := fmt.Sprintf("%-60s s%d ID %.2f OOD %.2f |", s, seed, id, ood)
			for _, x := range res {
				line += fmt.Sprintf(" %s %.1f", x.Task, x.Accuracy)
				if _, ok := perTask[x.Task]; !ok {
					taskOrder = append(taskOrder, x.Task)
				}
				perTask[x.Task] = append(perTask[x.Task], x.Accuracy)
			}
			rep := r.Meta.Training.(*Report)
			bs, ba := 0, 0.0
			if rep.Train != nil {
				bs, ba = rep.Train.BestStep, rep.Train.BestAcc
			}
			line += fmt.Sprintf(" | VAL %.2f | best step %d sel %.2f  fit %.1fs enc %.1fs total %.1fs", rep.ValAcc, bs, ba, rep.Timing.FitS, rep.Timing.EncodeS, rep.Timing.TotalS)
			fmt.Println(line)
			ids, oods, vals, fits = append(ids, id), append(oods, ood), append(vals, rep.ValAcc), append(fits, rep.Timing.TotalS)
		}
		if len(seeds) > 1 {
			line := fmt.Sprintf("MEAN %-55s n=%d VAL %.2f±%.2f ID %.2f±%.2f OOD %.2f±%.2f |", s, len(seeds),
				mean(vals), std(vals), mean(ids), std(ids), mean(oods), std(oods))
			for _, task := range taskOrder {
				line += fmt.Sprintf(" %s %.1f", task, mean(perTask[task]))
			}
			line += fmt.Sprintf(" | total %.1fs", mean(fits))
			fmt.Println(line)
		}
	}
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func std(x []float64) float64 {
	m := mean(x)
	var s float64
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	if len(x) < 2 {
		return 0
	}
	return math.Sqrt(s / float64(len(x)-1))
}
