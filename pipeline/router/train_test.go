package router

import (
	"math"
	"math/rand/v2"
	"os"
	"strings"
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

// TestTrainDeterministic: the same seed gives bit-identical weights, a
// different seed different ones.
func TestTrainDeterministic(t *testing.T) {
	b := backend.MustNew()
	ex := synthetic(256, 32, 7, 2)
	run := func(seed int64) [][]float32 {
		store := NewStore(seed)
		if err := ApplySettings(store, []string{"steps=30;eval_every=10;dim=16"}); err != nil {
			t.Fatal(err)
		}
		if _, err := Train(b, store, ex, ex, nil); err != nil {
			t.Fatal(err)
		}
		logits, err := Predict(b, store, ex.X[:20], 7)
		if err != nil {
			t.Fatal(err)
		}
		return logits
	}
	a, a2, c := run(7), run(7), run(8)
	same := func(x, y [][]float32) bool {
		for i := range x {
			for j := range x[i] {
				if x[i][j] != y[i][j] {
					return false
				}
			}
		}
		return true
	}
	if !same(a, a2) {
		t.Error("two runs with seed 7 differ")
	}
	if same(a, c) {
		t.Error("seeds 7 and 8 gave identical logits")
	}
}

func TestApplySettingsErrors(t *testing.T) {
	for _, s := range []string{"nope=1", "lambda=abc", "router=gpt", "k_pos=0", "select=val", "target=raw", "steps"} {
		if err := ApplySettings(NewStore(1), []string{s}); err == nil {
			t.Errorf("--set %q accepted", s)
		}
	}
	store := NewStore(1)
	if err := ApplySettings(store, []string{"lambda=0.5;k_pos=1", "router=zooter"}); err != nil {
		t.Fatal(err)
	}
	if p := ReadParams(store); p.Lambda != 0.5 || p.KPos != 1 || p.Router != KindZooter {
		t.Errorf("settings not applied: %+v", p)
	}
}

// TestTrainResume: a run stopped after a checkpoint and resumed from its
// state directory ends with the same weights as an uninterrupted run.
func TestTrainResume(t *testing.T) {
	b := backend.MustNew()
	ex := synthetic(256, 32, 7, 3)
	settings := []string{"steps=60;eval_every=20;dim=16"}
	run := func(rs Resume) (*TrainResult, [][]float32, error) {
		store := NewStore(5)
		if err := ApplySettings(store, settings); err != nil {
			t.Fatal(err)
		}
		res, err := TrainWith(b, store, ex, ex, nil, rs)
		if err != nil {
			return res, nil, err
		}
		logits, err := Predict(b, store, ex.X[:30], 7)
		if err != nil {
			t.Fatal(err)
		}
		return res, logits, nil
	}
	full, want, err := run(Resume{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, _, err := run(Resume{Dir: dir, StopAfter: 40}); err != ErrStopped {
		t.Fatalf("stopped run: %v", err)
	}
	resumed, got, err := run(Resume{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if resumed.BestStep != full.BestStep || len(resumed.Curve) != len(full.Curve) {
		t.Errorf("resumed: best step %d, %d curve points; uninterrupted: %d, %d", resumed.BestStep, len(resumed.Curve), full.BestStep, len(full.Curve))
	}
	// The curve after the stop checks the continued training itself (the
	// final weights alone could come from a best checkpoint before it).
	for i := range full.Curve {
		if i < len(resumed.Curve) && full.Curve[i] != resumed.Curve[i] {
			t.Errorf("curve point %d: resumed %+v, uninterrupted %+v", i, resumed.Curve[i], full.Curve[i])
		}
	}
	for i := range want {
		for j := range want[i] {
			if want[i][j] != got[i][j] {
				t.Fatalf("logit [%d][%d]: resumed %v, uninterrupted %v", i, j, got[i][j], want[i][j])
			}
		}
	}
}

// TestTargetScoresWithCosts: cost_rate turns the (credit) target into
// target - cost_rate * cost, and refuses data without costs.
func TestTargetScoresWithCosts(t *testing.T) {
	ex := &Examples{Scores: [][]float64{{0.4, 0}, {0.5, 0.9}}, Credit: []bool{true, false}}
	p := ReadParams(NewStore(1))
	p.Target, p.CostRate = "credit", 100
	if _, err := TargetScores(p, ex); err == nil || !strings.Contains(err.Error(), "cost_rate") {
		t.Fatalf("cost_rate without costs: %v", err)
	}
	ex.Costs = [][]float64{{0.001, 0.002}, {0.004, 0}}
	got, err := TargetScores(p, ex)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{1 - 0.1, 0 - 0.2}, {0.5 - 0.4, 0.9}}
	for i := range want {
		for j := range want[i] {
			if math.Abs(got[i][j]-want[i][j]) > 1e-12 {
				t.Errorf("target[%d][%d] = %v, want %v", i, j, got[i][j], want[i][j])
			}
		}
	}
	if ex.Scores[0][0] != 0.4 {
		t.Error("TargetScores changed the examples' scores")
	}
}
