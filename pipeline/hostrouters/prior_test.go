package hostrouters

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Shrinkage by hand: two tasks on orthogonal axes, K=2 neighbours, Alpha=1.
func TestTaskPriorShrinkExact(t *testing.T) {
	x := [][]float32{{1, 0, 0}, {1, 1, 0}, {1, 0, 1}, {0, 5, 0}}
	y := [][]float64{{1, 0}, {0, 1}, {1, 1}, {0, 1}}
	task := []int{0, 0, 0, 3}
	r := &TaskPrior{K: 2, Alpha: 1}
	if err := r.Fit(x, y, task); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Tasks(), []int{0, 3}) {
		t.Fatalf("tasks %v", r.Tasks())
	}
	// Query on axis 0: task 0 (hard). Its neighbours in task 0 are row 0
	// (cos 1) and rows 1, 2 (cos 1/sqrt2, tie -> row 1 first).
	got := r.Scores([][]float32{{2, 0, 0}})[0]
	c := 1 / math.Sqrt2
	prior := []float64{2.0 / 3, 2.0 / 3}
	for l := range 2 {
		want := (1*y[0][l] + c*y[1][l] + 1*prior[l]) / (1 + c + 1)
		if math.Abs(got[l]-want) > 1e-6 {
			t.Errorf("llm %d: %v, want %v", l, got[l], want)
		}
	}
	// K < 0: the task prior alone (task 3 has one row).
	r2 := &TaskPrior{K: -1}
	if err := r2.Fit(x, y, task); err != nil {
		t.Fatal(err)
	}
	if got := r2.Scores([][]float32{{0, 1, 0}})[0]; !reflect.DeepEqual(got, []float64{0, 1}) {
		t.Errorf("prior-only scores %v", got)
	}
	// Soft posterior: a softmax over centroid cosines that sums to 1.
	r3 := &TaskPrior{K: -1, TaskTemp: 0.1}
	if err := r3.Fit(x, y, task); err != nil {
		t.Fatal(err)
	}
	pi := r3.Posterior([][]float32{{1, 1, 0}})[0]
	if s := pi[0] + pi[1]; math.Abs(s-1) > 1e-12 || pi[0] <= 0 || pi[1] <= 0 {
		t.Errorf("posterior %v", pi)
	}
	if hard := r.Posterior([][]float32{{1, 1, 0}})[0]; !reflect.DeepEqual(hard, []float64{1, 0}) && !reflect.DeepEqual(hard, []float64{0, 1}) {
		t.Errorf("hard posterior %v", hard)
	}
}

// On synthetic data with a within-task signal (dimension dim-1 decides
// whether LLM nLLM-1 is best), the task prior alone gets about half of the
// rows right, while the logistic and kNN modes learn the signal.
func TestTaskPriorSynthetic(t *testing.T) {
	train := makeSynth(4, 200, 12, 5, 1, true)
	test := makeSynth(4, 100, 12, 5, 2, true)
	cases := []struct {
		r        *TaskPrior
		min, max float64
	}{
		{&TaskPrior{K: -1}, 0.35, 0.65},
		{&TaskPrior{Lambda: 1e-3, Iters: 300}, 0.95, 1},
		{&TaskPrior{K: 20, Alpha: 1}, 0.95, 1},
		{&TaskPrior{K: 20, Alpha: 1, Global: true}, 0.95, 1},
		{&TaskPrior{Lambda: 1e-3, TaskTemp: 0.05}, 0.95, 1},
	}
	for _, c := range cases {
		if err := c.r.Fit(train.x, train.scores, train.task); err != nil {
			t.Fatal(err)
		}
		if a := accuracy(t, c.r, test); a < c.min || a > c.max {
			t.Errorf("%s: accuracy %.3f outside [%.2f, %.2f]", c.r.Name(), a, c.min, c.max)
		}
	}
	// Without the within-task signal every mode routes by task.
	plain := makeSynth(4, 200, 12, 5, 3, false)
	plainTest := makeSynth(4, 50, 12, 5, 4, false)
	for _, r := range []*TaskPrior{{K: -1}, {Lambda: 0.01}, {K: 20}} {
		if err := r.Fit(plain.x, plain.scores, plain.task); err != nil {
			t.Fatal(err)
		}
		if a := accuracy(t, r, plainTest); a < 0.99 {
			t.Errorf("%s without sub-signal: accuracy %.3f", r.Name(), a)
		}
	}
}

func TestFitLogistic(t *testing.T) {
	// One feature decides the label; a huge lambda leaves only the bias,
	// the logit of the mean label.
	var x [][]float32
	var y [][]float64
	for i := range 100 {
		if i%2 == 0 {
			x = append(x, []float32{1, 0})
			y = append(y, []float64{1, 0.25})
		} else {
			x = append(x, []float32{0, 1})
			y = append(y, []float64{0, 0.25})
		}
	}
	w, b := fitLogistic(toSparse(x), y, 2, 1e-4, 500)
	if p0, p1 := sigmoid(b[0]+w[0]), sigmoid(b[0]+w[1]); p0 < 0.9 || p1 > 0.1 {
		t.Errorf("separable column: p = %.3f, %.3f", p0, p1)
	}
	if p := sigmoid(b[1] + w[2]); math.Abs(p-0.25) > 0.01 {
		t.Errorf("constant soft label 0.25 predicted as %.3f", p)
	}
	_, b = fitLogistic(toSparse(x), y, 2, 1e6, 50)
	if math.Abs(b[0]) > 1e-9 || math.Abs(b[1]-math.Log(0.25/0.75)) > 1e-9 {
		t.Errorf("bias under a huge lambda: %v", b)
	}
}

func TestTaskPriorSaveLoad(t *testing.T) {
	train := makeSynth(3, 40, 8, 4, 5, true)
	test := makeSynth(3, 10, 8, 4, 6, true)
	dir := t.TempDir()
	for i, r := range []*TaskPrior{{K: 5, Alpha: 2, Power: 2}, {Lambda: 0.01, Iters: 20, TaskTemp: 0.1}, {K: 3, Global: true, TaskTemp: 0.2}} {
		path := filepath.Join(dir, "p.json")
		if err := r.Save(path); err == nil {
			t.Error("saving an unfitted router succeeded")
		}
		if err := r.Fit(train.x, train.scores, train.task); err != nil {
			t.Fatal(err)
		}
		if err := r.Save(path); err != nil {
			t.Fatal(err)
		}
		typed, err := LoadTaskPrior(path)
		if err != nil {
			t.Fatal(err)
		}
		generic, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		want := r.Scores(test.x)
		for _, g := range []Router{typed, generic} {
			if g.Kind() != kindPrior || g.Name() != r.Name() {
				t.Errorf("%d: loaded %s/%s, saved %s", i, g.Kind(), g.Name(), r.Name())
			}
			if got := g.Scores(test.x); !reflect.DeepEqual(got, want) {
				t.Errorf("%d: scores differ after load", i)
			}
		}
		if _, err := LoadKNN(path); err == nil {
			t.Error("LoadKNN read a task_prior file")
		}
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"format":"routerdc-baseline","version":1,"kind":"task_prior","lambda":0.1,"dim":2,"tasks":[0],"centroids":[[1,0]],"priors":[[1]],"lr_w":[[1]],"lr_b":[0]}`), 0o644)
	if _, err := Load(bad); err == nil {
		t.Error("task_prior file with a short weight row accepted")
	}
	mustPanic := func(name string, f func()) {
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", name)
			}
		}()
		f()
	}
	mustPanic("unfitted task_prior", func() { (&TaskPrior{}).Scores(test.x) })
	if err := (&TaskPrior{}).Fit(train.x, train.scores, nil); err == nil {
		t.Error("Fit without task ids succeeded")
	}
}
