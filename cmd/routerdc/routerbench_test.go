package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
)

const rbExample = "../../notebooks/examples/routerbench"

// The committed RouterBench example (notebooks/examples/routerbench) runs
// end to end: its dataset declaration selects each task's rows from one CSV
// per split by eval_name, drops the rows with an empty score, and the table
// of the tables declaration has the LLM rows that the test CSV says,
// computed here without pipeline/data.
func TestRouterBenchExample(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	for _, f := range []string{"data.yaml", "train.csv", "test.csv"} {
		copyFile(t, filepath.Join(rbExample, f), filepath.Join(dir, f))
	}
	// The committed settings, with fewer training steps to keep the test
	// fast: what is checked does not depend on them.
	tables, err := os.ReadFile(filepath.Join(rbExample, "tables.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const steps = "steps=200;eval_every=50"
	if !strings.Contains(string(tables), steps) {
		t.Fatalf("tables.yaml no longer says %q; update this test", steps)
	}
	tables = []byte(strings.Replace(string(tables), steps, "steps=40;eval_every=20", 1))
	if err := os.WriteFile(filepath.Join(dir, "tables.yaml"), tables, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	_, stderr, err := run(t, bin, "", "run", "--out", out, "--cache", filepath.Join(dir, "cache"),
		filepath.Join(dir, "data.yaml"), filepath.Join(dir, "tables.yaml"))
	if err != nil {
		t.Fatalf("routerdc run: %v\n%s", err, stderr)
	}

	llms, tasks := rbExpected(t, filepath.Join(dir, "test.csv"))
	if !strings.Contains(stderr, "test.csv (eval_name winogrande): 1 queries dropped (missing scores)") {
		t.Errorf("the dropped row of test.csv is not reported:\n%s", stderr)
	}

	const header = "method,ARC-C,Winogrande,Avg,Cost"
	rows, order := readTable(t, filepath.Join(out, "tables", "routerbench-example-id.csv"), header)
	want := append(append([]string{}, llms...), "Oracle", "Random", "Best LLM per task (task oracle)",
		"RouterDC", "kNN router", "Task-level router")
	if strings.Join(order, "|") != strings.Join(want, "|") {
		t.Errorf("rows %v, want %v", order, want)
	}
	// check compares a cell with a value to the cell's printed precision.
	check := func(method string, col int, want float64) {
		t.Helper()
		cell := rows[method][col]
		got, err := strconv.ParseFloat(cell, 64)
		if err != nil || math.Abs(got-want) > printedTolerance(cell) {
			t.Errorf("%s, %s: table says %q, computed %g", method, strings.Split(header, ",")[col], cell, want)
		}
	}
	var minCost, maxCost float64 = math.Inf(1), 0
	for k, llm := range llms {
		var accSum, costSum float64
		for i, task := range tasks {
			check(llm, 1+i, task.acc[k])
			accSum += task.acc[k]
			costSum += task.cost[k]
		}
		check(llm, 3, accSum/2)
		check(llm, 4, costSum/2)
		minCost, maxCost = min(minCost, costSum/2), max(maxCost, costSum/2)
	}

	// The Cost cells are rounded to cents, so check the routers' costs at
	// full precision in the manifest: each lies between the cheapest and the
	// dearest LLM.
	b, err := os.ReadFile(filepath.Join(out, "tables", "routerbench-example-manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		Runs map[string][]struct {
			Seed int                `json:"seed"`
			Cost map[string]float64 `json:"cost"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	if n := len(man.Runs["RouterDC"]); n != 2 {
		t.Fatalf("RouterDC: %d runs in the manifest, want 2 seeds", n)
	}
	for _, r := range man.Runs["RouterDC"] {
		c := (r.Cost["ARC-C"] + r.Cost["Winogrande"]) / 2
		if !(c >= minCost && c <= maxCost) {
			t.Errorf("RouterDC seed %d: mean cost %g outside the LLMs' [%g, %g]", r.Seed, c, minCost, maxCost)
		}
	}
}

type rbTask struct {
	acc, cost []float64 // per LLM: accuracy in percent, mean cost per query
}

// rbExpected reads a RouterBench CSV with encoding/csv and returns its LLMs
// (in the file's order) and, for ARC-C (eval_name arc-challenge) and
// Winogrande, each LLM's accuracy (score > 0) and mean cost over the rows
// whose every score is present, as missing: drop leaves them.
func rbExpected(t *testing.T, path string) ([]string, []rbTask) {
	t.Helper()
	recs := datatest.ReadCSV(t, path)
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	var llms []string
	for _, h := range recs[0] {
		if _, ok := col[h+"|total_cost"]; ok {
			llms = append(llms, h)
		}
	}
	if len(llms) != 3 {
		t.Fatalf("%s: LLMs %v", path, llms)
	}
	var tasks []rbTask
	for _, eval := range []string{"arc-challenge", "winogrande"} {
		task := rbTask{acc: make([]float64, len(llms)), cost: make([]float64, len(llms))}
		n := 0
	rows:
		for _, r := range recs[1:] {
			if r[col["eval_name"]] != eval {
				continue
			}
			for _, l := range llms {
				if r[col[l]] == "" {
					continue rows
				}
			}
			n++
			for k, l := range llms {
				score, err1 := strconv.ParseFloat(r[col[l]], 64)
				cost, err2 := strconv.ParseFloat(r[col[l+"|total_cost"]], 64)
				if err1 != nil || err2 != nil {
					t.Fatalf("%s: row %v: %v %v", path, r[:2], err1, err2)
				}
				if score > 0 {
					task.acc[k]++
				}
				task.cost[k] += cost
			}
		}
		if n < 100 {
			t.Fatalf("%s: %d complete rows of %s", path, n, eval)
		}
		for k := range llms {
			task.acc[k] *= 100 / float64(n)
			task.cost[k] /= float64(n)
		}
		tasks = append(tasks, task)
	}
	return llms, tasks
}

// printedTolerance is half a unit in the last printed digit of a number
// ("52.50": 0.005; "6.8e-06": 5e-08), plus float noise.
func printedTolerance(cell string) float64 {
	mant, exp := cell, 0
	if i := strings.IndexAny(cell, "eE"); i >= 0 {
		mant = cell[:i]
		exp, _ = strconv.Atoi(cell[i+1:])
	}
	decimals := 0
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		decimals = len(mant) - i - 1
	}
	return 0.5*math.Pow(10, float64(exp-decimals)) + 1e-9
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The committed CSVs are what make.go writes: the example's data can be
// regenerated, and a change to make.go comes with its output.
func TestRouterBenchExampleIsGenerated(t *testing.T) {
	gen, err := filepath.Abs(filepath.Join(rbExample, "make.go"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "run", gen)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run make.go: %v\n%s", err, out)
	}
	for _, f := range []string{"train.csv", "test.csv"} {
		got, err1 := os.ReadFile(filepath.Join(dir, f))
		want, err2 := os.ReadFile(filepath.Join(rbExample, f))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what make.go writes; run `go run make.go` in %s", f, rbExample)
		}
	}
}
