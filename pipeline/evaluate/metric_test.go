package evaluate

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// toy has 3 LLMs and 4 queries with hand-checkable credits.
var toy = &data.Dataset{
	Path: "toy",
	LLMs: []string{"a", "b", "c"},
	Queries: []data.Query{
		{Question: "q0", Scores: []float64{0.9, 0, 0.2}},
		{Question: "q1", Scores: []float64{0, 0, 0}},
		{Question: "q2", Scores: []float64{0, 0.5, 0.1}},
		{Question: "q3", Scores: []float64{0.3, 1, 0}},
	},
}

func TestCredit(t *testing.T) {
	cases := []struct {
		m     data.Metric
		score float64
		want  float64
	}{
		{data.Probability, 0, 0},
		{data.Probability, 1e-12, 1}, // any positive probability means answered correctly
		{data.Probability, 0.4, 1},
		{data.MultiAttempt, 0, 0},
		{data.MultiAttempt, 0.4, 0.4},
		{data.MultiAttempt, 1, 1},
	}
	for _, c := range cases {
		if got := Credit(c.m, c.score); got != c.want {
			t.Errorf("Credit(%s, %v) = %v, want %v", c.m, c.score, got, c.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Credit with an unknown metric did not panic")
		}
	}()
	Credit("bleu", 0.5)
}

func TestAccuracies(t *testing.T) {
	picks := []int{0, 1, 1, 2}
	if got := Credits(toy, data.MultiAttempt, picks); !equal(got, []float64{0.9, 0, 0.5, 0}) {
		t.Errorf("Credits = %v", got)
	}
	if got := Accuracy(toy, data.MultiAttempt, picks); !near(got, 100*1.4/4) {
		t.Errorf("Accuracy multi_attempt = %v, want 35", got)
	}
	if got := Accuracy(toy, data.Probability, picks); !near(got, 50) {
		t.Errorf("Accuracy probability = %v, want 50", got)
	}
	for llm, want := range []float64{100 * 1.2 / 4, 100 * 1.5 / 4, 100 * 0.3 / 4} {
		if got := LLMAccuracy(toy, data.MultiAttempt, llm); !near(got, want) {
			t.Errorf("LLMAccuracy(%d) = %v, want %v", llm, got, want)
		}
	}
	if got := OracleAccuracy(toy, data.MultiAttempt); !near(got, 100*(0.9+0+0.5+1)/4) {
		t.Errorf("OracleAccuracy multi_attempt = %v", got)
	}
	if got := OracleAccuracy(toy, data.Probability); !near(got, 75) {
		t.Errorf("OracleAccuracy probability = %v, want 75", got)
	}
	if got := RandomAccuracy(toy, data.MultiAttempt); !near(got, 100*(1.1+0+0.6+1.3)/3/4) {
		t.Errorf("RandomAccuracy multi_attempt = %v", got)
	}
	if got := RandomAccuracy(toy, data.Probability); !near(got, 100*(2.0/3+0+2.0/3+2.0/3)/4) {
		t.Errorf("RandomAccuracy probability = %v, want 50", got)
	}
	if llm, acc := BestLLMAccuracy(toy, data.MultiAttempt); llm != 1 || !near(acc, 37.5) {
		t.Errorf("BestLLMAccuracy multi_attempt = %d, %v; want 1, 37.5", llm, acc)
	}
	// Under probability, a and b tie at 50%: the first wins.
	if llm, acc := BestLLMAccuracy(toy, data.Probability); llm != 0 || !near(acc, 50) {
		t.Errorf("BestLLMAccuracy probability = %d, %v; want 0, 50", llm, acc)
	}
}

func TestCreditsLengthMismatchPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Credits with too few picks did not panic")
		}
	}()
	Credits(toy, data.Probability, []int{0})
}

func TestMean(t *testing.T) {
	if got := Mean(nil); got != 0 {
		t.Errorf("Mean(nil) = %v, want 0", got)
	}
	if got := Mean([]float64{1, 2, 6}); got != 3 {
		t.Errorf("Mean = %v, want 3", got)
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !near(a[i], b[i]) {
			return false
		}
	}
	return true
}

// The metrics reproduce a number of the paper's Table 1 from the released
// scores: dolphin-2.9-llama3-8b alone on MMLU scores 59.46. No router is
// involved, so reading the test set here selects nothing.
func TestMetricMatchesPaper(t *testing.T) {
	ds, err := data.Load(filepath.Join(datatest.RequireDir(t), "split2_model7", "mmlu_test.json"))
	if err != nil {
		t.Fatal(err)
	}
	llm := slices.Index(ds.LLMs, "cognitivecomputations/dolphin-2.9-llama3-8b")
	if llm < 0 {
		t.Fatalf("%s has no dolphin-2.9-llama3-8b scores: %v", ds.Path, ds.LLMs)
	}
	if acc := LLMAccuracy(ds, data.Probability, llm); acc < 59.455 || acc >= 59.465 {
		t.Errorf("dolphin-2.9-llama3-8b on MMLU: %.3f, the paper's Table 1 says 59.46", acc)
	}
}
