package data

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// One file holds three benchmarks, as RouterBench's release does.
func rbRow(id, eval, a, b string) string {
	return "0," + id + ",q " + id + "," + eval + "," + a + "," + b + ",r,r,0.1,0.2,a\n"
}

var rbMixed = rbHead + "\n" +
	rbRow("x.0", "arc", "1", "0") +
	rbRow("y.0", "wino", "0", "1") +
	rbRow("x.1", "arc", "0", "0") +
	rbRow("z.0", "gsm", "1", "") + // a hole outside every selection below
	rbRow("y.1", "wino", "1", "1")

func questions(ds *Dataset) []string {
	var out []string
	for _, q := range ds.Queries {
		out = append(out, q.Question)
	}
	return out
}

func TestEvalNameSelectsRows(t *testing.T) {
	decl := `name: rb
kind: dataset
format: routerbench
tasks:
  - {name: ARC, train: [all.csv], test: all.csv, metric: probability, eval_name: arc}
  - {name: Both, train: [all.csv], test: all.csv, metric: probability, eval_name: [wino, arc]}
`
	d := declDir(t, decl, map[string]string{"all.csv": rbMixed})
	if !slices.Equal(d.Tasks[0].EvalName, []string{"arc"}) || !slices.Equal(d.Tasks[1].EvalName, []string{"wino", "arc"}) {
		t.Fatalf("eval_name parsed as %q, %q", d.Tasks[0].EvalName, d.Tasks[1].EvalName)
	}
	// missing: error, yet gsm's empty score is no error: its rows are not used.
	c, err := d.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := questions(c.Tasks[0].Test); !slices.Equal(got, []string{"q x.0", "q x.1"}) {
		t.Errorf("ARC: %q", got)
	}
	// File order, not the order of the eval_name list.
	if got := questions(c.Tasks[1].Train[0]); !slices.Equal(got, []string{"q x.0", "q y.0", "q x.1", "q y.1"}) {
		t.Errorf("Both: %q", got)
	}
	if c.Tasks[0].Train[0] != c.Tasks[0].Test {
		t.Error("a file named twice with one selection should be one Dataset")
	}
	if len(c.Files) != 1 || c.Files[0].Path != "all.csv" {
		t.Errorf("files %+v: the file is read once", c.Files)
	}
	if !slices.Equal(c.Tasks[1].EvalName, []string{"wino", "arc"}) {
		t.Errorf("task data eval_name %q", c.Tasks[1].EvalName)
	}

	// The selection is part of the data stage's key: another selection of
	// the same file is other data.
	d2 := declDir(t, strings.Replace(decl, "eval_name: arc}", "eval_name: wino}", 1), map[string]string{"all.csv": rbMixed})
	c2, err := d2.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	k1, _ := json.Marshal(c.Key())
	k2, _ := json.Marshal(c2.Key())
	if bytes.Equal(k1, k2) {
		t.Errorf("same key for eval_name arc and wino: %s", k1)
	}
}

// A dataset without a selection keeps the key it had before eval_name
// existed, so the built-in dataset's cache stays valid.
func TestEvalNameKeyUnchangedWithout(t *testing.T) {
	c := &Collection{Name: "n", LLMs: []string{"a"}, Tasks: []TaskData{{Name: "T", Metric: Probability, Train: []*Dataset{{}}}},
		Files: []FileSum{{Path: "f", SHA256: "s"}}}
	k, err := json.Marshal(c.Key())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Name":"n","LLMs":["a"],"Tasks":[{"Name":"T","Metric":"probability","OOD":false,"TrainFiles":1}],"SHA256":["s"]}`
	if string(k) != want {
		t.Errorf("key %s\nwant %s", k, want)
	}
}

func TestEvalNameMissing(t *testing.T) {
	decl := func(missing, eval string) string {
		return "name: rb\nkind: dataset\nformat: routerbench\nmissing: " + missing + "\ntasks:\n" +
			"  - {name: T, train: [all.csv], test: all.csv, metric: probability, eval_name: " + eval + "}\n"
	}
	// missing: error names the selected row's empty cell.
	d := declDir(t, decl("error", "[arc, gsm]"), map[string]string{"all.csv": rbMixed})
	loadFails(t, d, `all.csv: line 5 (sample_id "z.0"): field "b": empty`)

	// missing: drop counts per file and selection.
	d = declDir(t, decl("drop", "[arc, gsm]"), map[string]string{"all.csv": rbMixed})
	var progress bytes.Buffer
	c, err := d.Load(&progress)
	if err != nil {
		t.Fatal(err)
	}
	if got := questions(c.Tasks[0].Test); !slices.Equal(got, []string{"q x.0", "q x.1"}) {
		t.Errorf("kept %q", got)
	}
	if len(c.Dropped) != 1 || c.Dropped["all.csv (eval_name arc, gsm)"] != 1 {
		t.Errorf("dropped %v", c.Dropped)
	}
	if !strings.Contains(progress.String(), "all.csv (eval_name arc, gsm): 1 queries dropped (missing scores)") {
		t.Errorf("progress %q", progress.String())
	}

	// Every selected row dropped: nothing left, said with the selection.
	d = declDir(t, decl("drop", "gsm"), map[string]string{"all.csv": rbMixed})
	loadFails(t, d, "all.csv: every one of its 1 rows with eval_name gsm lacks a score of a used LLM")
}

func TestEvalNameLoadErrors(t *testing.T) {
	decl := "name: rb\nkind: dataset\nformat: routerbench\ntasks:\n" +
		"  - {name: T, train: [all.csv], test: test.csv, metric: probability, eval_name: [arc, mmlu]}\n"
	d := declDir(t, decl, map[string]string{"all.csv": rbMixed, "test.csv": rbMixed})
	loadFails(t, d, `all.csv: field "eval_name": no row has eval_name "mmlu" (task T, line 5 of `,
		`the file's eval_names: "arc", "wino", "gsm"`)

	// Only the test file lacks it.
	other := rbHead + "\n" + rbRow("m.0", "mmlu", "1", "1")
	d = declDir(t, decl, map[string]string{"all.csv": rbMixed + rbRow("m.0", "mmlu", "1", "1"), "test.csv": other})
	loadFails(t, d, `test.csv: field "eval_name": no row has eval_name "arc"`)

	noColumn := ",sample_id,prompt,a,a|total_cost\n0,s,q,1,0\n"
	d = declDir(t, decl, map[string]string{"all.csv": noColumn, "test.csv": noColumn})
	loadFails(t, d, `all.csv: field "eval_name": column missing, but the rows are selected by eval_name (task T`)
}

func TestEvalNameDeclErrors(t *testing.T) {
	head := "name: x\nkind: dataset\nformat: routerbench\ntasks:\n"
	task := func(eval string) string {
		return head + "  - {name: T, train: [a.csv], test: b.csv, metric: probability, eval_name: " + eval + "}\n"
	}
	for _, c := range []struct{ name, in, want string }{
		{"other format", strings.Replace(task("arc"), "routerbench", "routerdc", 1),
			`line 5: tasks[0] (T): key "eval_name": only format routerbench files have an eval_name column (format is routerdc)`},
		{"null", task("null"), `line 5: key "eval_name" is empty`},
		{"empty list", task("[]"), `tasks[0] (T): key "eval_name" is empty`},
		{"empty entry", task(`[arc, ""]`), `key "eval_name": entry 1 is empty`},
		{"repeated", task("[arc, arc]"), `key "eval_name": "arc" is listed twice`},
		{"a mapping", task("{a: b}"), `line 5: key "eval_name": want a string or a list of strings`},
		{"a number", task("3"), `key "eval_name": want a string or a list of strings`},
		{"a list of lists", task("[[a]]"), `key "eval_name": want a string or a list of strings`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseDecl("decl.yaml", []byte(c.in))
			if err == nil || !strings.HasPrefix(err.Error(), "decl.yaml: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

// The example RouterBench file (spec examples), one task per benchmark, as
// a declaration selects them from the released single file: each of
// arc-challenge.5 (beta's score empty) and winogrande.27 (gamma's) drops
// its row from its task.
func TestLoadRouterBenchSampleByEvalName(t *testing.T) {
	sample, err := os.ReadFile("testdata/routerbench_sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	decl := `name: rb
kind: dataset
format: routerbench
missing: drop
tasks:
  - {name: ARC-C, train: [sample.csv], test: sample.csv, metric: probability, eval_name: arc-challenge}
  - {name: Winogrande, train: [sample.csv], test: sample.csv, metric: probability, eval_name: winogrande}
`
	var progress bytes.Buffer
	c, err := declDir(t, decl, map[string]string{"sample.csv": string(sample)}).Load(&progress)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.LLMs, []string{"org/alpha-7b", "org/beta-13b", "vendor/gamma-xl"}) || !c.HasCosts {
		t.Errorf("LLMs %v, costs %v", c.LLMs, c.HasCosts)
	}
	want := map[string]int{"sample.csv (eval_name arc-challenge)": 1, "sample.csv (eval_name winogrande)": 1}
	if len(c.Dropped) != 2 || c.Dropped["sample.csv (eval_name arc-challenge)"] != 1 || c.Dropped["sample.csv (eval_name winogrande)"] != 1 {
		t.Errorf("dropped %v, want %v", c.Dropped, want)
	}
	for i, prefix := range []string{"['Answer with the letter.", "['Fill in the blank."} {
		ds := c.Tasks[i].Test
		if len(ds.Queries) != 19 {
			t.Errorf("%s: %d queries, want 19", c.Tasks[i].Name, len(ds.Queries))
		}
		for _, q := range ds.Queries {
			if !strings.HasPrefix(q.Question, prefix) {
				t.Errorf("%s: query of another benchmark: %q", c.Tasks[i].Name, q.Question)
			}
		}
	}
	// winogrande.20: alpha wrong, beta and gamma right.
	if q := c.Tasks[1].Test.Queries[0]; !slices.Equal(q.Scores, []float64{0, 1, 1}) || !slices.Equal(q.Costs, []float64{5.2e-06, 1.56e-05, 0.00026}) {
		t.Errorf("winogrande.20: %+v", q)
	}
	if strings.Count(progress.String(), "1 queries dropped (missing scores)") != 2 {
		t.Errorf("progress %q", progress.String())
	}
}
