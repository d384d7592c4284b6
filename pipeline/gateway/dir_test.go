package gateway

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/hostrouters"
	"github.com/routerdc-go/routerdc/pipeline/routerdir"
)

// savedKNN saves and loads a small kNN router directory (no released data
// needed): equations go to "m", Python functions to "c".
func savedKNN(t testing.TB) *routerdir.Router {
	var texts []string
	var scores [][]float64
	var task []int
	for i := range 60 {
		if i%2 == 0 {
			texts = append(texts, fmt.Sprintf("solve the equation %d x + 3 = 7", i))
			scores = append(scores, []float64{0.9, 0.1})
		} else {
			texts = append(texts, fmt.Sprintf("write a python function number %d", i))
			scores = append(scores, []float64{0.1, 0.9})
		}
		task = append(task, i%2)
	}
	enc := encode.NewHashed(encode.HashedConfig{Bits: 10})
	enc.Fit(texts)
	x, err := enc.Encode(texts)
	if err != nil {
		t.Fatal(err)
	}
	knn := hostrouters.NewKNN(3)
	if err := knn.Fit(x, scores, task); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "knn")
	r := routerdir.NewHostRouter(routerdir.Meta{Kind: "knn", LLMs: []string{"m", "c"}, Encoder: enc.Name()}, enc, knn)
	if err := r.Save(dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := routerdir.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return loaded
}

// The gateway's choice is the router's own (what `routerdc route` prints)
// for the same text, and its probability header is the router's.
func TestChoiceIsTheRouters(t *testing.T) {
	r := savedKNN(t)
	m, c := newUpstream(t, "m"), newUpstream(t, "c")
	_, srv, _ := setup(t, FromDir(r), "", m, c)
	texts := []string{"solve the equation 5 x + 3 = 7", "write a python function number 8", "solve 2 x = 4",
		"python function to sort a list", "what is 3 + 4", "write python"}
	want, err := r.Route(texts)
	if err != nil {
		t.Fatal(err)
	}
	scores, _ := r.Scores(texts)
	seen := map[string]bool{}
	for i, text := range texts {
		resp := chat(t, srv.URL, "router", text)
		p := fmt.Sprintf("%.6f", r.Probabilities(scores[i])[want[i]])
		gotP := resp.Header.Get(HeaderProbability)
		llm, _ := answer(t, resp)
		if llm != r.Meta.LLMs[want[i]] || gotP != p {
			t.Errorf("%q: gateway chose %s (p %s), the router %s (p %s)", text, llm, gotP, r.Meta.LLMs[want[i]], p)
		}
		seen[llm] = true
	}
	if len(seen) != 2 {
		t.Errorf("the texts all went to %v: the test needs both LLMs chosen", seen)
	}
}
