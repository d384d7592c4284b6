package report

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
	"github.com/routerdc-go/routerdc/pipeline/engine"
	"github.com/routerdc-go/routerdc/pipeline/stages"
)

// TestReproduceShort is the integration test: a short RouterDC and a
// LoraRetriever on the real data, written as the paper's tables.
func TestReproduceShort(t *testing.T) {
	col := datatest.RequireBuiltin(t)
	out := t.TempDir()
	methods := []stages.Method{
		{Name: "RouterDC", Kind: KindRouterDC, Settings: []string{"router=routerdc;steps=150;eval_every=50;group=cluster"}},
		{Name: "LoraRetriever (clustering)", Kind: KindBaseline, Settings: []string{"router=lora"}},
	}
	man, err := RunTables("paper", stages.Options{Data: col, Out: out, Seeds: []int64{1}, Methods: methods})
	if err != nil {
		t.Fatal(err)
	}

	headers := map[string]string{
		"table1": "method,MMLU,GSM8K,CMMLU,ARC-C,HumanEval,Avg",
		"table2": "method,PreAlgebra,MBPP,C-EVAL,Avg",
	}
	for name, paper := range map[string]PaperTable{"table1": PaperTable1, "table2": PaperTable2} {
		recs := datatest.ReadCSV(t, filepath.Join(out, "tables", name+".csv"))
		if got := strings.Join(recs[0], ","); got != headers[name] {
			t.Errorf("%s header %q, want %q", name, got, headers[name])
		}
		rows := map[string][]string{}
		for _, r := range recs[1:] {
			rows[r[0]] = r
		}
		// Every candidate-LLM row is computed from the data and must equal
		// the paper's published value.
		for _, pr := range paper.Rows {
			if pr.Kind != KindLLM {
				continue
			}
			r, ok := rows[pr.Method]
			if !ok {
				t.Errorf("%s: no row %q", name, pr.Method)
				continue
			}
			for ci, col := range recs[0][1:] {
				got, _ := strconv.ParseFloat(r[ci+1], 64)
				if math.Abs(got-pr.Values[col]) > 0.01+1e-9 {
					t.Errorf("%s %s %s: ours %.2f, paper %.2f", name, pr.Method, col, got, pr.Values[col])
				}
			}
		}
		for _, m := range []string{"RouterDC", "LoraRetriever (clustering)", "Oracle", "Random"} {
			if _, ok := rows[m]; !ok {
				t.Errorf("%s: no row %q", name, m)
			}
		}
		md, err := os.ReadFile(filepath.Join(out, "tables", name+".md"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(md), "| method | encoder |") || !strings.Contains(string(md), "| RouterDC | hashed (encoder_bits=12) |") ||
			!strings.Contains(string(md), "| Oracle | — |") {
			t.Errorf("%s.md does not name each router row's encoder:\n%s", name, md)
		}
		// One seed is no mean and has no spread.
		if !strings.Contains(string(md), "Router rows: 1 seed (1).") || strings.Contains(string(md), "1 seeds") || strings.Contains(string(md), "± 0.00") {
			t.Errorf("%s.md on one seed:\n%s", name, md)
		}
		if _, err := os.Stat(filepath.Join(out, "tables", name+"_std.csv")); err != nil {
			t.Error(err)
		}
	}
	if sum, _ := os.ReadFile(filepath.Join(out, "tables", "summary.md")); !strings.HasPrefix(string(sum), "## Averages (seed 1;") || strings.Contains(string(sum), "±") {
		t.Errorf("summary.md on one seed:\n%s", sum)
	}
	// A router trained even briefly must beat random choice on average.
	run := man.Runs["RouterDC"][0]
	t1 := datatest.ReadCSV(t, filepath.Join(out, "tables", "table1.csv"))
	for _, r := range t1[1:] {
		if r[0] == "Random" {
			random, _ := strconv.ParseFloat(r[len(r)-1], 64)
			if run.IDAvg <= random {
				t.Errorf("RouterDC ID avg %.2f does not beat random %.2f", run.IDAvg, random)
			}
		}
	}
	if run.Training == nil || run.Training.Train == nil || len(run.Training.Train.Curve) != 3 {
		t.Errorf("manifest lacks the training curve: %+v", run.Training)
	}
	// The paper's tables come with their chart, listed in the manifest and
	// the index.
	if !slices.Contains(man.Figures, "figures/"+PaperFigure) {
		t.Errorf("manifest figures %v lack %s", man.Figures, PaperFigure)
	}
	if b, err := os.ReadFile(filepath.Join(out, "README.md")); err != nil || !strings.Contains(string(b), "figures/"+PaperFigure+") | Tables 1 and 2 as a chart") {
		t.Errorf("README.md does not list %s with its note (%v)", PaperFigure, err)
	}
}

// TestReproduceCache: a second run reuses every stage and writes the same
// bytes; a changed setting reruns only the units that depend on it.
func TestReproduceCache(t *testing.T) {
	col := datatest.RequireBuiltin(t)
	c, err := cache.Open(t.TempDir(), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	methods := []stages.Method{
		{Name: "RouterDC", Kind: KindRouterDC, Settings: []string{"router=routerdc;steps=40;eval_every=20;group=cluster"}},
		{Name: "Task-level router", Kind: "ours", Settings: []string{"router=task;target=credit"}, SeedFree: true},
	}
	run := func(out string, ms []stages.Method, mod func(*stages.Options)) *Manifest {
		t.Helper()
		opts := stages.Options{Data: col, Out: out, Seeds: []int64{1, 2}, Methods: ms, Cache: c, Baseline: "RouterDC"}
		if mod != nil {
			mod(&opts)
		}
		man, err := RunTables("paper", opts)
		if err != nil {
			t.Fatal(err)
		}
		return man
	}
	out1, out2 := t.TempDir(), t.TempDir()
	cold := run(out1, methods, nil)
	if cold.Stages["train"].Ran != 3 || cold.Stages["evaluate"].Ran != 3 {
		t.Fatalf("cold run stages: train %+v evaluate %+v", cold.Stages["train"], cold.Stages["evaluate"])
	}
	warm := run(out2, methods, nil)
	if warm.Stages["evaluate"].Cached != 3 || warm.Stages["train"] != nil && warm.Stages["train"].Ran != 0 {
		t.Fatalf("warm run recomputed: %+v", warm.Stages)
	}
	// A cold rerun without the cache trains again: its manifest (losses
	// included) must be the same bytes too, as a committed manifest stays
	// clean after a rerun.
	out3 := t.TempDir()
	if _, err := RunTables("paper", stages.Options{Data: col, Out: out3, Seeds: []int64{1, 2}, Methods: methods, Baseline: "RouterDC"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tables/table1.csv", "tables/table2.md", "tables/table1_std.csv", "tables/summary.md",
		"README.md", "figures/score-gap.png", "figures/routing-heatmap.png", "figures/training-curves.png", "manifest.json"} {
		a, _ := os.ReadFile(filepath.Join(out1, f))
		b, _ := os.ReadFile(filepath.Join(out2, f))
		c, _ := os.ReadFile(filepath.Join(out3, f))
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("%s differs between the cold and the warm run", f)
		}
		if string(a) != string(c) {
			t.Errorf("%s differs between two cold runs", f)
		}
	}
	// The run's own facts are in the run log beside the manifest, which
	// ReadManifest reads back.
	m, err := ReadManifest(filepath.Join(out2, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Timings["total"] <= 0 || m.Stages["evaluate"] == nil || m.Stages["evaluate"].Cached != 3 {
		t.Errorf("the run log was not read back: timings %v stages %v", m.Timings, m.Stages)
	}
	var buf strings.Builder
	changed := []stages.Method{methods[0], {Name: methods[1].Name, Kind: "ours", Settings: []string{"router=task;target=score"}, SeedFree: true}}
	plan := run(t.TempDir(), changed, func(o *stages.Options) { o.DryRun, o.DryRunOut = true, &buf })
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		changed := strings.Contains(line, "Task-level router") && !strings.HasPrefix(line, "embed")
		if changed != strings.Contains(line, "not cached: would run") {
			t.Errorf("dry run after changing one method's setting: %q", line)
		}
	}
	again := run(t.TempDir(), changed, nil)
	if again.Stages["train"].Ran != 1 || again.Stages["evaluate"].Cached != 2 {
		t.Errorf("changing one setting: stages %+v %+v, want 1 train run and 2 cached evaluations", again.Stages["train"], again.Stages["evaluate"])
	}
	// The dry run counts what the run then did (what the progress's total is).
	for _, st := range []string{"train", "evaluate"} {
		if p, r := plan.Stages[st], again.Stages[st]; p == nil || p.Ran != r.Ran || p.Cached != r.Cached {
			t.Errorf("stage %s: the dry run counted %+v, the run did %+v", st, p, r)
		}
	}
	// --only evaluate --force recomputes just the evaluations from the
	// cached routers; a dry run on a warm cache writes nothing.
	only, err := RunTables("paper", stages.Options{Data: col, Out: t.TempDir(), Seeds: []int64{1}, Methods: methods, Cache: c, Only: "evaluate", Force: true, Baseline: "RouterDC"})
	if err != nil {
		t.Fatal(err)
	}
	if only.Stages["evaluate"].Ran != 2 || only.Stages["train"].Cached != 2 || only.Stages["train"].Ran != 0 {
		t.Errorf("--only evaluate --force: train %+v evaluate %+v", only.Stages["train"], only.Stages["evaluate"])
	}
	dryOut := t.TempDir()
	buf.Reset()
	run(dryOut, methods, func(o *stages.Options) { o.DryRun, o.DryRunOut = true, &buf })
	if entries, _ := os.ReadDir(dryOut); len(entries) != 0 || !strings.Contains(buf.String(), "cached") {
		t.Errorf("dry run on a warm cache wrote %v / printed %q", entries, buf.String())
	}
	// The keys the plan prints are the keys of the entries the runs used.
	for stage, n := range map[string]int{"embed": 1, "train": 3, "evaluate": 3} {
		keys := engine.PlannedKeys(buf.String(), stage)
		if len(keys) != n {
			t.Errorf("plan names %d %s keys, want %d:\n%s", len(keys), stage, n, buf.String())
		}
		for _, k := range keys {
			if m, _ := filepath.Glob(filepath.Join(c.Dir, stage, k[:2], k+"*", "entry.json")); len(m) != 1 {
				t.Errorf("plan's %s key %s is not an entry of the run", stage, k)
			}
		}
	}
	if _, err := RunTables("paper", stages.Options{Data: col, Out: t.TempDir(), Seeds: []int64{9}, Methods: methods, Cache: c, Only: "report"}); err == nil {
		t.Error("--only report with nothing evaluated for seed 9 succeeded")
	}
}
