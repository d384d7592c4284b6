package hostrouters

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// rng is a tiny deterministic generator for the synthetic data.
type rng uint64

func (s *rng) float() float64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return float64((z^(z>>31))>>11) / (1 << 53)
}

func (s *rng) normal() float64 {
	return s.float() + s.float() + s.float() + s.float() - 2 // sd ~0.58
}

// synth makes nTask tasks in dim dimensions: task k's queries sit around
// basis direction k; in task k LLM best[k] scores 1, the others 0.2, except
// that queries in the positive half of dimension dim-1 prefer LLM nLLM-1
// (a within-task signal only a query-level router can use).
type synth struct {
	x      [][]float32
	scores [][]float64
	task   []int
	best   []int // the true best LLM of each row
}

func makeSynth(nTask, perTask, dim, nLLM int, seed uint64, withSub bool) synth {
	r := rng(seed)
	bestOfTask := func(k int) int { return (k*2 + 1) % (nLLM - 1) }
	var s synth
	for i := 0; i < nTask*perTask; i++ {
		k := i % nTask // interleaved
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(0.15 * r.normal())
		}
		v[k] += 1
		sub := withSub && r.float() < 0.5
		if withSub {
			if sub {
				v[dim-1] += 0.8
			} else {
				v[dim-1] -= 0.8
			}
		}
		sc := make([]float64, nLLM)
		for l := range sc {
			sc[l] = 0.2
		}
		b := bestOfTask(k)
		if sub {
			b = nLLM - 1
		}
		sc[b] = 1
		s.x = append(s.x, v)
		s.scores = append(s.scores, sc)
		s.task = append(s.task, k)
		s.best = append(s.best, b)
	}
	return s
}

func accuracy(t *testing.T, r Router, s synth) float64 {
	t.Helper()
	route := Route(r.Scores(s.x))
	ok := 0
	for i, l := range route {
		if l == s.best[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(route))
}

func TestRoute(t *testing.T) {
	got := Route([][]float64{{0, 1, 1}, {3, 2, 1}, {-1, -1, -0.5}})
	if !reflect.DeepEqual(got, []int{1, 0, 2}) {
		t.Errorf("Route = %v", got)
	}
}

func TestDotKernels(t *testing.T) {
	r := rng(9)
	for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 37, 64, 100} {
		vs := make([][]float32, 5)
		for i := range vs {
			vs[i] = make([]float32, n)
			for j := range vs[i] {
				vs[i][j] = float32(r.normal())
			}
		}
		naive := func(a, b []float32) float64 {
			var s float64
			for i := range a {
				s += float64(a[i]) * float64(b[i])
			}
			return s
		}
		s := [4]float32{}
		s[0], s[1], s[2], s[3] = dot4(vs[0], vs[1], vs[2], vs[3], vs[4])
		for q := 0; q < 4; q++ {
			if want := naive(vs[0], vs[q+1]); math.Abs(float64(s[q])-want) > 1e-4*(1+math.Abs(want)) {
				t.Errorf("n=%d dot4[%d] = %v, want %v", n, q, s[q], want)
			}
		}
		if got, want := dot1(vs[0], vs[1]), naive(vs[0], vs[1]); math.Abs(float64(got)-want) > 1e-4*(1+math.Abs(want)) {
			t.Errorf("n=%d dot1 = %v, want %v", n, got, want)
		}
	}
}

func TestTopK(t *testing.T) {
	idx, val := topK([]float32{0.1, 0.5, 0.5, 0.9, -1, 0.5}, 3, nil, nil)
	if !reflect.DeepEqual(idx, []int{3, 1, 2}) || !reflect.DeepEqual(val, []float32{0.9, 0.5, 0.5}) {
		t.Errorf("topK = %v %v", idx, val)
	}
	idx, _ = topK([]float32{0.2, 0.1}, 5, nil, nil)
	if !reflect.DeepEqual(idx, []int{0, 1}) {
		t.Errorf("topK with k > n = %v", idx)
	}
}

func TestKNNExact(t *testing.T) {
	x := [][]float32{{1, 0, 0}, {0, 2, 0}, {0, 0, 3}, {1, 1, 0}}
	scores := [][]float64{{1, 0}, {0, 1}, {0.5, 0.5}, {0.2, 0.8}}
	k1 := NewKNN(1)
	if err := k1.Fit(x, scores, nil); err != nil {
		t.Fatal(err)
	}
	// A training row (any scale) finds itself.
	got := k1.Scores([][]float32{{5, 0, 0}, {0, 0, 0.1}})
	if !reflect.DeepEqual(got, [][]float64{{1, 0}, {0.5, 0.5}}) {
		t.Errorf("k=1 scores %v", got)
	}
	// k=2 for query (1,0,0): neighbours row 0 (cos 1) and row 3 (cos 1/sqrt2).
	k2 := NewKNN(2)
	k2.Fit(x, scores, nil)
	w0, w3 := 1.0, float64(float32(1/math.Sqrt2))
	want0 := (w0*1 + w3*0.2) / (w0 + w3)
	got = k2.Scores([][]float32{{1, 0, 0}})
	if math.Abs(got[0][0]-want0) > 1e-6 || math.Abs(got[0][0]+got[0][1]-1) > 1e-9 {
		t.Errorf("k=2 scores %v, want [%v %v]", got[0], want0, 1-want0)
	}
	// No positive similarity: plain mean of the k nearest.
	got = NewKNNFitted(t, 4, x, scores).Scores([][]float32{{-1, -1, -1}})
	if math.Abs(got[0][0]-0.425) > 1e-9 {
		t.Errorf("all-negative similarities: %v, want plain mean 0.425", got[0])
	}
}

func NewKNNFitted(t *testing.T, k int, x [][]float32, s [][]float64) *KNN {
	t.Helper()
	r := NewKNN(k)
	if err := r.Fit(x, s, nil); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestKNNRoutesSynthetic(t *testing.T) {
	train := makeSynth(4, 150, 24, 5, 1, true)
	test := makeSynth(4, 53, 24, 5, 2, true) // 212 queries: blocks and remainders
	r := NewKNN(0)
	if r.Name() != "knn-k20" {
		t.Errorf("Name %q", r.Name())
	}
	if err := r.Fit(train.x, train.scores, nil); err != nil {
		t.Fatal(err)
	}
	if acc := accuracy(t, r, test); acc < 0.95 {
		t.Errorf("knn accuracy %.3f < 0.95", acc)
	}
	// Batch results equal one-at-a-time results.
	all := r.Scores(test.x)
	for i := 0; i < len(test.x); i += 17 {
		one := r.Scores(test.x[i : i+1])
		if !reflect.DeepEqual(one[0], all[i]) {
			t.Fatalf("query %d: batch %v, alone %v", i, all[i], one[0])
		}
	}
}

func TestTaskLevelSynthetic(t *testing.T) {
	train := makeSynth(4, 100, 16, 5, 3, false)
	test := makeSynth(4, 40, 16, 5, 4, false)
	r := NewTaskLevel()
	if err := r.Fit(train.x, train.scores, nil); err == nil {
		t.Error("task-level Fit without task ids succeeded")
	}
	if err := r.Fit(train.x, train.scores, train.task); err != nil {
		t.Fatal(err)
	}
	if got := r.Classify(test.x); !reflect.DeepEqual(got, test.task) {
		t.Errorf("task classification wrong")
	}
	for k := 0; k < 4; k++ {
		if got, want := r.BestLLM(k), (k*2+1)%4; got != want {
			t.Errorf("task %d: best LLM %d, want %d", k, got, want)
		}
	}
	if r.BestLLM(9) != -1 {
		t.Error("unknown task has a best LLM")
	}
	if acc := accuracy(t, r, test); acc != 1 {
		t.Errorf("task-level accuracy %.3f, want 1", acc)
	}
	// The within-task signal is invisible to a task-level router: it must
	// lose to kNN there.
	trainSub, testSub := makeSynth(4, 150, 24, 5, 5, true), makeSynth(4, 50, 24, 5, 6, true)
	r.Fit(trainSub.x, trainSub.scores, trainSub.task)
	knn := NewKNNFitted(t, 10, trainSub.x, trainSub.scores)
	if tl, kn := accuracy(t, r, testSub), accuracy(t, knn, testSub); tl >= kn {
		t.Errorf("task-level %.3f >= knn %.3f with a within-task signal", tl, kn)
	}
	// Sparse task ids (task 1 missing) work.
	ids := make([]int, len(train.task))
	for i, k := range train.task {
		ids[i] = k * 2
	}
	if err := r.Fit(train.x, train.scores, ids); err != nil {
		t.Fatal(err)
	}
	if got := r.Tasks(); !reflect.DeepEqual(got, []int{0, 2, 4, 6}) {
		t.Errorf("Tasks = %v", got)
	}
}

func TestLoraRetrieverSynthetic(t *testing.T) {
	// Clusters = tasks here, each with its own best LLM; ids are not given.
	train := makeSynth(3, 100, 16, 4, 7, false)
	test := makeSynth(3, 30, 16, 4, 8, false)
	r := NewLoraRetriever(3, 1)
	if err := r.Fit(train.x, train.scores, nil); err != nil {
		t.Fatal(err)
	}
	if acc := accuracy(t, r, test); acc != 1 {
		t.Errorf("lora_retriever accuracy %.3f, want 1", acc)
	}
	llm, sizes := r.ClusterLLM()
	if len(llm) != 3 || sizes[0]+sizes[1]+sizes[2] != 300 {
		t.Errorf("clusters %v sizes %v", llm, sizes)
	}
	// Same seed, same router.
	r2 := NewLoraRetriever(3, 1)
	r2.Fit(train.x, train.scores, nil)
	if !reflect.DeepEqual(r.Scores(test.x), r2.Scores(test.x)) || !reflect.DeepEqual(r.centroids, r2.centroids) {
		t.Error("same seed, different router")
	}
	if err := NewLoraRetriever(301, 1).Fit(train.x, train.scores, nil); err == nil {
		t.Error("more clusters than rows accepted")
	}
	if NewLoraRetriever(0, 3).Name() != "lora_retriever-n5-s3" {
		t.Errorf("Name %q", NewLoraRetriever(0, 3).Name())
	}
}

func TestSaveLoad(t *testing.T) {
	train := makeSynth(3, 80, 40, 5, 11, true)
	test := makeSynth(3, 20, 40, 5, 12, true)
	// Make some features exactly zero so the sparse KNN file is exercised.
	for _, v := range train.x {
		for j := 5; j < 12; j++ {
			v[j] = 0
		}
	}
	dir := t.TempDir()
	routers := []Router{NewKNN(7), NewTaskLevel(), NewLoraRetriever(4, 2)}
	for _, r := range routers {
		path := filepath.Join(dir, r.Kind()+".json")
		if err := r.Save(path); err == nil {
			t.Errorf("%s: saving an unfitted router succeeded", r.Kind())
		}
		if err := r.Fit(train.x, train.scores, train.task); err != nil {
			t.Fatal(err)
		}
		if err := r.Save(path); err != nil {
			t.Fatal(err)
		}
		var typed Router
		var err error
		switch r.Kind() {
		case kindKNN:
			typed, err = LoadKNN(path)
		case kindTaskLevel:
			typed, err = LoadTaskLevel(path)
		case kindLora:
			typed, err = LoadLoraRetriever(path)
		}
		if err != nil {
			t.Fatal(err)
		}
		generic, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		want := r.Scores(test.x)
		for _, g := range []Router{typed, generic} {
			if g.Kind() != r.Kind() || g.Name() != r.Name() {
				t.Errorf("loaded %s/%s, saved %s/%s", g.Kind(), g.Name(), r.Kind(), r.Name())
			}
			if got := g.Scores(test.x); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: scores differ after load", r.Kind())
			}
		}
	}
	// Wrong kind and garbage are refused.
	if _, err := LoadKNN(filepath.Join(dir, kindTaskLevel+".json")); err == nil {
		t.Error("LoadKNN read a task-level file")
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"format":"routerdc-baseline","version":1,"kind":"knn","dim":3,"indptr":[0,1],"indices":"AwAAAA==","values":"AAAAAA==","scores":[[1]]}`), 0o644)
	if _, err := Load(bad); err == nil {
		t.Error("knn file with a bad column index accepted")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 4 {
		t.Errorf("temp files left behind: %d entries", len(ents))
	}
}

func TestFitErrorsAndPanics(t *testing.T) {
	x := [][]float32{{1, 0}, {0, 1}}
	s := [][]float64{{1, 0}, {0, 1}}
	cases := []struct {
		name string
		x    [][]float32
		s    [][]float64
		ids  []int
	}{
		{"no rows", nil, nil, nil},
		{"row count", x, s[:1], nil},
		{"ragged x", [][]float32{{1, 0}, {1}}, s, nil},
		{"ragged scores", x, [][]float64{{1, 0}, {1}}, nil},
		{"nan score", x, [][]float64{{1, 0}, {math.NaN(), 1}}, nil},
		{"ids count", x, s, []int{0}},
		{"negative id", x, s, []int{0, -1}},
	}
	for _, c := range cases {
		for _, r := range []Router{NewKNN(1), NewTaskLevel(), NewLoraRetriever(1, 0)} {
			if err := r.Fit(c.x, c.s, c.ids); err == nil {
				t.Errorf("%s: %s Fit succeeded", c.name, r.Kind())
			}
		}
	}
	mustPanic := func(name string, f func()) {
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", name)
			}
		}()
		f()
	}
	mustPanic("unfitted knn", func() { NewKNN(1).Scores(x) })
	mustPanic("unfitted task-level", func() { NewTaskLevel().Scores(x) })
	r := NewKNNFitted(t, 1, x, s)
	mustPanic("wrong width", func() { r.Scores([][]float32{{1, 2, 3}}) })
}
