package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/cache"
)

var toy = MustGraph(
	Stage{Name: "a", Version: "a-1", Params: []string{"x"}, Outputs: []string{"a.txt"}},
	Stage{Name: "b", Version: "b-1", Inputs: []string{"a"}, Params: []string{"y"}, Outputs: []string{"b.txt"}},
)

func TestGraphRejectsBadDeclarations(t *testing.T) {
	for name, stages := range map[string][]Stage{
		"twice":      {{Name: "a", Version: "1"}, {Name: "a", Version: "1"}},
		"undeclared": {{Name: "b", Version: "1", Inputs: []string{"a"}}},
		"no version": {{Name: "a"}},
	} {
		if _, err := NewGraph(stages...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestNodeKeyFollowsTheDeclaration(t *testing.T) {
	a1, err := toy.Node("a", "one", map[string]any{"x": 1})
	if err != nil {
		t.Fatal(err)
	}
	a1again, _ := toy.Node("a", "other label", map[string]any{"x": 1})
	a2, _ := toy.Node("a", "two", map[string]any{"x": 2})
	if a1.Key != a1again.Key {
		t.Error("the label changed the key")
	}
	if a1.Key == a2.Key {
		t.Error("a parameter did not change the key")
	}
	b1, _ := toy.Node("b", "b", map[string]any{"y": 0}, a1)
	b2, _ := toy.Node("b", "b", map[string]any{"y": 0}, a2)
	bNone, _ := toy.Node("b", "b", map[string]any{"y": 0})
	if b1.Key == b2.Key || b1.Key == bNone.Key {
		t.Error("an input's key did not change the key")
	}
	other := MustGraph(Stage{Name: "a", Version: "a-2", Params: []string{"x"}})
	if a1v2, _ := other.Node("a", "one", map[string]any{"x": 1}); a1v2.Key == a1.Key {
		t.Error("the version did not change the key")
	}
	for name, f := range map[string]func() error{
		"missing param": func() error { _, err := toy.Node("a", "", map[string]any{}); return err },
		"extra param":   func() error { _, err := toy.Node("a", "", map[string]any{"x": 1, "z": 2}); return err },
		"unknown stage": func() error { _, err := toy.Node("c", "", nil); return err },
		"wrong input":   func() error { _, err := toy.Node("a", "", map[string]any{"x": 1}, b1); return err },
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// run computes b over a with x and y, counting what ran.
func run(t *testing.T, o Options, x, y int) (*Engine, string) {
	t.Helper()
	e, err := New(toy, o)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := toy.Node("a", "a", map[string]any{"x": x})
	b, _ := toy.Node("b", "b", map[string]any{"y": y}, a)
	if o.DryRun {
		e.Plan(b)
		return e, ""
	}
	text := Step[string]{
		Save: func(dir, v string) error { return os.WriteFile(filepath.Join(dir, "out.txt"), []byte(v), 0o644) },
		Load: func(dir string) (string, error) {
			b, err := os.ReadFile(filepath.Join(dir, "out.txt"))
			return string(b), err
		},
	}
	stepA, stepB := text, text
	stepA.Run = func() (string, error) { return strings.Repeat("a", x), nil }
	stepB.Run = func() (string, error) {
		va, err := Do(e, a, stepA)
		return va + strings.Repeat("b", y), err
	}
	if e.StopAfter("a") {
		v, err := Do(e, a, stepA)
		if err != nil {
			t.Fatal(err)
		}
		return e, v
	}
	v, err := Do(e, b, stepB)
	if err != nil {
		t.Fatal(err)
	}
	return e, v
}

func TestDoCachesForcesAndPlans(t *testing.T) {
	c, err := cache.Open(t.TempDir(), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e, v := run(t, Options{Cache: c}, 2, 3)
	if v != "aabbb" || e.Stats["a"].Ran != 1 || e.Stats["b"].Ran != 1 {
		t.Fatalf("cold: %q %s", v, e.StatsLine())
	}
	// Warm: b comes from the cache and a is not even read.
	e, v = run(t, Options{Cache: c}, 2, 3)
	if v != "aabbb" || e.Stats["b"].Cached != 1 || e.Stats["a"] != nil {
		t.Fatalf("warm: %q %s", v, e.StatsLine())
	}
	// A changed parameter of b reruns b only.
	e, _ = run(t, Options{Cache: c}, 2, 4)
	if e.Stats["b"].Ran != 1 || e.Stats["a"].Cached != 1 {
		t.Fatalf("changed y: %s", e.StatsLine())
	}
	e, _ = run(t, Options{Cache: c, Force: true}, 2, 3)
	if e.Stats["b"].Ran != 1 || e.Stats["a"].Ran != 1 {
		t.Fatalf("--force: %s", e.StatsLine())
	}
	// --only b --force recomputes b from the cached a.
	e, _ = run(t, Options{Cache: c, Force: true, Only: "b"}, 2, 3)
	if e.Stats["b"].Ran != 1 || e.Stats["a"].Cached != 1 {
		t.Fatalf("--only b --force: %s", e.StatsLine())
	}
	// --only b cannot compute a stage before b.
	e2, _ := New(toy, Options{Cache: c, Only: "b"})
	a9, _ := toy.Node("a", "a9", map[string]any{"x": 9})
	if _, err := Do(e2, a9, Step[string]{Run: func() (string, error) { return "", nil }}); err == nil || !strings.Contains(err.Error(), "--only b") {
		t.Errorf("--only b computed an uncached a: %v", err)
	}
	// The plan's keys are the entries' keys, and say what is cached.
	var plan bytes.Buffer
	run(t, Options{Cache: c, DryRun: true, DryRunOut: &plan}, 2, 5)
	if !strings.Contains(plan.String(), "params:  y") || strings.Count(plan.String(), "not cached: would run") != 1 {
		t.Errorf("plan:\n%s", plan.String())
	}
	run(t, Options{Cache: c}, 2, 5)
	for _, st := range []string{"a", "b"} {
		keys := PlannedKeys(plan.String(), st)
		if len(keys) != 1 {
			t.Fatalf("plan has %d %s keys:\n%s", len(keys), st, plan.String())
		}
		if m, _ := filepath.Glob(filepath.Join(c.Dir, st, keys[0][:2], keys[0]+"*", "entry.json")); len(m) != 1 {
			t.Errorf("plan's %s key %s is not an entry", st, keys[0])
		}
	}
	if _, err := New(toy, Options{Only: "nope", Cache: c}); err == nil {
		t.Error("--only of an unknown stage accepted")
	}
	if _, err := New(toy, Options{Only: "b"}); err == nil {
		t.Error("--only without a cache accepted")
	}
}

func TestPartialIsRemovedOnceStored(t *testing.T) {
	c, err := cache.Open(t.TempDir(), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e, _ := New(toy, Options{Cache: c})
	a, _ := toy.Node("a", "a", map[string]any{"x": 1})
	var partial string
	_, err = Do(e, a, Step[int]{
		Run: func() (int, error) {
			dir, err := e.Partial(a)
			partial = dir
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, "state"), []byte("x"), 0o644)
			}
			return 1, err
		},
		Save: func(string, int) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("resume state %s left after the entry was stored", partial)
	}
}

// TestStageSecondsAreExclusive: a stage that pulls another is not charged
// for the other's time.
func TestStageSecondsAreExclusive(t *testing.T) {
	e, _ := New(toy, Options{})
	a, _ := toy.Node("a", "a", map[string]any{"x": 1})
	b, _ := toy.Node("b", "b", map[string]any{"y": 1}, a)
	_, err := Do(e, b, Step[int]{Run: func() (int, error) {
		_, err := Do(e, a, Step[int]{Run: func() (int, error) { time.Sleep(300 * time.Millisecond); return 1, nil }})
		time.Sleep(50 * time.Millisecond)
		return 2, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	if sa, sb := e.Stats["a"].Seconds, e.Stats["b"].Seconds; sa < 0.3 || sb < 0.05 || sb > 0.25 {
		t.Errorf("a %.3f s (slept 0.3), b %.3f s (slept 0.05 of its own)", sa, sb)
	}
}

// tracker records the units the engine reports.
type tracker struct {
	bytes.Buffer
	events []string
}

func (r *tracker) StartUnit(stage, label string) { r.events = append(r.events, "start "+stage) }
func (r *tracker) EndUnit(stage string, seconds float64, ok bool) {
	r.events = append(r.events, "end "+stage)
}

// TestCountMatchesTheRun: a dry run's counters are what the run then does,
// cold, warm and with one parameter changed, and every unit computed is
// reported to the progress display, the nested one inside its caller.
func TestCountMatchesTheRun(t *testing.T) {
	c, err := cache.Open(t.TempDir(), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		name   string
		x, y   int
		events string
	}{
		{"cold", 2, 3, "start b,start a,end a,end b"},
		{"warm", 2, 3, ""},
		{"changed y", 2, 4, "start b,end b"},
	} {
		plan, _ := New(toy, Options{Cache: c, DryRun: true, DryRunOut: &bytes.Buffer{}})
		a, _ := toy.Node("a", "a", map[string]any{"x": tc.x})
		b, _ := toy.Node("b", "b", map[string]any{"y": tc.y}, a)
		plan.Count(b)
		tr := &tracker{}
		e, _ := run(t, Options{Cache: c, Progress: tr}, tc.x, tc.y)
		for _, st := range []string{"a", "b"} {
			p, r := plan.Stat(st), e.Stat(st)
			if p.Ran != r.Ran || p.Cached != r.Cached {
				t.Errorf("%s: stage %s planned %d ran/%d cached, the run did %d/%d", tc.name, st, p.Ran, p.Cached, r.Ran, r.Cached)
			}
		}
		if got := strings.Join(tr.events, ","); got != tc.events {
			t.Errorf("%s: units reported %q, want %q", tc.name, got, tc.events)
		}
	}
	if run, cached := Planned(map[string]*Stats{"a": {Ran: 2, Cached: 1}, "b": {Ran: 1}}); run != 3 || cached != 1 {
		t.Errorf("Planned: %d run, %d cached", run, cached)
	}
}
