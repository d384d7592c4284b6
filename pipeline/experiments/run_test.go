package experiments

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
)

// TestSweepRun runs a small declared sweep twice: the CSV has one row per
// cell with seeds and averages, and the second run is served from the cache.
func TestSweepRun(t *testing.T) {
	dir := datatest.RequireDir(t)
	d, err := Parse("tiny.yaml", []byte(`
name: tiny
kind: sweep
seeds: [1, 2]
settings: "router=routerdc;steps=30;eval_every=10;group=cluster"
sweep:
  param: lambda
  values: [0, 1]
`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.Open(t.TempDir(), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := t.TempDir()
	res, err := Run(d, Options{DataDir: dir, Out: out, Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stages["train"].Ran != 4 {
		t.Errorf("train stage ran %d times, want 4 (2 values x 2 seeds)", res.Stages["train"].Ran)
	}
	f, err := os.Open(filepath.Join(out, "ablations", "tiny.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || !strings.HasPrefix(strings.Join(recs[0], ","), "lambda,seeds,id_mean,id_std,ood_mean,ood_std,MMLU") {
		t.Fatalf("sweep CSV: %v", recs)
	}
	if recs[1][0] != "0" || recs[1][1] != "2" || recs[1][2] == recs[2][2] && recs[1][4] == recs[2][4] {
		t.Errorf("rows %v and %v: lambda 0 and 1 should differ", recs[1], recs[2])
	}
	manifest := filepath.Join(out, "ablations", "tiny.manifest.json")
	first, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Run(d, Options{DataDir: dir, Out: out, Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	if again.Stages["evaluate"].Cached != 4 || again.Stages["train"] != nil {
		t.Errorf("second run: %+v", again.Stages)
	}
	// The manifest holds what the declaration and code determine: a rerun
	// writes the same bytes (a committed one stays clean); the run's
	// timings and cache hits go to the run log beside it.
	if second, _ := os.ReadFile(manifest); string(second) != string(first) {
		t.Errorf("the manifest changed on a warm rerun:\n%s\n---\n%s", first, second)
	}
	if _, err := os.Stat(filepath.Join(out, "ablations", "tiny.manifest.run.json")); err != nil {
		t.Errorf("no run log: %v", err)
	}
	if !slices.Contains(again.Written, filepath.Join(out, "README.md")) {
		t.Errorf("outputs %v do not list the index README.md it rewrote", again.Written)
	}
}

// TestOneSeedSweepHasNoStd: a sweep over one seed has no spread; its std
// cells are empty rather than a misleading 0.00.
func TestOneSeedSweepHasNoStd(t *testing.T) {
	d := &Decl{Name: "one", Seeds: []int64{1}, Sweep: &SweepDecl{Param: "lambda", Values: []string{"0"}}}
	for seeds, want := range map[int]string{1: "0,1,55.00,,44.00,", 2: "0,2,55.50,0.71,44.50,0.71"} {
		pt := SweepPoint{Value: "0", Tasks: map[string][]float64{}}
		for i := range seeds {
			pt.ID, pt.OOD = append(pt.ID, 55+float64(i)), append(pt.OOD, 44+float64(i))
		}
		r := &SweepResult{Decl: d, Points: []SweepPoint{pt}}
		rows := strings.Split(strings.TrimSpace(string(r.CSV())), "\n")
		if len(rows) != 2 || rows[1] != want {
			t.Errorf("%d seeds: CSV %q, want row %q", seeds, rows, want)
		}
	}
	if got := overSeeds("mean", []int64{1}); got != "seed 1" {
		t.Errorf("title note for 1 seed: %q", got)
	}
}
