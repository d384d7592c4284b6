package stages

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
	"github.com/routerdc-go/routerdc/pipeline/progress"
)

// TestUnitsSideBySide runs four units two at a time (run it with -race):
// two GoMLX trainings at once in one process, on one display whose log
// has one whole line per unit computed, and outcomes in the jobs' order.
func TestUnitsSideBySide(t *testing.T) {
	c, err := cache.Open(t.TempDir(), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	base := "router=routerdc;group=cluster;samples_per_task=40;steps=10;eval_every=5"
	methods := []Method{
		{Name: "lambda=0", Settings: []string{base + ";lambda=0"}},
		{Name: "lambda=1", Settings: []string{base + ";lambda=1"}},
	}
	var log bytes.Buffer
	disp := progress.New(&log, false, nil)
	outs, stats, err := Outcomes(Options{Data: datatest.RequireBuiltin(t), Seeds: []int64{1, 2}, Methods: methods,
		Cache: c, Jobs: 2, Progress: disp})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range methods {
		if o := outs[m.Name]; len(o) != 2 || o[0] == nil || o[0].Seed != 1 || o[1].Seed != 2 {
			t.Errorf("%s: outcomes %v, want seeds 1 and 2 in order", m.Name, o)
		}
	}
	if stats["train"].Ran != 4 || stats["evaluate"].Ran != 4 || stats["embed"].Ran+stats["embed"].Cached != 4 {
		t.Errorf("counters: %+v %+v %+v", stats["embed"], stats["train"], stats["evaluate"])
	}
	unit := regexp.MustCompile(`^\[\d+/\d+\] (embed|train|evaluate) lambda=[01], seed [12]: [0-9.]+ s(, ETA \S+)?$`)
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	n := 0
	for _, l := range lines {
		if unit.MatchString(l) {
			n++
		}
	}
	if want := 8 + stats["embed"].Ran; n != want {
		t.Errorf("%d unit lines, want %d:\n%s", n, want, log.String())
	}
}

// TestUnitsStopAtTheFirstError: a unit that fails as it runs stops the
// units after it from starting, and its error names it.
func TestUnitsStopAtTheFirstError(t *testing.T) {
	base := "router=routerdc;group=cluster;samples_per_task=40;steps=10;eval_every=5"
	var methods []Method
	for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
		m := Method{Name: name, Settings: []string{base}}
		if name == "b" { // too small a validation share for the smallest task: Prepare fails
			m.Settings = []string{base + ";val_fraction=0.0001"}
		}
		methods = append(methods, m)
	}
	_, stats, err := Outcomes(Options{Data: datatest.RequireBuiltin(t), Seeds: []int64{1}, Methods: methods, Jobs: 2})
	if err == nil || !strings.Contains(err.Error(), "b, seed 1: ") || !strings.Contains(err.Error(), "val_fraction") {
		t.Fatalf("error %v, want b's, naming it", err)
	}
	if stats != nil {
		t.Errorf("stats with an error: %v", stats)
	}
}
