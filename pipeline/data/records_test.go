package data

import (
	"strings"
	"testing"
)

func scoresDecl(extra string) string {
	return `name: sc
kind: dataset
format: scores
` + extra + `
tasks:
  - {name: T, train: [train.jsonl], test: test.json, metric: multi_attempt}
`
}

// A merged dataset, which `routerdc score merge` writes (the routerdc layout).
const mergedTest = "\n  [{\"question\": \"m\", \"scores\": {\"b\": 0.5, \"a\": 1}, \"costs\": {\"a\": 1, \"b\": 2}}]"

func TestLoadScoreRecords(t *testing.T) {
	recs := strings.Join([]string{
		`{"id": "t/1", "question": "one", "score": 1, "llm": "a", "task": "t", "cost": 0.5}`,
		`{"id": "t/2", "question": "two", "score": 0.25, "llm": "a", "cost": 0}`,
		``,
		`{"id": "t/2", "question": "two", "score": 0, "llm": "b", "cost": 2}`,
		`{"id": "t/1", "question": "one", "score": 0.5, "llm": "b", "cost": 1}`,
		`{"id": "t/3", "question": "three", "score": 1, "llm": "b", "cost": 1}`,
	}, "\n")
	c, err := declDir(t, scoresDecl("missing: drop"), map[string]string{"train.jsonl": recs, "test.json": mergedTest}).Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	// t/3 has no score of a: dropped.
	checkQueries(t, c.Tasks[0].Train[0], []string{"a", "b"}, []Query{
		{Question: "one", Scores: []float64{1, 0.5}, Costs: []float64{0.5, 1}, ClusterID: -1},
		{Question: "two", Scores: []float64{0.25, 0}, Costs: []float64{0, 2}, ClusterID: -1},
	})
	checkQueries(t, c.Tasks[0].Test, []string{"a", "b"}, []Query{
		{Question: "m", Scores: []float64{1, 0.5}, Costs: []float64{1, 2}, ClusterID: -1},
	})
	if c.Dropped["train.jsonl"] != 1 || !c.HasCosts {
		t.Errorf("dropped %v, costs %v", c.Dropped, c.HasCosts)
	}

	loadFails(t, declDir(t, scoresDecl(""), map[string]string{"train.jsonl": recs, "test.json": mergedTest}),
		`train.jsonl: id "t/3" (line 6): field "llm": no record of LLM "a" for this id`)
}

func TestLoadScoreRecordsErrors(t *testing.T) {
	rec := func(id, q, score, llm string) string {
		return `{"id": "` + id + `", "question": "` + q + `", "score": ` + score + `, "llm": "` + llm + `"}`
	}
	good := rec("t/1", "one", "1", "a")
	for _, c := range []struct{ name, in, want string }{
		{"duplicate id", good + "\n" + rec("t/2", "two", "0", "a") + "\n" + rec("t/1", "one", "0", "a"), `line 3: field "id": "t/1" repeats line 1 for LLM "a"`},
		{"score above 1", good + "\n" + rec("t/2", "two", "1.5", "a"), `line 2: field "score": 1.5 is outside [0,1]`},
		{"no llm", `{"id": "t/1", "question": "one", "score": 1}`, `line 1: field "llm": missing or empty`},
		{"null score", rec("t/1", "one", "null", "a"), `line 1: field "score": missing or null`},
		{"unknown field", `{"id": "t/1", "question": "one", "score": 1, "llm": "a", "scroe": 1}`, `line 1: not a score record`},
		{"other question", good + "\n" + rec("t/1", "uno", "1", "b"), `line 2: field "question": id "t/1" has a different question text on line 1`},
		{"cost on some only", `{"id": "t/1", "question": "one", "score": 1, "llm": "a", "cost": 1}` + "\n" + rec("t/2", "two", "1", "a"),
			`line 2: field "cost": present on some records only: line 1 has a cost`},
		{"negative cost", `{"id": "t/1", "question": "one", "score": 1, "llm": "a", "cost": -2}`, `line 1: field "cost": -2 is negative`},
		{"non-UTF-8", good + "\n" + rec("t/2", "tw\xffo", "1", "a"), `line 2: text is not valid UTF-8`},
		{"two values on a line", good + " " + good, `line 1: more than one JSON value`},
		{"only blank lines", "\n\n", "the file is empty"},
		{"after blank lines", "\n \n" + good + "\n" + rec("t/2", "two", "-1", "a"), `line 4: field "score": -1 is outside [0,1]`},
		{"merged dataset, bad", "[{\"question\": \"q\", \"scores\": {\"a\": 2}}]", `record 0: field "scores.a": score 2 is outside [0,1]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := declDir(t, scoresDecl(""), map[string]string{"train.jsonl": c.in, "test.json": mergedTest})
			loadFails(t, d, "train.jsonl: ", c.want)
		})
	}
}
