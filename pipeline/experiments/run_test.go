package experiments

import (
	"encoding/csv"
	"os"
	"path/filepath"
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
	again, err := Run(d, Options{DataDir: dir, Out: out, Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	if again.Stages["evaluate"].Cached != 4 || again.Stages["train"] != nil {
		t.Errorf("second run: %+v", again.Stages)
	}
}
