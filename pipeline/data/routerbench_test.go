package data

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
)

func rbDecl(extra string) string {
	return `name: rb
kind: dataset
format: routerbench
` + extra + `
tasks:
  - {name: ARC-C, train: [train.csv], test: test.csv, metric: probability}
`
}

// The example RouterBench file (spec examples): 40 rows, two of them with
// an empty score.
func TestLoadRouterBenchSample(t *testing.T) {
	sample, err := os.ReadFile("testdata/routerbench_sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	d := declDir(t, rbDecl("llms: [vendor/gamma-xl, org/alpha-7b]\nmissing: drop"),
		map[string]string{"train.csv": string(sample), "test.csv": string(sample)})
	c, err := d.Load(&progress)
	if err != nil {
		t.Fatal(err)
	}
	ds := c.Tasks[0].Train[0]
	// Only the hole of a used LLM drops a row: winogrande.27 lacks gamma's
	// score; arc-challenge.5 lacks beta's, which is not used.
	if len(ds.Queries) != 39 || c.Dropped["train.csv"] != 1 || !c.HasCosts {
		t.Errorf("%d queries, dropped %v, costs %v", len(ds.Queries), c.Dropped, c.HasCosts)
	}
	if !strings.Contains(progress.String(), "train.csv: 1 queries dropped (missing scores)") {
		t.Errorf("progress %q", progress.String())
	}
	q := ds.Queries[0]
	wantQ := `['Answer with the letter.\n\nQuestion: Which statement about photosynthesis is "correct"?\nA) one, two\nB) three\nC) four\nD) none\nAnswer:']`
	if q.Question != wantQ || !slices.Equal(q.Scores, []float64{1, 1}) || !slices.Equal(q.Costs, []float64{0.00034, 6.8e-06}) || q.ClusterID != -1 {
		t.Errorf("first query %+v", q)
	}

	// Every LLM, missing: error: the empty cell is named.
	d = declDir(t, rbDecl(""), map[string]string{"train.csv": string(sample), "test.csv": string(sample)})
	loadFails(t, d, "train.csv: line 7 (sample_id \"arc-challenge.5\"): field \"org/beta-13b\": empty")
}

const rbHead = ",sample_id,prompt,eval_name,a,b,a|model_response,b|model_response,a|total_cost,b|total_cost,oracle_model_to_route_to"

func TestLoadRouterBenchCSV(t *testing.T) {
	csv := rbHead + ",cluster_id\n" +
		"0,s.0,\"line one\nline \"\"two\"\", with comma\",e,0.5,1,\"x\n\",y,0.1,0.2,a,3\n" +
		"1,s.1,plain,e,0,0.25,\xff,y,0,0.4,b,\n"
	c, err := declDir(t, rbDecl(""), map[string]string{"train.csv": csv, "test.csv": csv}).Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	checkQueries(t, c.Tasks[0].Test, []string{"a", "b"}, []Query{
		{Question: "line one\nline \"two\", with comma", Scores: []float64{0.5, 1}, Costs: []float64{0.1, 0.2}, ClusterID: 3},
		{Question: "plain", Scores: []float64{0, 0.25}, Costs: []float64{0, 0.4}, ClusterID: -1},
	})
}

func TestLoadRouterBenchErrors(t *testing.T) {
	row := func(id, a, b string) string { return "0," + id + ",q,e," + a + "," + b + ",r,r,0.1,0.2,a\n" }
	good := row("s.0", "1", "0")
	for _, c := range []struct{ name, csv, want string }{
		{"wrong column count", rbHead + "\n" + good + "1,s.1,q,e,1,0\n", `line 3: 6 fields, but the header has 11 columns`},
		{"duplicate sample id", rbHead + "\n" + good + row("s.1", "1", "1") + row("s.0", "0", "0"), `line 4: field "sample_id": "s.0" repeats line 2`},
		{"score above 1", rbHead + "\n" + good + row("s.1", "1.5", "0"), `line 3: field "a": score 1.5 is outside [0,1]`},
		{"NaN score", rbHead + "\n" + row("s.1", "0", "NaN"), `line 2: field "b": score "NaN" is not a finite number`},
		{"text score", rbHead + "\n" + row("s.1", "yes", "0"), `line 2: field "a": score "yes" is not a number`},
		{"negative cost", rbHead + "\n0,s.0,q,e,1,0,r,r,-0.1,0.2,a\n", `line 2: field "a|total_cost": cost -0.1 is negative`},
		{"empty score", rbHead + "\n" + good + row("s.1", "", "0"), `line 3 (sample_id "s.1"): field "a": empty`},
		{"empty cost", rbHead + "\n0,s.0,q,e,1,0,r,r,,0.2,a\n", `line 2 (sample_id "s.0"): field "a|total_cost": empty`},
		{"non-UTF-8 prompt", rbHead + "\n0,s.0,q\xfe,e,1,0,r,r,0.1,0.2,a\n", `line 2: field "prompt": text is not valid UTF-8`},
		{"malformed quotes", rbHead + "\n0,s.0,\"q\"x,e,1,0,r,r,0.1,0.2,a\n", `line 2, column 9: malformed CSV`},
		{"empty prompt", rbHead + "\n0,s.0,  ,e,1,0,r,r,0.1,0.2,a\n", `line 2: field "prompt": empty`},
		{"no sample_id column", ",id,prompt,a,a|total_cost\n0,s,q,1,0\n", `line 1 (the header): field "id": taken as an LLM's score column, but there is no "id|total_cost" column`},
		{"no cost column", ",sample_id,prompt,a,b,a|total_cost\n0,s,q,1,0,0\n", `field "b": taken as an LLM's score column`},
		{"cost without score", ",sample_id,prompt,a,a|total_cost,c|total_cost\n", `field "c|total_cost": a cost column without the score column "c"`},
		{"header only", rbHead + "\n", "no rows after the header"},
		{"empty file", "", "the file is empty"},
		{"bad cluster id", rbHead + ",cluster_id\n0,s.0,q,e,1,0,r,r,0.1,0.2,a,1.5\n", `field "cluster_id": "1.5" is not a non-negative integer`},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := declDir(t, rbDecl(""), map[string]string{"train.csv": c.csv, "test.csv": good})
			loadFails(t, d, "train.csv: ", c.want)
		})
	}
}
