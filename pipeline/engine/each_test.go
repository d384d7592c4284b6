package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/cache"
)

// sharedRun runs 8 units of b (y = i%2) over one a, jobs at a time, each
// Run sleeping so that units overlap: it returns each unit's value, the
// stage counters and how often each stage's Run was called.
func sharedRun(t *testing.T, c *cache.Store, jobs int) ([]string, map[string]Stats, map[string]int) {
	t.Helper()
	e, err := New(toy, Options{Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := toy.Node("a", "a", map[string]any{"x": 1})
	var runsA, runsB atomic.Int32
	text := func(stage string, runs *atomic.Int32, run func(f *Engine) (string, error)) func(f *Engine) Step[string] {
		return func(f *Engine) Step[string] {
			return Step[string]{
				Run: func() (string, error) {
					runs.Add(1)
					time.Sleep(20 * time.Millisecond)
					return run(f)
				},
				Save: func(dir, v string) error { return os.WriteFile(filepath.Join(dir, stage), []byte(v), 0o644) },
				Load: func(dir string) (string, error) {
					b, err := os.ReadFile(filepath.Join(dir, stage))
					return string(b), err
				},
			}
		}
	}
	stepA := text("a", &runsA, func(*Engine) (string, error) { return "a", nil })
	out := make([]string, 8)
	err = e.Each(len(out), jobs, func(i int, f *Engine) error {
		b, _ := toy.Node("b", "b"+strconv.Itoa(i), map[string]any{"y": i % 2}, a)
		v, err := Do(f, b, text("b", &runsB, func(f *Engine) (string, error) {
			va, err := Do(f, a, stepA(f))
			return va + "+b" + strconv.Itoa(i%2), err
		})(f))
		out[i] = v
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	stats := map[string]Stats{}
	for st, s := range e.Stats {
		stats[st] = Stats{Ran: s.Ran, Cached: s.Cached}
	}
	return out, stats, map[string]int{"a": int(runsA.Load()), "b": int(runsB.Load())}
}

// TestEachComputesASharedNodeOnce: units run at once that need the same
// node compute it once and load it from the cache, and the values, the
// counters and the work done are those of the units run one at a time.
func TestEachComputesASharedNodeOnce(t *testing.T) {
	var want []string
	var wantStats map[string]Stats
	for _, jobs := range []int{1, 4} {
		c, err := cache.Open(t.TempDir(), time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, stats, runs := sharedRun(t, c, jobs)
		c.Close()
		if runs["a"] != 1 || runs["b"] != 2 {
			t.Errorf("jobs %d: a ran %d times and b %d, want 1 and 2", jobs, runs["a"], runs["b"])
		}
		if want == nil {
			want, wantStats = out, stats
			if want[0] != "a+b0" || want[7] != "a+b1" {
				t.Fatalf("values %v", want)
			}
			continue
		}
		if !slices.Equal(out, want) || fmt.Sprint(stats) != fmt.Sprint(wantStats) {
			t.Errorf("jobs %d: %v %v, one at a time: %v %v", jobs, out, stats, want, wantStats)
		}
	}
}

// TestEachWithoutACacheComputesPerUnit: without a cache nothing is shared,
// so each unit computes what it needs, at once or not.
func TestEachWithoutACacheComputesPerUnit(t *testing.T) {
	_, stats, runs := sharedRun(t, nil, 4)
	if runs["a"] != 8 || runs["b"] != 8 || stats["a"].Ran != 8 || stats["b"].Ran != 8 {
		t.Errorf("runs %v, counters %v: want 8 of each", runs, stats)
	}
}

// TestEachStopsAtTheFirstError: after a failure no further call starts,
// the error returned is the first failed call's in index order (not the
// first to fail in time), and no goroutine is left.
func TestEachStopsAtTheFirstError(t *testing.T) {
	e, _ := New(toy, Options{})
	before := runtime.NumGoroutine()
	var mu sync.Mutex
	var started []int
	err := e.Each(40, 3, func(i int, f *Engine) error {
		if f == e {
			t.Error("a call ran on the engine itself, not on a fork")
		}
		mu.Lock()
		started = append(started, i)
		mu.Unlock()
		switch i {
		case 5:
			time.Sleep(50 * time.Millisecond)
			return errors.New("unit 5 failed")
		case 6:
			return errors.New("unit 6 failed")
		}
		time.Sleep(10 * time.Millisecond)
		return nil
	})
	if err == nil || err.Error() != "unit 5 failed" {
		t.Errorf("error %v, want unit 5's", err)
	}
	if slices.Max(started) > 10 {
		t.Errorf("calls %v went on after unit 6 failed", started)
	}
	for range 50 {
		if runtime.NumGoroutine() <= before {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Each, %d before", n, before)
	}
}

// TestEachOneJobRunsInOrderOnTheEngine: jobs 1 (and a dry run) call each
// unit in order, on the engine itself, in the calling goroutine: the
// sequential run as it always was.
func TestEachOneJobRunsInOrderOnTheEngine(t *testing.T) {
	for _, o := range []Options{{}, {DryRun: true, DryRunOut: new(nopWriter)}} {
		e, _ := New(toy, o)
		var order []int
		jobs := 1
		if o.DryRun {
			jobs = 4
		}
		err := e.Each(5, jobs, func(i int, f *Engine) error {
			if f != e {
				t.Error("not the engine itself")
			}
			order = append(order, i)
			if i == 3 {
				return errors.New("stop")
			}
			return nil
		})
		if err == nil || !slices.Equal(order, []int{0, 1, 2, 3}) {
			t.Errorf("dry run %v: order %v, error %v", o.DryRun, order, err)
		}
	}
}

type nopWriter struct{}

func (*nopWriter) Write(p []byte) (int, error) { return len(p), nil }

func TestJobs(t *testing.T) {
	t.Setenv(JobsEnv, "")
	if n, err := Jobs(0); err != nil || n != min(runtime.GOMAXPROCS(0), maxDefaultJobs) {
		t.Errorf("default: %d %v", n, err)
	}
	if n, err := Jobs(3); err != nil || n != 3 {
		t.Errorf("--jobs 3: %d %v", n, err)
	}
	t.Setenv(JobsEnv, "7")
	if n, err := Jobs(0); err != nil || n != 7 {
		t.Errorf("%s=7: %d %v", JobsEnv, n, err)
	}
	if n, _ := Jobs(2); n != 2 {
		t.Errorf("--jobs 2 beside %s=7: %d", JobsEnv, n)
	}
	for _, bad := range []string{"0", "two", "-1"} {
		t.Setenv(JobsEnv, bad)
		if _, err := Jobs(0); err == nil {
			t.Errorf("%s=%s accepted", JobsEnv, bad)
		}
	}
	if _, err := Jobs(-2); err == nil {
		t.Error("--jobs -2 accepted")
	}
}

// TestEachPanicsInTheCaller: a panic in a call stops the others and goes
// on in the caller's goroutine, with the call's stack.
func TestEachPanicsInTheCaller(t *testing.T) {
	e, _ := New(toy, Options{})
	var calls atomic.Int32
	defer func() {
		p := recover()
		if s, ok := p.(string); !ok || !strings.Contains(s, "boom") || !strings.Contains(s, "each_test.go") {
			t.Errorf("recovered %v, want the panic with its stack", p)
		}
		if n := calls.Load(); n > 10 {
			t.Errorf("%d calls after the panic of call 2", n)
		}
	}()
	e.Each(40, 3, func(i int, f *Engine) error {
		calls.Add(1)
		if i == 2 {
			panic("boom")
		}
		time.Sleep(10 * time.Millisecond)
		return nil
	})
	t.Error("Each returned after a panic")
}
