package router

import (
	"math/rand/v2"
	"os"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/backend"
)

// synthetic: 4 tasks, each with a best LLM; features carry the task.
func synthetic(n, D, T int, seed uint64) *Examples {
	rng := rand.New(rand.NewPCG(seed, 1))
	ex := &Examples{}
	for i := 0; i < n; i++ {
		task := i % 4
		x := make([]float32, D)
		for j := range x {
			x[j] = float32(rng.NormFloat64() * 0.1)
		}
		x[task] += 1
		s := make([]float64, T)
		for t := range s {
			s[t] = rng.Float64() * 0.3
		}
		s[task%T] = 0.9
		ex.X = append(ex.X, x)
		ex.Scores = append(ex.Scores, s)
		ex.Credit = append(ex.Credit, false)
		ex.Task = append(ex.Task, task)
		ex.Group = append(ex.Group, task)
	}
	return ex
}

func TestTrainLearnsSynthetic(t *testing.T) {
	b := backend.MustNew()
	store := NewStore(1)
	if err := ApplySettings(store, []string{"steps=100;eval_every=20;dim=32"}); err != nil {
		t.Fatal(err)
	}
	ex := synthetic(512, 64, 7, 1)
	res, err := Train(b, store, ex, ex, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.BestAcc < 85 {
		t.Fatalf("best selection accuracy %.1f, want >= 85 on a separable problem", res.BestAcc)
	}
}
