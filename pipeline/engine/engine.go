// Package engine runs the pipeline's stages. A stage is declared once, as
// data (Stage): its name, the stages and parameters its cache key hashes,
// its code version and the files it writes. A unit of work is a Node of a
// stage, and its key is computed from that declaration alone, before
// anything runs, so --dry-run prints the very keys a run uses. The engine,
// not the stage, hashes, caches, resumes, counts and prints: a stage's code
// is one function that computes its output, plus how to save and load it.
package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/progress"
)

// Stage declares a stage.
type Stage struct {
	Name string
	// Version enters every key of the stage: bump it when the code changes
	// what the stage computes, and every entry of this stage and of the
	// stages after it is recomputed.
	Version string
	// Inputs are the stages whose keys this stage's key hashes, in order.
	// A node may leave an input out (the train stage uses the group stage
	// only for group=ours); it is then hashed as absent.
	Inputs []string
	// Params are the names of the parameters its key hashes; a node gives
	// exactly these.
	Params []string
	// Outputs are the files (or directories, ending in /) of its cache
	// entry.
	Outputs []string
	// Doc says in one line what it computes.
	Doc string
}

// Graph is the pipeline's stages in run order; --only and the stage
// counters follow this order.
type Graph struct {
	stages []Stage
}

// NewGraph checks that names are unique and that every input is declared
// before the stage that reads it.
func NewGraph(stages ...Stage) (*Graph, error) {
	g := &Graph{}
	for _, s := range stages {
		if s.Name == "" || s.Version == "" {
			return nil, fmt.Errorf("engine: stage %q needs a name and a version", s.Name)
		}
		if g.index(s.Name) >= 0 {
			return nil, fmt.Errorf("engine: stage %q is declared twice", s.Name)
		}
		for _, in := range s.Inputs {
			if g.index(in) < 0 {
				return nil, fmt.Errorf("engine: stage %q reads %q, which is not declared before it", s.Name, in)
			}
		}
		g.stages = append(g.stages, s)
	}
	return g, nil
}

// MustGraph is NewGraph for package-level declarations.
func MustGraph(stages ...Stage) *Graph {
	g, err := NewGraph(stages...)
	if err != nil {
		panic(err)
	}
	return g
}

func (g *Graph) index(name string) int {
	return slices.IndexFunc(g.stages, func(s Stage) bool { return s.Name == name })
}

// Stage returns a declared stage.
func (g *Graph) Stage(name string) (*Stage, bool) {
	i := g.index(name)
	if i < 0 {
		return nil, false
	}
	return &g.stages[i], true
}

// Names lists the stages in order.
func (g *Graph) Names() []string {
	out := make([]string, len(g.stages))
	for i, s := range g.stages {
		out[i] = s.Name
	}
	return out
}

// Print writes the declarations: what --dry-run shows above the plan.
func (g *Graph) Print(w io.Writer) {
	fmt.Fprintln(w, "stages (a stage's cache key hashes its version, its inputs' keys and its parameters):")
	for _, s := range g.stages {
		fmt.Fprintf(w, "  %-9s %s [%s]\n", s.Name, s.Doc, s.Version)
		if len(s.Inputs) > 0 {
			fmt.Fprintf(w, "  %-9s inputs:  %s\n", "", strings.Join(s.Inputs, ", "))
		}
		if len(s.Params) > 0 {
			fmt.Fprintf(w, "  %-9s params:  %s\n", "", strings.Join(s.Params, ", "))
		}
		if len(s.Outputs) > 0 {
			fmt.Fprintf(w, "  %-9s outputs: %s\n", "", strings.Join(s.Outputs, ", "))
		}
	}
}

// Node is one unit of a stage: its parameters, the nodes it reads and the
// key computed from them.
type Node struct {
	Stage  *Stage
	Label  string // what the unit is, for people: "RouterDC, seed 1"
	Params map[string]any
	Deps   []*Node
	Key    string
}

// Node declares a unit of stage. params must name exactly the stage's
// declared parameters, and every dep must be of one of its inputs.
func (g *Graph) Node(stage, label string, params map[string]any, deps ...*Node) (*Node, error) {
	s, ok := g.Stage(stage)
	if !ok {
		return nil, fmt.Errorf("engine: no stage %q (stages: %s)", stage, strings.Join(g.Names(), ", "))
	}
	for _, p := range s.Params {
		if _, ok := params[p]; !ok {
			return nil, fmt.Errorf("engine: %s node %q lacks its declared parameter %q", stage, label, p)
		}
	}
	for p := range params {
		if !slices.Contains(s.Params, p) {
			return nil, fmt.Errorf("engine: %s node %q has parameter %q, which the stage does not declare (declared: %s)",
				stage, label, p, strings.Join(s.Params, ", "))
		}
	}
	// The key hashes each declared input's dep keys in the declared
	// order, then the parameters (a map: JSON sorts its keys).
	inputs := make([][]string, len(s.Inputs))
	for _, d := range deps {
		i := slices.Index(s.Inputs, d.Stage.Name)
		if i < 0 {
			return nil, fmt.Errorf("engine: %s node %q reads a %s node, which is not among its inputs (%s)",
				stage, label, d.Stage.Name, strings.Join(s.Inputs, ", "))
		}
		inputs[i] = append(inputs[i], d.Key)
	}
	if params == nil {
		params = map[string]any{}
	}
	key, err := cache.Key(s.Name, s.Version, inputs, params)
	if err != nil {
		return nil, fmt.Errorf("engine: %s node %q: %w", stage, label, err)
	}
	return &Node{Stage: s, Label: label, Params: params, Deps: deps, Key: key}, nil
}

// Short is the key's prefix that people see.
func (n *Node) Short() string { return n.Key[:12] }

// Options of an engine run.
type Options struct {
	// Cache keeps every stage's output and reuses it; nil: nothing is
	// read or written.
	Cache *cache.Store
	// Force recomputes every stage (with Only: that stage) even when
	// cached.
	Force bool
	// Only runs just this stage; the stages before it must be cached.
	Only string
	// DryRun prints the plan to DryRunOut and runs nothing.
	DryRun    bool
	DryRunOut io.Writer
	// Progress gets the stages' messages; a progress.Tracker there also
	// hears of every unit computed.
	Progress io.Writer
}

// Stats counts what a stage did in a run. Seconds are the stage's own
// computing time, without the stages it pulled in. In a dry run Ran and
// Cached count what a run would do (Count).
type Stats struct {
	Cached  int     `json:"cached"`
	Ran     int     `json:"ran"`
	Seconds float64 `json:"seconds"`
}

// Engine runs nodes of one graph. Several units may run at once, each on
// its own Fork.
type Engine struct {
	Graph *Graph
	Options
	// Stats are read once the units have finished; while they run, Do
	// updates them under shared.mu.
	Stats   map[string]*Stats
	planned map[string]bool
	counted map[string]bool
	shared  *shared
	nested  float64 // seconds spent in the Do calls nested in the running one
}

// shared is what an engine and its forks have in common besides Stats.
type shared struct {
	mu sync.Mutex
	// computing holds a lock per key: a unit that needs a node another
	// unit is computing waits for it and then loads its entry, as it
	// would have, run after it.
	computing map[string]*sync.Mutex
}

// keyLock takes key's lock and returns its release.
func (s *shared) keyLock(key string) func() {
	s.mu.Lock()
	l := s.computing[key]
	if l == nil {
		l = &sync.Mutex{}
		s.computing[key] = l
	}
	s.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// Fork is e for one of several units run at once, reporting to progress:
// it shares e's counters, cache and per-key locks and keeps its own
// account of nested time. Dry runs (Plan, Count) are not forked.
func (e *Engine) Fork(progress io.Writer) *Engine {
	f := *e
	f.Progress, f.nested = progress, 0
	return &f
}

// New checks the options; with DryRun it prints the graph's declarations.
func New(g *Graph, o Options) (*Engine, error) {
	if o.Only != "" {
		if _, ok := g.Stage(o.Only); !ok {
			return nil, fmt.Errorf("--only %q: want one of %s", o.Only, strings.Join(g.Names(), ", "))
		}
		if o.Cache == nil {
			return nil, errors.New("--only needs the cache (drop --no-cache)")
		}
	}
	if o.DryRun && o.DryRunOut == nil {
		o.DryRunOut = os.Stdout
	}
	e := &Engine{Graph: g, Options: o, Stats: map[string]*Stats{}, planned: map[string]bool{}, counted: map[string]bool{},
		shared: &shared{computing: map[string]*sync.Mutex{}}}
	if o.DryRun {
		g.Print(o.DryRunOut)
		fmt.Fprintln(o.DryRunOut, "plan:")
	}
	return e, nil
}

// Stat is the counter of a stage, to change while no unit runs.
func (e *Engine) Stat(stage string) *Stats {
	e.shared.mu.Lock()
	defer e.shared.mu.Unlock()
	return e.stat(stage)
}

// count changes a stage's counter while units may run.
func (e *Engine) count(stage string, f func(*Stats)) {
	e.shared.mu.Lock()
	defer e.shared.mu.Unlock()
	f(e.stat(stage))
}

func (e *Engine) stat(stage string) *Stats {
	if e.Stats[stage] == nil {
		e.Stats[stage] = &Stats{}
	}
	return e.Stats[stage]
}

// StatsLine summarises the counters in stage order.
func (e *Engine) StatsLine() string { return StatsLine(e.Graph, e.Stats) }

// StatsLine summarises counters in the graph's stage order.
func StatsLine(g *Graph, stats map[string]*Stats) string {
	var parts []string
	for _, st := range g.Names() {
		if s := stats[st]; s != nil {
			parts = append(parts, fmt.Sprintf("%s: %d ran, %d cached", st, s.Ran, s.Cached))
		}
	}
	return strings.Join(parts, "; ")
}

// StopAfter says whether --only excludes the stages after stage.
func (e *Engine) StopAfter(stage string) bool {
	return e.Only != "" && e.Graph.index(stage) >= e.Graph.index(e.Only)
}

// mustBeCached says whether --only forbids computing stage.
func (e *Engine) mustBeCached(stage string) bool {
	return e.Only != "" && e.Graph.index(stage) < e.Graph.index(e.Only)
}

// reusable says whether n's entry may be used: it exists, and --force does
// not ask for it to be recomputed.
func (e *Engine) reusable(n *Node) bool {
	if e.Cache == nil || !e.Cache.Has(n.Stage.Name, n.Key) {
		return false
	}
	return !e.Force || e.mustBeCached(n.Stage.Name)
}

// verdict is what a run would do with n.
func (e *Engine) verdict(n *Node) string {
	switch {
	case len(n.Stage.Outputs) == 0:
		return "checked on every run"
	case e.reusable(n):
		return "cached"
	case e.Force && e.Cache != nil && e.Cache.Has(n.Stage.Name, n.Key):
		return "cached, but --force: would run"
	case e.mustBeCached(n.Stage.Name):
		return "not cached: --only " + e.Only + " would fail"
	}
	return "not cached: would run"
}

// Plan prints the dry-run lines of n's dependencies, then of n, each node
// once.
func (e *Engine) Plan(n *Node) {
	if n == nil || e.planned[n.Key] {
		return
	}
	for _, d := range n.Deps {
		e.Plan(d)
	}
	e.planned[n.Key] = true
	fmt.Fprintf(e.DryRunOut, "%-9s %-45s %s  %s\n", n.Stage.Name, n.Label, n.Short(), e.verdict(n))
}

// Count adds to the stage counters what a run that needs n would do, as Do
// does it: a reusable entry is loaded (cached) and its inputs are not
// pulled; else n runs and pulls its inputs. A stage without outputs (data)
// is not a unit. A node counts once per engine when the cache keeps it;
// without a cache NewUnit forgets the counted nodes for each unit, as each
// unit computes its own.
func (e *Engine) Count(n *Node) {
	if n == nil || e.counted[n.Key] || len(n.Stage.Outputs) == 0 {
		return
	}
	e.counted[n.Key] = true
	st := e.Stat(n.Stage.Name)
	if e.reusable(n) || e.mustBeCached(n.Stage.Name) {
		st.Cached++
		return
	}
	st.Ran++
	for _, d := range n.Deps {
		e.Count(d)
	}
}

// NewUnit starts the count of a unit: without a cache nothing is shared
// between units, so a node another unit counted runs again.
func (e *Engine) NewUnit() {
	if e.Cache == nil {
		clear(e.counted)
	}
}

// Planned sums the counters of a dry run: the units that would run and
// those that would be loaded from the cache.
func Planned(stats map[string]*Stats) (run, cached int) {
	for _, s := range stats {
		run, cached = run+s.Ran, cached+s.Cached
	}
	return run, cached
}

// entryRecord is what a cache entry records of its node, for audits.
func entryRecord(n *Node) map[string]any {
	deps := map[string][]string{}
	for _, d := range n.Deps {
		deps[d.Stage.Name] = append(deps[d.Stage.Name], d.Key)
	}
	return map[string]any{"label": n.Label, "version": n.Stage.Version, "params": n.Params, "inputs": deps}
}

// Step is one stage's code for a node: Run computes the output; Save
// writes it into a fresh entry directory and Load reads it back from one.
type Step[T any] struct {
	Run  func() (T, error)
	Save func(dir string, v T) error
	Load func(dir string) (T, error)
}

// Do returns n's output: from the cache when its entry is there, else by
// running the step and storing what it returns. With --only it refuses to
// compute a stage before the chosen one.
func Do[T any](e *Engine, n *Node, s Step[T]) (_ T, err error) {
	var zero T
	// With a cache, a node is computed by one unit at a time: the others
	// wait and find its entry. Nodes lock only nodes of earlier stages
	// while they hold their own (a stage pulls its inputs), so no two
	// units wait for each other. The wait is not the waiting stage's time.
	if e.Cache != nil {
		wait := time.Now()
		defer e.shared.keyLock(n.Key)()
		e.nested += time.Since(wait).Seconds()
	}
	// reusable checks the entry's content against its recorded hashes: a
	// changed entry reads as absent (the cache says so) and is recomputed.
	if e.reusable(n) {
		dir, ok, err := e.Cache.Verified(n.Stage.Name, n.Key)
		if err != nil {
			return zero, err
		}
		if ok {
			v, err := s.Load(dir)
			if err != nil {
				return zero, fmt.Errorf("cache entry %s/%s (%s): %w; rerun with --force to recompute it",
					n.Stage.Name, n.Short(), n.Label, err)
			}
			e.count(n.Stage.Name, func(st *Stats) { st.Cached++ })
			return v, nil
		}
	}
	if e.mustBeCached(n.Stage.Name) {
		return zero, fmt.Errorf("--only %s: the %s stage of %s (%s) is not cached; run without --only first",
			e.Only, n.Stage.Name, n.Label, n.Short())
	}
	// A stage's Run may pull the stages it reads (nested Do calls): its
	// own time is what is left once theirs is taken out.
	start, outer := time.Now(), e.nested
	e.nested = 0
	progress.StartUnit(e.Progress, n.Stage.Name, n.Label)
	defer func() {
		elapsed := time.Since(start).Seconds()
		own := elapsed - e.nested
		e.count(n.Stage.Name, func(st *Stats) { st.Seconds += own })
		progress.EndUnit(e.Progress, n.Stage.Name, own, err == nil)
		e.nested = outer + elapsed
	}()
	v, err := s.Run()
	if err != nil {
		return zero, err
	}
	e.count(n.Stage.Name, func(st *Stats) { st.Ran++ })
	if e.Cache != nil {
		if err := e.Cache.Put(n.Stage.Name, n.Key, entryRecord(n), func(dir string) error { return s.Save(dir, v) }); err != nil {
			return zero, err
		}
	}
	// The entry holds the result now: a resume state is no longer needed.
	if err := os.RemoveAll(e.partialDir(n)); err != nil {
		return zero, err
	}
	return v, nil
}

func (e *Engine) partialDir(n *Node) string {
	name := n.Stage.Name + "-" + n.Key[:16]
	if e.Cache == nil {
		return filepath.Join(os.TempDir(), "routerdc-partial-"+name)
	}
	return filepath.Join(e.Cache.Dir, "partial", name)
}

// Partial is where a long stage keeps the state that lets a killed run
// resume (under the cache's partial/, or the temp dir without a cache).
// --force empties it; it is removed once the node's entry is stored.
func (e *Engine) Partial(n *Node) (string, error) {
	dir := e.partialDir(n)
	if e.Force {
		if err := os.RemoveAll(dir); err != nil {
			return "", err
		}
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// PlannedKeys reads the key prefixes of one stage's lines from a --dry-run
// plan, for tests that hold a plan against the entries of a run.
func PlannedKeys(plan, stage string) []string {
	var out []string
	_, lines, _ := strings.Cut(plan, "\nplan:\n")
	for _, line := range strings.Split(lines, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != stage {
			continue
		}
		for _, w := range f[1:] {
			if len(w) == 12 && strings.Trim(w, "0123456789abcdef") == "" {
				out = append(out, w)
				break
			}
		}
	}
	return out
}

// Each runs do(0) .. do(n-1), up to jobs at once, and returns the error of
// the first that failed, in index order. Each call gets an engine to run
// its nodes on: e itself when they run one at a time (jobs 1, or a dry run,
// whose plan prints in order), else a Fork per goroutine with its own lane
// of the progress display (progress.Lanes). Calls start in index order;
// after an error no further call starts, the running ones finish, and no
// goroutine is left behind. A panic in a call is raised again in the
// caller's goroutine once the running calls have finished.
func (e *Engine) Each(n, jobs int, do func(i int, f *Engine) error) error {
	workers := min(jobs, n)
	if e.DryRun || workers <= 1 {
		for i := range n {
			if err := do(i, e); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, n)
	panics := make([]any, n)
	lanes, release := progress.Lanes(e.Progress, workers)
	defer release()
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	call := func(i int, f *Engine) {
		// A panic goes on in the caller's goroutine once the others have
		// stopped, where it would have been without goroutines.
		defer func() {
			if p := recover(); p != nil {
				panics[i] = fmt.Sprintf("%v\n\n%s", p, debug.Stack())
				failed.Store(true)
			}
		}()
		if errs[i] = do(i, f); errs[i] != nil {
			failed.Store(true)
		}
	}
	for _, lane := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := e.Fork(lane)
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				call(i, f)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if panics[i] != nil {
			panic(panics[i])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// JobsEnv is the variable that sets how many units run at once when no
// --jobs is given.
const JobsEnv = "ROUTERDC_JOBS"

// maxDefaultJobs caps the default: beyond a few units at once, their
// inner loops (t-SNE, encoders, the GoMLX backend) already share the
// cores, and each unit holds its own training data and model in memory.
const maxDefaultJobs = 4

// Jobs is how many units run at once: n when n > 0, else $ROUTERDC_JOBS
// when set, else GOMAXPROCS, at most maxDefaultJobs.
func Jobs(n int) (int, error) {
	switch {
	case n > 0:
		return n, nil
	case n < 0:
		return 0, fmt.Errorf("--jobs %d: want a positive number of units run at once (1: one at a time)", n)
	}
	if v := strings.TrimSpace(os.Getenv(JobsEnv)); v != "" {
		j, err := strconv.Atoi(v)
		if err != nil || j < 1 {
			return 0, fmt.Errorf("%s=%q: want a positive number of units run at once (1: one at a time)", JobsEnv, v)
		}
		return j, nil
	}
	return min(runtime.GOMAXPROCS(0), maxDefaultJobs), nil
}
