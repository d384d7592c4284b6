package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
)

// The e2e test's benchmark: MMLU-style questions on three topics, each
// topic answered right by one LLM only, so a router can learn the topic.
var (
	e2eTopics = []string{"volcanoes", "sonnets", "integrals"}
	e2eLLMs   = []string{"org/a", "org/b", "org/c"}
)

// e2eDoc is document i of a split: its question row and, per LLM, the
// option log-likelihoods the LLM gives. LLM k is right (argmax at the
// answer) on topic k, and also on every 5th document of the others.
func e2eDoc(split string, i int) (row map[string]any, lls [3][4]float64) {
	topic := i % 3
	answer := (i / 3) % 4
	row = map[string]any{
		"question": fmt.Sprintf("(%s %d) A question about %s: which option is right?", split, i, e2eTopics[topic]),
		"choices":  []string{"first", "second", "third", "fourth"},
		"answer":   answer,
	}
	for k := range e2eLLMs {
		right := k == topic || i%5 == 0
		pick := answer
		if !right {
			pick = (answer + 1 + k) % 4
		}
		for j := range 4 {
			lls[k][j] = -3 - 0.1*float64(j)
		}
		lls[k][pick] = -0.2 - 0.05*float64(k)
	}
	return row, lls
}

// e2eScore is RouterDC's multiple-choice score, computed here from the
// log-likelihoods independently of the scoring code.
func e2eScore(ll [4]float64, target int) float64 {
	best := 0
	for j := range ll {
		if ll[j] > ll[best] {
			best = j
		}
	}
	if best != target {
		return 0
	}
	var z float64
	for _, v := range ll {
		z += math.Exp(v)
	}
	return math.Exp(ll[target]) / z
}

// writeE2ELogs writes each lm-eval LLM's log of a split (v0.4.0-0.4.2
// layout, one JSON array) and the split's rows for the API scorer.
func writeE2ELogs(t *testing.T, dir, split string, n int, skew float64) {
	t.Helper()
	var rows []string
	docs := make([][]map[string]any, 2)
	for i := range n {
		row, lls := e2eDoc(split, i)
		b, _ := json.Marshal(row)
		rows = append(rows, string(b))
		for k := range 2 {
			var args, resps []any
			for j, l := range []string{" A", " B", " C", " D"} {
				args = append(args, []any{"ctx\nAnswer:", l})
				v := lls[k][j]
				if k == 0 && j == 0 {
					v += skew // a changed log for org/a
				}
				resps = append(resps, []any{[]any{v, false}})
			}
			docs[k] = append(docs[k], map[string]any{"doc_id": i, "target": row["answer"], "arguments": args,
				"resps": resps, "filtered_resps": resps, "doc": row})
		}
	}
	for k, name := range []string{"a", "b"} {
		b, _ := json.Marshal(docs[k])
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s_%s.json", name, split)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, split+"_rows.jsonl"), []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestScoresToTables: lm-eval logs of two LLMs and a third LLM scored
// through an in-test OpenAI-compatible server go, in one `routerdc run` with
// one cache, through a scoring declaration, a dataset declaration and a
// tables declaration to a table whose LLM rows are computed here
// independently; a changed log then reruns only what depends on it.
func TestScoresToTables(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	const nTrain, nTest = 96, 45
	writeE2ELogs(t, dir, "train", nTrain, 0)
	writeE2ELogs(t, dir, "test", nTest, 0)
	srv := echoServer(t, func(ctx, opt string) float64 {
		// The API LLM is org/c: find the document by its question text.
		for _, split := range []string{"train", "test"} {
			n := map[string]int{"train": nTrain, "test": nTest}[split]
			for i := range n {
				row, lls := e2eDoc(split, i)
				if strings.Contains(ctx, row["question"].(string)) {
					return lls[2][opt[1]-'A'] // opt is " A" .. " D"
				}
			}
		}
		t.Errorf("unknown question in %q", ctx)
		return -10
	})
	defer srv.Close()
	scores := fmt.Sprintf(`name: e2e-scores
kind: scores
out: datasets
llms: [org/a, org/b, org/c]
sources:
  - {llm: org/a, task: MMLU, split: train, from: lm-eval, files: [a_train.json]}
  - {llm: org/a, task: MMLU, split: test, from: lm-eval, files: [a_test.json]}
  - {llm: org/b, task: MMLU, split: train, from: lm-eval, files: [b_train.json]}
  - {llm: org/b, task: MMLU, split: test, from: lm-eval, files: [b_test.json]}
  - {llm: org/c, task: MMLU, split: train, from: api, endpoint: %q, input: train_rows.jsonl, mc_method: echo}
  - {llm: org/c, task: MMLU, split: test, from: api, endpoint: %q, input: test_rows.jsonl, mc_method: echo}
datasets:
  - {task: MMLU, split: train, file: train/mmlu.json}
  - {task: MMLU, split: test, file: test/mmlu.json}
`, srv.URL, srv.URL)
	dataset := `name: e2e
kind: dataset
tasks:
  - {name: MMLU, train: [datasets/train/mmlu.json], test: datasets/test/mmlu.json, metric: probability}
`
	tables := `name: e2e-tables
kind: tables
data: e2e
seeds: [1]
settings: "steps=60;eval_every=20;lambda=0;samples_per_task=0;batch_size=32"
methods:
  - {name: RouterDC, kind: routerdc, settings: "router=routerdc"}
  - {name: kNN router, kind: ours, settings: "router=knn;knn_k=5", seed_free: true}
`
	for name, text := range map[string]string{"scores.yaml": scores, "data.yaml": dataset, "tables.yaml": tables} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, cacheDir := filepath.Join(dir, "results"), filepath.Join(dir, "cache")
	runAll := func() string {
		t.Helper()
		_, stderr, err := run(t, bin, "", "run", "--out", out, "--cache", cacheDir,
			filepath.Join(dir, "scores.yaml"), filepath.Join(dir, "data.yaml"), filepath.Join(dir, "tables.yaml"))
		if err != nil {
			t.Fatalf("routerdc run: %v\n%s", err, stderr)
		}
		return stderr
	}
	first := runAll()

	rows, order := readTable(t, filepath.Join(out, "tables", "e2e-tables-id.csv"), "method,MMLU,Avg")
	wantOrder := []string{"org/a", "org/b", "org/c", "Oracle", "Random", "Best LLM per task (task oracle)", "RouterDC", "kNN router"}
	if strings.Join(order, "|") != strings.Join(wantOrder, "|") {
		t.Errorf("rows %v, want %v", order, wantOrder)
	}
	// Each LLM's accuracy, the oracle and random, from the log-likelihoods.
	var acc [3]float64
	var oracle, random float64
	for i := range nTest {
		row, lls := e2eDoc("test", i)
		anyRight := false
		for k := range 3 {
			if e2eScore(lls[k], row["answer"].(int)) > 0 {
				acc[k] += 100.0 / nTest
				random += 100.0 / nTest / 3
				anyRight = true
			}
		}
		if anyRight {
			oracle += 100.0 / nTest
		}
	}
	check := func(method string, want float64) {
		t.Helper()
		got, err := strconv.ParseFloat(rows[method][1], 64)
		if err != nil || math.Abs(got-want) > 0.005+1e-9 {
			t.Errorf("%s: table says %q, computed %.2f", method, rows[method][1], want)
		}
	}
	for k, llm := range e2eLLMs {
		check(llm, acc[k])
	}
	check("Oracle", oracle)
	check("Random", random)
	for _, m := range []string{"RouterDC", "kNN router"} {
		if v, err := strconv.ParseFloat(rows[m][1], 64); err != nil || v < 0 || v > 100 {
			t.Errorf("%s: %q", m, rows[m][1])
		}
	}
	if _, err := os.Stat(filepath.Join(out, "tables", "e2e-tables-ood.csv")); !os.IsNotExist(err) {
		t.Errorf("an OOD table for a dataset without OOD tasks: %v", err)
	}
	if !strings.Contains(first, "score: 0 cached, 6 ran") {
		t.Errorf("first run's scoring: %s", first)
	}

	// A second run computes nothing; a changed train log of org/a rescores
	// that source only, and retrains on the changed dataset.
	second := runAll()
	if !strings.Contains(second, "score: 6 cached, 0 ran") || !strings.Contains(second, "evaluate: 0 ran, 2 cached") ||
		strings.Contains(second, "train:") {
		t.Errorf("warm run recomputed:\n%s", second)
	}
	writeE2ELogs(t, dir, "train", nTrain, -0.01)
	third := runAll()
	if !strings.Contains(third, "score: 5 cached, 1 ran") || !strings.Contains(third, "train: 2 ran, 0 cached") {
		t.Errorf("after changing a_train.json:\n%s", third)
	}
}

// readTable reads a table the report stage wrote, checks its header, and
// returns its rows by method and the methods in row order.
func readTable(t *testing.T, path, header string) (map[string][]string, []string) {
	t.Helper()
	recs := datatest.ReadCSV(t, path)
	if got := strings.Join(recs[0], ","); got != header {
		t.Fatalf("%s: header %q, want %q", path, got, header)
	}
	rows := map[string][]string{}
	var order []string
	for _, r := range recs[1:] {
		rows[r[0]] = r
		order = append(order, r[0])
	}
	return rows, order
}
