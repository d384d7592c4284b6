package experiments

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

// TestTablesOnScoreRecords: a dataset in the `scores` format (the score
// records `routerdc score import` writes, one file per split holding every
// LLM) goes through a tables declaration to a table whose LLM rows match
// the records.
func TestTablesOnScoreRecords(t *testing.T) {
	dir := t.TempDir()
	llms := []string{"org/x", "org/y"}
	right := func(split string, i, k int) bool { return (i%2 == k) || (split == "test" && i%7 == 0) }
	for split, n := range map[string]int{"train": 120, "test": 40} {
		var lines []string
		for i := range n {
			for k, llm := range llms {
				score := 0.0
				if right(split, i, k) {
					score = 1
				}
				b, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("GSM8K/%d", i), "llm": llm, "task": "GSM8K", "score": score,
					"question": fmt.Sprintf("%s question %d: %s", split, i, []string{"add the apples", "divide the pies"}[i%2])})
				lines = append(lines, string(b))
			}
		}
		if err := os.WriteFile(filepath.Join(dir, split+".jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	decl := "name: records\nkind: dataset\nformat: scores\ntasks:\n  - {name: GSM8K, train: [train.jsonl], test: test.jsonl, metric: multi_attempt}\n"
	if err := os.WriteFile(filepath.Join(dir, "data.yaml"), []byte(decl), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Parse(filepath.Join(dir, "tables.yaml"), []byte(`name: records-tables
kind: tables
data: data.yaml
seeds: [1]
settings: "samples_per_task=0"
methods:
  - {name: kNN router, kind: ours, settings: "router=knn;knn_k=3", seed_free: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	out := runInDir(t, d, dir)
	rows := map[string][]string{}
	for _, r := range datatest.ReadCSV(t, filepath.Join(out, "tables", "records-tables-id.csv"))[1:] {
		rows[r[0]] = r
	}
	for k, llm := range llms {
		var want float64
		for i := range 40 {
			if right("test", i, k) {
				want += 100.0 / 40
			}
		}
		if got, err := strconv.ParseFloat(rows[llm][1], 64); err != nil || math.Abs(got-want) > 0.005 {
			t.Errorf("%s: table %q, records say %.2f", llm, rows[llm][1], want)
		}
	}
	if got, err := strconv.ParseFloat(rows["kNN router"][1], 64); err != nil || got < 90 {
		t.Errorf("kNN router on a split the question words decide: %q", rows["kNN router"][1])
	}
}
