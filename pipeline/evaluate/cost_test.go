package evaluate

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
)

// costly is toy with costs: "a" mid-priced, "b" expensive, "c" cheap, with
// ties that the oracle must break by cost and then by LLM order.
var costly = &data.Dataset{
	Path: "costly",
	LLMs: []string{"a", "b", "c"},
	Queries: []data.Query{
		// a and c both correct under "probability"; c is cheaper.
		{Question: "q0", Scores: []float64{0.9, 0, 0.2}, Costs: []float64{0.02, 0.10, 0.01}},
		// Nobody is right: the cheapest (a) wins the tie at credit 0.
		{Question: "q1", Scores: []float64{0, 0, 0}, Costs: []float64{0.01, 0.10, 0.03}},
		// Only b is right.
		{Question: "q2", Scores: []float64{0, 0.5, 0}, Costs: []float64{0.02, 0.10, 0.01}},
		// a and b tie at full credit and equal cost: the first, a.
		{Question: "q3", Scores: []float64{1, 1, 0}, Costs: []float64{0.05, 0.05, 0.01}},
	},
}

func TestMeanAndLLMCost(t *testing.T) {
	got, err := MeanCost(costly, []int{0, 1, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := (0.02 + 0.10 + 0.01 + 0.05) / 4; !near(got, want) {
		t.Errorf("MeanCost = %v, want %v", got, want)
	}
	for llm, want := range []float64{
		(0.02 + 0.01 + 0.02 + 0.05) / 4,
		(0.10 + 0.10 + 0.10 + 0.05) / 4,
		(0.01 + 0.03 + 0.01 + 0.01) / 4,
	} {
		got, err := LLMCost(costly, llm)
		if err != nil {
			t.Fatal(err)
		}
		if !near(got, want) {
			t.Errorf("LLMCost(%d) = %v, want %v", llm, got, want)
		}
	}
}

func TestOracle(t *testing.T) {
	cases := []struct {
		m     data.Metric
		picks []int
	}{
		// q0: a and c correct, c cheaper; q1: none, cheapest a; q2: b; q3: a
		// and b tie in credit and cost, first wins.
		{data.Probability, []int{2, 0, 1, 0}},
		// multi_attempt credit is the score: a's 0.9 beats c's 0.2.
		{data.MultiAttempt, []int{0, 0, 1, 0}},
	}
	for _, c := range cases {
		picks, err := OraclePicks(costly, c.m)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(picks, c.picks) {
			t.Errorf("%s: OraclePicks = %v, want %v", c.m, picks, c.picks)
		}
		// The oracle's picks reach OracleAccuracy: cheaper, never worse.
		if got, want := Accuracy(costly, c.m, picks), OracleAccuracy(costly, c.m); !near(got, want) {
			t.Errorf("%s: accuracy of the oracle picks %v, OracleAccuracy %v", c.m, got, want)
		}
		cost, err := OracleCost(costly, c.m)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := MeanCost(costly, c.picks)
		if !near(cost, want) {
			t.Errorf("%s: OracleCost = %v, want %v", c.m, cost, want)
		}
	}
}

func TestCostErrors(t *testing.T) {
	withQuery := func(q data.Query) *data.Dataset {
		ds := *costly
		ds.Queries = slices.Clone(costly.Queries)
		ds.Queries[2] = q
		return &ds
	}
	noCosts := withQuery(data.Query{Scores: []float64{0, 1, 0}})
	short := withQuery(data.Query{Scores: []float64{0, 1, 0}, Costs: []float64{1, 2}})
	nan := withQuery(data.Query{Scores: []float64{0, 1, 0}, Costs: []float64{1, math.NaN(), 2}})
	neg := withQuery(data.Query{Scores: []float64{0, 1, 0}, Costs: []float64{1, -2, 2}})
	check := func(what string, err error, want ...string) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error", what)
			return
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", what, err, w)
			}
		}
	}
	_, err := MeanCost(noCosts, []int{0, 0, 0, 0})
	check("missing costs", err, "costly: record 2", `"costs"`, "missing")
	_, err = LLMCost(short, 1)
	check("short costs", err, "record 2", "2 values for 3 LLMs")
	_, err = OracleCost(nan, data.Probability)
	check("NaN cost", err, "record 2", `"costs.b"`, "NaN")
	_, err = OraclePicks(neg, data.Probability)
	check("negative cost", err, "record 2", `"costs.b"`, "non-negative")
	_, err = MeanCost(costly, []int{0, 1})
	check("picks count", err, "2 picks for 4 queries")
	_, err = MeanCost(costly, []int{0, 1, 3, 0})
	check("pick out of range", err, "record 2", "pick 3")
	_, err = LLMCost(costly, 3)
	check("LLM out of range", err, "LLM index 3")
	_, err = MeanCost(&data.Dataset{Path: "empty", LLMs: []string{"a"}}, nil)
	check("no queries", err, "empty", "no queries")
}
