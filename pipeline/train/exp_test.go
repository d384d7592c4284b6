package train

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/evaluate"
	"github.com/routerdc-go/routerdc/pipeline/router"
)

func TestExperiment(t *testing.T) {
	sets := os.Getenv("EXP")
	if sets == "" {
		t.Skip()
	}
	dir := data.Dir("")
	for _, s := range strings.Split(sets, "|") {
		store := router.NewStore(1)
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
		line := fmt.Sprintf("%-60s ID %.2f OOD %.2f |", s, id, ood)
		for _, x := range res {
			line += fmt.Sprintf(" %s %.1f", x.Task, x.Accuracy)
		}
		rep := r.Meta.Training.(*Report)
		line += fmt.Sprintf(" | VAL %.2f | best step %d sel %.2f  fit %.1fs enc %.1fs", rep.ValAcc, rep.Train.BestStep, rep.Train.BestAcc, rep.Timing.FitS, rep.Timing.EncodeS)
		fmt.Println(line)
	}
}
