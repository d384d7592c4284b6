package routerdir

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/backend"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/hostrouters"
	"github.com/routerdc-go/routerdc/pipeline/router"
)

// toy: three kinds of question, each answered best by a different LLM.
func toy() (texts []string, ex *router.Examples) {
	kinds := []string{"solve the equation %d x + 3 = 7", "write a python function number %d", "who was the king of france in %d"}
	ex = &router.Examples{}
	for i := 0; i < 300; i++ {
		k := i % 3
		texts = append(texts, fmt.Sprintf(kinds[k], i))
		s := []float64{0.1, 0.1, 0.1, 0.1}
		s[k] = 0.9
		ex.Scores = append(ex.Scores, s)
		ex.Credit = append(ex.Credit, false)
		ex.Task = append(ex.Task, k)
		ex.Group = append(ex.Group, k)
	}
	return texts, ex
}

func sameScores(t *testing.T, a, b [][]float64) {
	t.Helper()
	for i := range a {
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				t.Fatalf("score [%d][%d]: %v before save, %v after load", i, j, a[i][j], b[i][j])
			}
		}
	}
}

func TestGraphRouterSaveLoad(t *testing.T) {
	texts, ex := toy()
	enc := encode.NewHashed(encode.HashedConfig{Bits: 10})
	enc.Fit(texts)
	x, err := enc.Encode(texts)
	if err != nil {
		t.Fatal(err)
	}
	ex.X = x
	b := backend.MustNew()
	store := router.NewStore(1)
	if err := router.ApplySettings(store, []string{"steps=60;eval_every=20;dim=16"}); err != nil {
		t.Fatal(err)
	}
	if _, err := router.Train(b, store, ex, ex, nil); err != nil {
		t.Fatal(err)
	}
	meta := Meta{Kind: router.KindRouterDC, LLMs: []string{"a", "b", "c", "d"}, Seed: 1, Encoder: enc.Name()}
	r := NewGraphRouter(meta, enc, store, b)
	queries := []string{"solve the equation 12 x + 3 = 7", "write a python function number 999", "who was the king of france in 1700"}
	before, err := r.Scores(queries)
	if err != nil {
		t.Fatal(err)
	}
	picks, err := r.Route(queries)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range picks {
		if p != i {
			t.Errorf("query %q routed to %d, want %d", queries[i], p, i)
		}
	}
	dir := filepath.Join(t.TempDir(), "router")
	if err := r.Save(dir); err != nil {
		t.Fatal(err)
	}
	if err := r.Save(dir); err != nil { // overwriting an existing router is fine
		t.Fatal(err)
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	after, err := loaded.Scores(queries)
	if err != nil {
		t.Fatal(err)
	}
	sameScores(t, before, after)
	p := loaded.Probabilities(after[0])
	var sum float64
	for _, v := range p {
		sum += v
	}
	if sum < 0.999 || sum > 1.001 {
		t.Errorf("probabilities sum to %v", sum)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("leftovers beside the router directory: %v", entries)
	}
}

func TestHostRouterSaveLoad(t *testing.T) {
	texts, ex := toy()
	enc := encode.NewHashed(encode.HashedConfig{Bits: 10})
	enc.Fit(texts)
	x, _ := enc.Encode(texts)
	h := hostrouters.NewKNN(5)
	if err := h.Fit(x, ex.Scores, ex.Task); err != nil {
		t.Fatal(err)
	}
	r := NewHostRouter(Meta{Kind: "knn", LLMs: []string{"a", "b", "c", "d"}}, enc, h)
	before, _ := r.Scores(texts[:10])
	dir := filepath.Join(t.TempDir(), "knn")
	if err := r.Save(dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := loaded.Scores(texts[:10])
	sameScores(t, before, after)
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("an empty directory loaded as a router")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, MetaFile), []byte("{not json"), 0o644)
	if _, err := Load(dir); err == nil {
		t.Error("a corrupt router.json loaded")
	}
}

func TestMaskLLM(t *testing.T) {
	s := [][]float64{{0.9, 0.1, 0.5}, {0.2, 0.8, 0.1}}
	MaskLLM(s, []string{"a", "b", "c"}, "a")
	if picks := router.Argmax(s); picks[0] != 2 || picks[1] != 1 {
		t.Errorf("picks after removing a: %v", picks)
	}
	MaskLLM(s, []string{"a", "b", "c", "d"}, "d") // beyond the router's LLMs: no effect, no panic
}
