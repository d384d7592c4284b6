package router

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestCostAdjusted(t *testing.T) {
	scores := [][]float64{{1, 0.5, 0}, {0, 1, 1}}
	costs := [][]float64{{0.01, 0.001, 0}, {0.02, 0.004, 0.002}}
	keepS := [][]float64{slices.Clone(scores[0]), slices.Clone(scores[1])}
	keepC := [][]float64{slices.Clone(costs[0]), slices.Clone(costs[1])}
	got, err := CostAdjusted(scores, costs, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{0, 0.4, 0}, {-2, 0.6, 0.8}}
	for i := range want {
		for j := range want[i] {
			if math.Abs(got[i][j]-want[i][j]) > 1e-12 {
				t.Errorf("target[%d][%d] = %v, want %v", i, j, got[i][j], want[i][j])
			}
		}
	}
	// TargetScores may hand over the Examples' own rows: they must survive.
	for i := range scores {
		if !slices.Equal(scores[i], keepS[i]) || !slices.Equal(costs[i], keepC[i]) {
			t.Errorf("row %d: inputs modified to %v, %v", i, scores[i], costs[i])
		}
	}
	// The penalty changes which LLM ranks first in row 1: c, the cheaper
	// of the two perfect ones.
	if SortDesc(got[1], nil)[0] != 2 || SortDesc(scores[1], nil)[0] != 1 {
		t.Errorf("row 1 ranking: before %v, after %v", SortDesc(scores[1], nil), SortDesc(got[1], nil))
	}

	// Rate 0 is the setting switched off: no costs needed, scores as given.
	same, err := CostAdjusted(scores, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(same) != len(scores) || &same[0][0] != &scores[0][0] {
		t.Errorf("rate 0 did not return the scores themselves")
	}
}

func TestCostAdjustedErrors(t *testing.T) {
	s := [][]float64{{1, 0}, {0, 1}}
	c := [][]float64{{0.1, 0.2}, {0.1, 0.2}}
	cases := []struct {
		name   string
		scores [][]float64
		costs  [][]float64
		rate   float64
		want   string
	}{
		{"negative rate", s, c, -1, "cost_rate -1"},
		{"NaN rate", s, c, math.NaN(), "cost_rate NaN"},
		{"no costs", s, nil, 1, "0 cost rows for 2 training rows"},
		{"missing row", s, [][]float64{{0.1, 0.2}, nil}, 1, "training row 1 has no costs"},
		{"short row", s, [][]float64{{0.1, 0.2}, {0.1}}, 1, "training row 1: 1 costs for 2 scores"},
		{"NaN cost", s, [][]float64{{0.1, math.NaN()}, {0.1, 0.2}}, 1, "training row 0: cost of LLM 1 is NaN"},
		{"negative cost", s, [][]float64{{0.1, 0.2}, {-0.1, 0.2}}, 1, "training row 1: cost of LLM 0 is -0.1"},
	}
	for _, k := range cases {
		_, err := CostAdjusted(k.scores, k.costs, k.rate)
		if err == nil || !strings.Contains(err.Error(), k.want) {
			t.Errorf("%s: error %v, want one mentioning %q", k.name, err, k.want)
		}
	}
}

func TestMaxMeanCost(t *testing.T) {
	// Means per LLM: 0.015, 0.0025, 0.001: the first is the dearest.
	got, err := MaxMeanCost([][]float64{{0.01, 0.001, 0}, {0.02, 0.004, 0.002}})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-0.015) > 1e-15 {
		t.Errorf("MaxMeanCost = %v, want 0.015", got)
	}
	for _, k := range []struct {
		name  string
		costs [][]float64
		want  string
	}{
		{"none", nil, "no training rows"},
		{"all free", [][]float64{{0, 0}}, "mean cost is 0"},
		{"ragged", [][]float64{{1, 2}, {1}}, "training row 1: 1 costs, row 0 has 2"},
		{"Inf", [][]float64{{1, math.Inf(1)}}, "cost of LLM 1 is +Inf"},
	} {
		_, err := MaxMeanCost(k.costs)
		if err == nil || !strings.Contains(err.Error(), k.want) {
			t.Errorf("%s: error %v, want one mentioning %q", k.name, err, k.want)
		}
	}
}
