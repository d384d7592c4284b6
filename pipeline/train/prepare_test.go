package train

import (
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
	"github.com/routerdc-go/routerdc/pipeline/router"
)

func TestPreparePaperSampling(t *testing.T) {
	col := datatest.RequireBuiltin(t)
	s, err := Prepare(col, 1000, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tasks) != 5 || len(s.Train) != 5000 || len(s.Val) != 0 {
		t.Fatalf("%d tasks, %d train rows, %d val rows; want 5, 5000, 0", len(s.Tasks), len(s.Train), len(s.Val))
	}
	if len(s.LLMs) != 7 || s.LLMs[5] != "meta-llama/Meta-Llama-3-8B" {
		t.Errorf("LLM order %v", s.LLMs)
	}
	perTask := map[int][]Row{}
	for _, r := range s.Train {
		perTask[r.Task] = append(perTask[r.Task], r)
		if r.Cluster < 0 {
			t.Fatalf("row without a cluster id: %q", r.Question)
		}
	}
	for ti, task := range s.Tasks {
		rows := perTask[ti]
		if len(rows) != 1000 {
			t.Errorf("%s: %d rows, want 1000", task.Name, len(rows))
		}
		if rows[0].Credit != (task.Metric == data.Probability) {
			t.Errorf("%s: credit flag %v for metric %s", task.Name, rows[0].Credit, task.Metric)
		}
		if task.Name == "HumanEval" && rows[115].Question != rows[0].Question {
			t.Errorf("HumanEval's 115 queries are not repeated in order")
		}
	}
}

func TestPrepareValidationSplit(t *testing.T) {
	col := datatest.RequireBuiltin(t)
	s, err := Prepare(col, 0, 0.2, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Train)+len(s.Val) != 2000+1000+2000+820+115 {
		t.Fatalf("%d + %d rows, want all 5935", len(s.Train), len(s.Val))
	}
	train := map[string]bool{}
	for _, r := range s.Train {
		train[r.Question] = true
	}
	leaked := 0
	for _, r := range s.Val {
		if train[r.Question] {
			leaked++
		}
	}
	// A few questions occur twice in the released training files; nothing
	// else may be shared.
	if leaked > 5 {
		t.Errorf("%d validation questions are also training questions", leaked)
	}
	again, _ := Prepare(col, 0, 0.2, 7)
	if again.Val[0].Question != s.Val[0].Question || len(again.Val) != len(s.Val) {
		t.Error("the same seed gave a different split")
	}
	other, _ := Prepare(col, 0, 0.2, 8)
	if other.Val[0].Question == s.Val[0].Question && other.Val[1].Question == s.Val[1].Question {
		t.Error("another seed gave the same split")
	}
}

func TestPrepareErrors(t *testing.T) {
	col := datatest.RequireBuiltin(t)
	oodOnly := &data.Collection{Name: "ood-only", LLMs: col.LLMs}
	for _, i := range col.OOD() {
		oodOnly.Tasks = append(oodOnly.Tasks, col.Tasks[i])
	}
	if _, err := Prepare(oodOnly, 1000, 0, 1); err == nil {
		t.Error("OOD tasks (no training files) accepted")
	}
	if _, err := Prepare(col, 1000, 0.0001, 1); err == nil {
		t.Error("a validation fraction leaving no validation rows accepted")
	}
}

func TestRestrictLLMs(t *testing.T) {
	col := datatest.RequireBuiltin(t)
	s, err := Prepare(col, 100, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := router.ReadParams(router.NewStore(1))
	p.LLMs = 3
	if err := restrictLLMs(s, p); err != nil {
		t.Fatal(err)
	}
	if len(s.LLMs) != 3 || len(s.Train[0].Scores) != 3 || s.LLMs[2] != data.LLMs[2] {
		t.Errorf("first 3 LLMs: %v, row scores %v", s.LLMs, s.Train[0].Scores)
	}
	p.ExcludeLLM = data.LLMs[5] // not among the first 3
	if err := restrictLLMs(s, p); err == nil {
		t.Error("excluding an LLM the router does not know was accepted")
	}
	p.LLMs, p.ExcludeLLM = 9, ""
	if err := restrictLLMs(s, p); err == nil {
		t.Error("llms=9 with 3 LLMs accepted")
	}
}
