package gateway

import (
	"fmt"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/routerdir"
	"github.com/routerdc-go/routerdc/pipeline/routerdir/routerdirtest"
)

// savedKNN saves and loads a small kNN router directory (no released data
// needed): equations go to "m", Python functions to "c".
func savedKNN(t testing.TB) *routerdir.Router {
	loaded, err := routerdir.Load(routerdirtest.ToyKNN(t))
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
