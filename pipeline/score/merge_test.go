package score

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
)

// scoreFile writes a JSON-lines score file and returns its path.
func scoreFile(t *testing.T, name string, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustFail(t *testing.T, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one mentioning %q", wants)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestMergeRoundTrip(t *testing.T) {
	// Questions that JSON must escape, or that HTML escaping would mangle.
	q1 := "def f(a, b):\n    \"\"\"return a < b && b > 0\"\"\"\n"
	q2 := "Question: 1\u00a0+\u00a01 = ? 答案：\tend"
	a := scoreFile(t, "a.jsonl",
		`{"id": "humaneval/1", "question": `+jsonString(q1)+`, "score": 0.30000000000000004, "llm": "org/a"}`,
		`{"id": "mmlu/7", "question": `+jsonString(q2)+`, "score": 1, "llm": "org/a"}`)
	b := scoreFile(t, "b.jsonl",
		`{"id": "mmlu/7", "question": `+jsonString(q2)+`, "score": 1e-7, "llm": "org/b"}`,
		`{"id": "humaneval/1", "question": `+jsonString(q1)+`, "score": 0, "llm": "org/b"}`)
	c := scoreFile(t, "c.jsonl",
		`{"id": "humaneval/1", "question": `+jsonString(q1)+`, "score": 0.1, "llm": "org/c"}`,
		"",
		`{"id": "mmlu/7", "question": `+jsonString(q2)+`, "score": 0.7, "llm": "org/c"}`)

	order := []string{"org/c", "org/a", "org/b"}
	m, err := Merge([]Input{{Path: a}, {Path: b}, {Path: c}}, MergeOptions{LLMOrder: order})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Holes) != 0 || m.Filled != 0 || m.Dropped != 0 {
		t.Errorf("complete inputs reported holes %v filled %d dropped %d", m.Holes, m.Filled, m.Dropped)
	}
	out := filepath.Join(t.TempDir(), "sub", "train.json")
	if err := m.WriteDataset(out); err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.LLMs, order) {
		t.Errorf("LLMs %v, want %v", ds.LLMs, order)
	}
	want := []data.Query{
		{Question: q1, Scores: []float64{0.1, 0.30000000000000004, 0}, ClusterID: -1},
		{Question: q2, Scores: []float64{0.7, 1, 1e-7}, ClusterID: -1},
	}
	if len(ds.Queries) != len(want) {
		t.Fatalf("%d queries, want %d", len(ds.Queries), len(want))
	}
	for i, q := range ds.Queries {
		if q.Question != want[i].Question || !slices.Equal(q.Scores, want[i].Scores) || q.ClusterID != -1 {
			t.Errorf("query %d: got %+v, want %+v", i, q, want[i])
		}
	}
	raw, _ := os.ReadFile(out)
	for _, s := range []string{"a < b && b > 0", "0.30000000000000004", "1e-07", `"org/a": 1,`} {
		if !strings.Contains(string(raw), s) {
			t.Errorf("written file lacks %q:\n%s", s, raw)
		}
	}
	// Key order is the same on every line, in the requested order.
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.Contains(line, `"scores"`) {
			ic, ia, ib := strings.Index(line, `"org/c"`), strings.Index(line, `"org/a"`), strings.Index(line, `"org/b"`)
			if !(ic < ia && ia < ib) {
				t.Errorf("line %q does not list the LLMs in order %v", line, order)
			}
		}
	}
}

func TestMergeDefaultsAndNames(t *testing.T) {
	// No llm field: the name comes from NAME=PATH. With an llm field, the
	// given name wins.
	a := scoreFile(t, "a.jsonl", `{"id": "gsm8k/1", "question": "q1", "score": 0.5}`)
	b := scoreFile(t, "b.jsonl",
		`{"id": "gsm8k/2", "question": "q2", "score": 0.25, "llm": "wrong/name"}`,
		`{"id": "gsm8k/1", "question": "q1", "score": 0.75, "llm": "wrong/name"}`)
	m, err := Merge([]Input{ParseInput("org/x=" + a), ParseInput("org/y=" + b)}, MergeOptions{Fill: new(0.0)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.LLMs, []string{"org/x", "org/y"}) {
		t.Errorf("LLMs %v, want the inputs' order and given names", m.LLMs)
	}
	// First-seen order: a's ids, then those new in b.
	if len(m.Rows) != 2 || m.Rows[0].ID != "gsm8k/1" || m.Rows[1].ID != "gsm8k/2" {
		t.Fatalf("rows %+v", m.Rows)
	}
	if !slices.Equal(m.Rows[1].Scores, []float64{0, 0.25}) || m.Filled != 1 {
		t.Errorf("filled row %v (filled %d), want [0 0.25] and 1", m.Rows[1].Scores, m.Filled)
	}
	if len(m.Holes) != 1 || m.Holes[0].LLM != "org/x" || m.Holes[0].Count != 1 || m.Holes[0].IDs[0] != "gsm8k/2" {
		t.Errorf("holes %+v, want org/x missing gsm8k/2", m.Holes)
	}
}

func TestParseInput(t *testing.T) {
	cases := map[string]Input{
		"scores/a.jsonl":                  {Path: "scores/a.jsonl"},
		"meta-llama/Llama-3=scores/a=b.j": {Path: "scores/a=b.j", LLM: "meta-llama/Llama-3"},
	}
	for arg, want := range cases {
		if got := ParseInput(arg); got != want {
			t.Errorf("ParseInput(%q) = %+v, want %+v", arg, got, want)
		}
	}
}

func TestMergeHoles(t *testing.T) {
	var lines []string
	for _, id := range []string{"1", "2", "3", "4", "5", "6", "7"} {
		lines = append(lines, `{"id": "mbpp/`+id+`", "question": "q`+id+`", "score": 1, "llm": "org/full"}`)
	}
	full := scoreFile(t, "full.jsonl", lines...)
	part := scoreFile(t, "part.jsonl", `{"id": "mbpp/3", "question": "q3", "score": 0.5, "llm": "org/part"}`)
	inputs := []Input{{Path: full}, {Path: part}}

	_, err := Merge(inputs, MergeOptions{})
	var he *HolesError
	if !errors.As(err, &he) {
		t.Fatalf("err %v, want a HolesError", err)
	}
	if len(he.Holes) != 1 || he.Holes[0].LLM != "org/part" || he.Holes[0].Count != 6 ||
		!slices.Equal(he.Holes[0].IDs, []string{"mbpp/1", "mbpp/2", "mbpp/4", "mbpp/5", "mbpp/6"}) {
		t.Errorf("holes %+v", he.Holes)
	}
	mustFail(t, err, "org/part has no score for 6: mbpp/1, mbpp/2, mbpp/4, mbpp/5, mbpp/6, ...", "fill")

	m, err := Merge(inputs, MergeOptions{DropIncomplete: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Rows) != 1 || m.Rows[0].ID != "mbpp/3" || m.Dropped != 6 || !slices.Equal(m.Rows[0].Scores, []float64{1, 0.5}) {
		t.Errorf("after dropping: rows %+v dropped %d", m.Rows, m.Dropped)
	}

	m, err = Merge(inputs, MergeOptions{Fill: new(0.0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Rows) != 7 || m.Filled != 6 {
		t.Errorf("after filling: %d rows, %d filled", len(m.Rows), m.Filled)
	}

	_, err = Merge(inputs, MergeOptions{Fill: new(0.0), DropIncomplete: true})
	mustFail(t, err, "choose one")
	_, err = Merge(inputs, MergeOptions{Fill: new(1.5)})
	mustFail(t, err, "1.5")

	disjoint := scoreFile(t, "disjoint.jsonl", `{"id": "mbpp/9", "question": "q9", "score": 1, "llm": "org/other"}`)
	_, err = Merge([]Input{{Path: part}, {Path: disjoint}}, MergeOptions{DropIncomplete: true})
	mustFail(t, err, "leaves nothing")
}

func TestMergeRefusesBadInputs(t *testing.T) {
	a := scoreFile(t, "a.jsonl", `{"id": "arc/1", "question": "q1", "score": 1, "llm": "org/a"}`)
	t.Run("same LLM twice", func(t *testing.T) {
		b := scoreFile(t, "b.jsonl", `{"id": "arc/1", "question": "q1", "score": 0, "llm": "org/b"}`)
		_, err := Merge([]Input{{Path: a}, {Path: b, LLM: "org/a"}}, MergeOptions{})
		mustFail(t, err, `"org/a" is given twice`, a, b)
	})
	t.Run("mixed LLMs", func(t *testing.T) {
		mixed := scoreFile(t, "mixed.jsonl",
			`{"id": "arc/1", "question": "q1", "score": 1, "llm": "org/a"}`,
			`{"id": "arc/2", "question": "q2", "score": 1, "llm": "org/b"}`)
		_, err := Merge([]Input{{Path: mixed}}, MergeOptions{})
		mustFail(t, err, mixed, "line 2", "one LLM")
	})
	t.Run("no LLM name", func(t *testing.T) {
		anon := scoreFile(t, "anon.jsonl", `{"id": "arc/1", "question": "q1", "score": 1}`)
		_, err := Merge([]Input{{Path: anon}}, MergeOptions{})
		mustFail(t, err, anon, "line 1", "NAME=")
	})
	t.Run("duplicate id", func(t *testing.T) {
		dup := scoreFile(t, "dup.jsonl",
			`{"id": "arc/1", "question": "q1", "score": 1, "llm": "org/d"}`,
			"",
			`{"id": "arc/2", "question": "q2", "score": 1, "llm": "org/d"}`,
			`{"id": "arc/1", "question": "q1", "score": 0, "llm": "org/d"}`)
		_, err := Merge([]Input{{Path: dup}}, MergeOptions{})
		mustFail(t, err, dup, "line 4", `"arc/1" repeats line 1`)
	})
	t.Run("question differs", func(t *testing.T) {
		other := scoreFile(t, "other.jsonl", `{"id": "arc/1", "question": "q1 ", "score": 1, "llm": "org/o"}`)
		_, err := Merge([]Input{{Path: a}, {Path: other}}, MergeOptions{})
		mustFail(t, err, `"arc/1"`, a, other)
	})
	t.Run("LLM order", func(t *testing.T) {
		b := scoreFile(t, "b.jsonl", `{"id": "arc/1", "question": "q1", "score": 0, "llm": "org/b"}`)
		in := []Input{{Path: a}, {Path: b}}
		for order, want := range map[string]string{
			"org/a,org/c":       `"org/c", which no input scores`,
			"org/a":             `leaves out "org/b"`,
			"org/a,org/b,org/a": `"org/a" twice`,
		} {
			_, err := Merge(in, MergeOptions{LLMOrder: strings.Split(order, ",")})
			mustFail(t, err, want)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		_, err := Merge([]Input{{Path: filepath.Join(t.TempDir(), "missing.jsonl")}}, MergeOptions{})
		mustFail(t, err, "missing.jsonl")
		_, err = Merge(nil, MergeOptions{})
		mustFail(t, err, "no score files")
	})
}

func TestMergeTaskFilter(t *testing.T) {
	a := scoreFile(t, "a.jsonl",
		`{"id": "mmlu/1", "question": "m1", "score": 1, "llm": "org/a"}`,
		`{"id": "gsm8k/1", "question": "g1", "score": 0.5, "llm": "org/a"}`,
		`{"id": "x", "question": "h1", "score": 0.2, "llm": "org/a", "task": "humaneval"}`)
	b := scoreFile(t, "b.jsonl",
		`{"id": "gsm8k/1", "question": "g1", "score": 0.1, "llm": "org/b"}`)
	m, err := Merge([]Input{{Path: a}, {Path: b}}, MergeOptions{Task: "gsm8k"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Rows) != 1 || m.Rows[0].ID != "gsm8k/1" || !slices.Equal(m.Rows[0].Scores, []float64{0.5, 0.1}) {
		t.Errorf("rows %+v, want only gsm8k/1", m.Rows)
	}
	m, err = Merge([]Input{{Path: a}}, MergeOptions{Task: "humaneval"})
	if err != nil || len(m.Rows) != 1 || m.Rows[0].ID != "x" {
		t.Errorf("task field: rows %+v, err %v", m.Rows, err)
	}
	_, err = Merge([]Input{{Path: a}, {Path: b}}, MergeOptions{Task: "mmlu"})
	mustFail(t, err, b, `no records of task "mmlu"`, "gsm8k")
}

func TestWriteDatasetChecksRows(t *testing.T) {
	m := &Merged{LLMs: []string{"a", "b"}, Rows: []Row{{ID: "t/1", Question: "q", Scores: []float64{1}}}}
	if err := m.WriteDataset(filepath.Join(t.TempDir(), "x.json")); err == nil {
		t.Error("a row with too few scores was written")
	}
	if err := (&Merged{LLMs: []string{"a"}}).WriteDataset(filepath.Join(t.TempDir(), "y.json")); err == nil {
		t.Error("an empty dataset was written")
	}
}
