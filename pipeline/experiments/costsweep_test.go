package experiments

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
)

// writeCostData writes a routerdc-format file with costs: three LLMs, the
// cheap one right on topic 0 only, the middle one on topics 0 and 1, the
// dear one on every topic.
func writeCostData(t *testing.T, path string, n int) {
	t.Helper()
	topics := []string{"rivers", "poems", "matrices"}
	var recs []map[string]any
	for i := range n {
		topic := i % 3
		scores := map[string]float64{"cheap": 0, "middle": 0, "dear": 1}
		if topic == 0 {
			scores["cheap"] = 1
		}
		if topic <= 1 {
			scores["middle"] = 1
		}
		recs = append(recs, map[string]any{
			"question": fmt.Sprintf("question %d about %s and %s", i, topics[topic], topics[topic]),
			"scores":   scores,
			"costs":    map[string]float64{"cheap": 1e-4, "middle": 1e-3, "dear": 1e-2},
		})
	}
	b, _ := json.Marshal(recs)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCostRateSweep: a cost_rate sweep of two methods on data with costs
// writes the sweep CSV with costs, each method's AIQ and the cost-accuracy
// figure, and a higher cost_rate routes to cheaper LLMs.
func TestCostRateSweep(t *testing.T) {
	dir := t.TempDir()
	writeCostData(t, filepath.Join(dir, "train.json"), 150)
	writeCostData(t, filepath.Join(dir, "test.json"), 60)
	decl := `name: costs
kind: dataset
llms: [cheap, middle, dear]
tasks:
  - {name: Topics, train: [train.json], test: test.json, metric: probability}
`
	if err := os.WriteFile(filepath.Join(dir, "data.yaml"), []byte(decl), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Parse(filepath.Join(dir, "sweep.yaml"), []byte(`name: cost-sweep
kind: sweep
data: data.yaml
seeds: [1]
settings: "samples_per_task=0;target=credit"
methods:
  - {name: kNN, settings: "router=knn;knn_k=5", seed_free: true}
  - {name: task-level, settings: "router=task", seed_free: true}
sweep: {param: cost_rate, values: [0, 30, 300]}
figure: cost-sweep.png
`))
	if err != nil {
		t.Fatal(err)
	}
	out := runInDir(t, d, dir)
	rows := datatest.ReadCSV(t, filepath.Join(out, "ablations", "cost-sweep.csv"))
	want := []string{"method", "cost_rate", "seeds", "id_mean", "id_std", "ood_mean", "ood_std", "all_mean", "cost_mean", "Topics"}
	if fmt.Sprint(rows[0]) != fmt.Sprint(want) || len(rows) != 7 {
		t.Fatalf("sweep CSV:\n%v", rows)
	}
	costAt := map[string]float64{}
	for _, r := range rows[1:] {
		costAt[r[0]+"@"+r[1]], _ = strconv.ParseFloat(r[8], 64)
	}
	// Without a cost the kNN router sends every query to an LLM that is
	// right; at cost_rate 300 (0.03 per query for the dear LLM, 0.3 per
	// 1e-3) it prefers the cheaper right ones.
	if !(costAt["kNN@300"] < costAt["kNN@0"]) {
		t.Errorf("kNN's cost did not fall as cost_rate rose: %v", costAt)
	}
	aiq := datatest.ReadCSV(t, filepath.Join(out, "ablations", "cost-sweep-aiq.csv"))
	if len(aiq) != 3 || aiq[0][1] != "aiq" || aiq[1][0] != "kNN" || aiq[2][0] != "task-level" {
		t.Fatalf("AIQ CSV: %v", aiq)
	}
	for _, r := range aiq[1:] {
		if v, err := strconv.ParseFloat(r[1], 64); err != nil || v <= 0 || v > 100 {
			t.Errorf("AIQ of %s: %q", r[0], r[1])
		}
	}
	if st, err := os.Stat(filepath.Join(out, "figures", "cost-sweep.png")); err != nil || st.Size() == 0 {
		t.Errorf("figure: %v", err)
	}
	if _, err := Parse("x.yaml", []byte("name: x\nkind: sweep\nseeds: [1]\nmethods: [{name: a, settings: \"router=knn\"}]\nsweep: {param: lambda, values: [1]}\n")); err == nil {
		t.Error("methods in a sweep of another setting than cost_rate accepted")
	}
}

// runInDir runs a declaration with a cache in dir and returns its --out,
// dir/results.
func runInDir(t *testing.T, d *Decl, dir string) string {
	t.Helper()
	c, err := cache.Open(filepath.Join(dir, "cache"), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := filepath.Join(dir, "results")
	if _, err := Run(d, Options{Out: out, Cache: c, Loaded: map[string]*data.Collection{}}); err != nil {
		t.Fatal(err)
	}
	return out
}
