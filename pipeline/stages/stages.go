package stages

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/engine"
	"github.com/routerdc-go/routerdc/pipeline/evaluate"
	"github.com/routerdc-go/routerdc/pipeline/group"
	"github.com/routerdc-go/routerdc/pipeline/router"
	"github.com/routerdc-go/routerdc/pipeline/routerdir"
	"github.com/routerdc-go/routerdc/pipeline/train"
)

// TaskOutcome is one test set's result, with the per-query picks and
// credits the bootstrap and the figures need.
type TaskOutcome struct {
	Task     string    `json:"task"`
	OOD      bool      `json:"ood"`
	N        int       `json:"n"`
	Accuracy float64   `json:"accuracy"`
	Cost     float64   `json:"cost,omitempty"` // mean dollars per query (data with costs)
	Picks    []int     `json:"picks"`
	Credits  []float64 `json:"credits"`
}

// Alignment compares our groups (group=ours) with the released clusters
// and with the task ids.
type Alignment struct {
	Groups      int     `json:"groups"`
	ARIReleased float64 `json:"ari_released"`
	NMIReleased float64 `json:"nmi_released"`
	ARITask     float64 `json:"ari_task"`
	NMITask     float64 `json:"nmi_task"`
}

// Outcome is the evaluate stage's output for one (method, seed).
type Outcome struct {
	Seed     int64          `json:"seed"`
	Groups   *Alignment     `json:"groups,omitempty"`
	Tasks    []TaskOutcome  `json:"tasks"`
	Training *train.Report  `json:"training"`
	Settings map[string]any `json:"settings"`
}

// Method is one router row: a name and its settings.
type Method struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"` // report kind: baseline, routerdc, ours
	Settings []string `json:"settings"`
	// SeedFree routers ignore the seed (kNN, task-level): trained once.
	SeedFree bool `json:"seed_free,omitempty"`
}

// Options of a run of a declaration's units.
type Options struct {
	// Data is the dataset the units train and evaluate on.
	Data     *data.Collection
	Out      string
	Seeds    []int64
	Methods  []Method
	Settings []string // applied to every method before its own
	// Overrides are applied after every method's own settings (--set).
	Overrides []string
	Progress  io.Writer

	// Cache, when set, keeps every stage's output and reuses it.
	Cache *cache.Store
	// Force recomputes every stage even when cached.
	Force bool
	// DryRun prints to DryRunOut what would run and why, and runs nothing.
	DryRun    bool
	DryRunOut io.Writer
	// Only runs just this stage (one of Stages); the stages before it must
	// be cached.
	Only string
	// Best is bootstrapped against Baseline when both are methods.
	Best, Baseline string
	// Jobs is how many units run at once (Runner.Units); 0: engine.Jobs's
	// default. Outputs do not depend on it.
	Jobs int
}

// unit is one (method, seed) of a declaration: its nodes in the stage
// graph, keyed from their declarations before anything runs.
type unit struct {
	label                                     string
	data, embed, tsne, group, train, evaluate *engine.Node
	// monitor: the training curve also tracks the ID test sets (the
	// baseline's first seed, for the training-curves figure).
	monitor  bool
	settings map[string]any
	params   router.Params
	method   Method
	// What the unit's stages returned, so that two stages reading one
	// (train and evaluate both read the groups) do not compute it twice
	// when nothing is cached.
	enc    encode.Persistent
	grp    *groupOut
	grpSet bool
	// eng and progress are the engine and the progress writer of the
	// goroutine running the unit (Runner.Units runs several at once).
	eng      *engine.Engine
	progress io.Writer
}

// newUnit declares the nodes of one method and seed; every unit reads the
// runner's one data node.
func (r *Runner) newUnit(m Method, seed int64) (*unit, error) {
	opts := r.opts
	store := router.NewStore(seed)
	if err := router.ApplySettings(store, opts.settingsFor(m)); err != nil {
		return nil, fmt.Errorf("method %s: %w", m.Name, err)
	}
	p := router.ReadParams(store)
	settings := train.Settings(store)
	u := &unit{label: fmt.Sprintf("%s, seed %d", m.Name, seed), settings: settings, params: p, method: m,
		eng: r.Engine, progress: opts.Progress,
		monitor: m.Name == opts.Baseline && len(opts.Seeds) > 0 && seed == opts.Seeds[0] && router.IsGraphKind(p.Router)}
	g := engine.Pipeline
	u.data = r.dataNode
	// The validation split, hence the fitted texts, depend on the seed
	// only when there is one.
	var embedSeed any
	if p.ValFraction > 0 {
		embedSeed = seed
	}
	encID, err := encode.Identity(p.Values)
	if err != nil {
		return nil, err
	}
	if u.embed, err = g.Node(engine.StageEmbed, u.label, map[string]any{"encoder": encID,
		"samples_per_task": p.SamplesPerTask, "val_fraction": p.ValFraction, "seed": embedSeed}, u.data); err != nil {
		return nil, err
	}
	if u.tsne, err = g.Node(engine.StageTSNE, u.label, map[string]any{"seed": seed}, u.embed); err != nil {
		return nil, err
	}
	if u.group, err = g.Node(engine.StageGroup, u.label, map[string]any{"clusters": p.Clusters, "seed": seed}, u.tsne); err != nil {
		return nil, err
	}
	// exclude_llm acts at inference only: routers differing in it share
	// their training.
	trainSettings := map[string]any{}
	for key, v := range settings {
		if key != router.ParamExcludeLLM {
			trainSettings[key] = v
		}
	}
	deps := []*engine.Node{u.data, u.embed}
	if router.UsesOurGroups(p) {
		deps = append(deps, u.group)
	}
	// The GoMLX version, the backend and its SIMD kernels can change the
	// numbers of GoMLX routers, not of host-side ones.
	var gomlx, backend string
	if router.IsGraphKind(p.Router) {
		v := routerdir.CurrentVersions()
		gomlx, backend = v.GoMLX, v.Backend+"; simd="+v.SIMD
	}
	if u.train, err = g.Node(engine.StageTrain, u.label, map[string]any{"settings": trainSettings,
		"gomlx": gomlx, "backend": backend, "monitor": u.monitor}, deps...); err != nil {
		return nil, err
	}
	if u.evaluate, err = g.Node(engine.StageEvaluate, u.label, map[string]any{"exclude_llm": p.ExcludeLLM}, u.train); err != nil {
		return nil, err
	}
	return u, nil
}

// NewRunner checks the options and the data (the data stage).
func NewRunner(opts Options) (*Runner, error) {
	eng, err := engine.New(engine.Pipeline, engine.Options{Cache: opts.Cache, Force: opts.Force, Only: opts.Only,
		DryRun: opts.DryRun, DryRunOut: opts.DryRunOut, Progress: opts.Progress})
	if err != nil {
		return nil, err
	}
	if opts.Data == nil {
		return nil, errors.New("stages: no dataset given")
	}
	if opts.Jobs, err = engine.Jobs(opts.Jobs); err != nil {
		return nil, err
	}
	// The dataset's key hashes every file's SHA256: computed once, not per
	// unit.
	dn, err := engine.Pipeline.Node(engine.StageData, "dataset "+opts.Data.Name, map[string]any{"dataset": opts.Data.Key()})
	if err != nil {
		return nil, err
	}
	if !opts.DryRun { // a dry run counts what would run, and the data stage is no unit
		eng.Stat(engine.StageData).Ran++
	}
	return &Runner{opts: opts, Engine: eng, Data: opts.Data, dataNode: dn}, nil
}

// Outcomes runs (or loads from the cache) every (method, seed) of opts and
// returns the evaluated outcomes per method, without writing tables: what
// sweeps build on. A nil outcome was not evaluated (--dry-run, --only).
func Outcomes(opts Options) (map[string][]*Outcome, map[string]*engine.Stats, error) {
	r, err := NewRunner(opts)
	if err != nil {
		return nil, nil, err
	}
	jobs := r.Jobs(opts.Methods)
	done, err := r.Units(jobs)
	if err != nil {
		return nil, nil, err
	}
	out := map[string][]*Outcome{}
	for i, j := range jobs {
		out[j.Method.Name] = append(out[j.Method.Name], done[i].Outcome)
	}
	return out, r.Engine.Stats, nil
}

// Runner runs the units of a declaration on the engine.
type Runner struct {
	opts     Options
	Engine   *engine.Engine
	Data     *data.Collection
	dataNode *engine.Node
}

// Unit computes (or loads) the outcome of one method and seed; nil when
// --only stops before the evaluate stage or on --dry-run. Each stage pulls
// the stages it reads only when it is not cached itself.
func (r *Runner) Unit(m Method, seed int64) (*Outcome, error) {
	u, err := r.newUnit(m, seed)
	if err != nil {
		return nil, err
	}
	return r.run(u)
}

func (r *Runner) run(u *unit) (_ *Outcome, err error) {
	e := u.eng
	if r.opts.DryRun {
		e.Plan(u.evaluate)
		e.NewUnit()
		e.Count(r.top(u))
		return nil, nil
	}
	switch {
	case e.StopAfter(engine.StageData):
		return nil, nil
	case e.StopAfter(engine.StageEmbed):
		_, err = r.embed(u)
		return nil, err
	case e.StopAfter(engine.StageGroup):
		_, err = r.groups(u)
		return nil, err
	case e.StopAfter(engine.StageTrain):
		_, err = r.train(u)
		return nil, err
	}
	return r.evaluate(u)
}

// Job is one (method, seed) of a run.
type Job struct {
	Method Method
	Seed   int64
}

// Jobs are the units of methods over the runner's seeds, in the order of
// the tables and sweeps: methods, then seeds (a seed-free method's first
// seed only).
func (r *Runner) Jobs(methods []Method) []Job {
	var out []Job
	for _, m := range methods {
		seeds := r.opts.Seeds
		if m.SeedFree {
			seeds = seeds[:1]
		}
		for _, seed := range seeds {
			out = append(out, Job{Method: m, Seed: seed})
		}
	}
	return out
}

// Done is what one job gave: its outcome (nil as Unit's) and its wall
// time.
type Done struct {
	Outcome *Outcome
	Seconds float64
}

// Units computes (or loads) the outcome of each job, up to Options.Jobs
// at once, and returns them in the jobs' order. What they compute does not
// depend on how many run at once: each unit's numbers come from its seed
// and settings, and a node two units need is computed once and loaded by
// the other (engine.Do), as when they run one after the other. The error
// is the first failed job's in order, naming its unit; after it no
// further job starts (engine.Each).
func (r *Runner) Units(jobs []Job) ([]Done, error) {
	units := make([]*unit, len(jobs))
	for i, j := range jobs {
		u, err := r.newUnit(j.Method, j.Seed)
		if err != nil {
			return nil, err
		}
		units[i] = u
	}
	done := make([]Done, len(jobs))
	err := r.Engine.Each(len(jobs), r.opts.Jobs, func(i int, e *engine.Engine) error {
		u := units[i]
		u.eng, u.progress = e, e.Progress
		start := time.Now()
		out, err := r.run(u)
		done[i] = Done{Outcome: out, Seconds: time.Since(start).Seconds()}
		if err != nil && !strings.Contains(err.Error(), u.label) {
			err = fmt.Errorf("%s: %w", u.label, err)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return done, nil
}

// top is the last node of u that a run computes: what --only stops at.
func (r *Runner) top(u *unit) *engine.Node {
	e := r.Engine
	switch {
	case e.StopAfter(engine.StageData):
		return nil
	case e.StopAfter(engine.StageEmbed):
		return u.embed
	case e.StopAfter(engine.StageGroup):
		if !router.UsesOurGroups(u.params) {
			return nil
		}
		return u.group
	case e.StopAfter(engine.StageTrain):
		return u.train
	}
	return u.evaluate
}

func (r *Runner) embed(u *unit) (encode.Persistent, error) {
	if u.enc != nil {
		return u.enc, nil
	}
	enc, err := engine.Do(u.eng, u.embed, engine.Step[encode.Persistent]{
		Run: func() (encode.Persistent, error) {
			set, err := r.trainingSet(u)
			if err != nil {
				return nil, err
			}
			enc, err := train.FitEncoder(set, u.params.Values)
			if err != nil || !encode.ExpensiveKind(u.params.Values) {
				return enc, err
			}
			// Every query the unit will encode, once: training and
			// validation rows, and every test set (monitor rows included).
			texts := append(train.Questions(set.Train), train.Questions(set.Val)...)
			for _, t := range r.Data.Tasks {
				for _, q := range t.Test.Queries {
					texts = append(texts, q.Question)
				}
			}
			return encode.NewMemo(enc, texts)
		},
		Save: func(dir string, enc encode.Persistent) error {
			if m, ok := enc.(*encode.Memo); ok {
				if err := m.SaveTable(filepath.Join(dir, embeddingsFile)); err != nil {
					return err
				}
			}
			return enc.Save(filepath.Join(dir, "encoder.json"))
		},
		Load: func(dir string) (encode.Persistent, error) {
			enc, err := encode.Load(filepath.Join(dir, "encoder.json"))
			if err != nil || !encode.ExpensiveKind(u.params.Values) {
				return enc, err
			}
			return encode.LoadMemo(enc, filepath.Join(dir, embeddingsFile))
		},
	})
	u.enc = enc
	return enc, err
}

// embeddingsFile is the embed stage's table of an Expensive encoder's
// vectors (encode.Memo).
const embeddingsFile = "embeddings.bin"

// trainedRouter is what the evaluate stage needs from training.
type trainedRouter interface {
	evaluate.Scorer
}

// groupOut is the grouping stage's output.
type groupOut struct {
	Assign    []int     `json:"assign"`
	Alignment Alignment `json:"alignment"`
}

// trainingSet is the unit's training (and validation) rows.
func (r *Runner) trainingSet(u *unit) (*train.Set, error) {
	p := u.params
	return train.Prepare(r.Data, p.SamplesPerTask, p.ValFraction, p.Seed)
}

// trainingRows are the unit's training rows, as the embed stage saw them.
func (r *Runner) trainingRows(u *unit, enc encode.Persistent) (*train.Set, *router.Examples, error) {
	set, err := r.trainingSet(u)
	if err != nil {
		return nil, nil, err
	}
	ex, err := train.Examples(enc, set.Train)
	return set, ex, err
}

// tsne is the first half of the grouping stage, shared by every number of
// groups.
func (r *Runner) tsne(u *unit) ([][]float64, error) {
	return engine.Do(u.eng, u.tsne, engine.Step[[][]float64]{
		Run: func() ([][]float64, error) {
			enc, err := r.embed(u)
			if err != nil {
				return nil, err
			}
			_, ex, err := r.trainingRows(u, enc)
			if err != nil {
				return nil, err
			}
			return train.TSNE(ex.X, u.params.Seed, u.progress)
		},
		Save: func(dir string, emb [][]float64) error { return writeJSON(filepath.Join(dir, "tsne.json"), emb) },
		Load: func(dir string) ([][]float64, error) {
			var emb [][]float64
			return emb, readJSON(dir, "tsne.json", &emb)
		},
	})
}

// groups runs the grouping stage (group=ours with a sample-sample loss).
func (r *Runner) groups(u *unit) (*groupOut, error) {
	if !router.UsesOurGroups(u.params) || u.grpSet {
		return u.grp, nil
	}
	g, err := engine.Do(u.eng, u.group, engine.Step[*groupOut]{
		Run: func() (*groupOut, error) {
			emb, err := r.tsne(u)
			if err != nil {
				return nil, err
			}
			p := u.params
			set, err := r.trainingSet(u)
			if err != nil {
				return nil, err
			}
			assign, err := train.GroupsFromTSNE(emb, p)
			if err != nil {
				return nil, err
			}
			if len(assign) != len(set.Train) {
				return nil, fmt.Errorf("%s: %d t-SNE points for %d training queries", u.label, len(assign), len(set.Train))
			}
			released := make([]int, len(set.Train))
			tasks := make([]int, len(set.Train))
			for i, row := range set.Train {
				released[i], tasks[i] = row.Cluster, row.Task
			}
			return &groupOut{Assign: assign, Alignment: Alignment{Groups: p.Clusters,
				ARIReleased: group.ARI(assign, released), NMIReleased: group.NMI(assign, released),
				ARITask: group.ARI(assign, tasks), NMITask: group.NMI(assign, tasks)}}, nil
		},
		Save: func(dir string, g *groupOut) error { return writeJSON(filepath.Join(dir, "groups.json"), g) },
		Load: func(dir string) (*groupOut, error) {
			var g groupOut
			return &g, readJSON(dir, "groups.json", &g)
		},
	})
	u.grp, u.grpSet = g, err == nil
	return g, err
}

// trained is the train stage's output.
type trained struct {
	router *routerdir.Router
	report *train.Report
}

func (r *Runner) train(u *unit) (*trained, error) {
	return engine.Do(u.eng, u.train, engine.Step[*trained]{
		Run: func() (*trained, error) {
			enc, err := r.embed(u)
			if err != nil {
				return nil, err
			}
			g, err := r.groups(u)
			if err != nil {
				return nil, err
			}
			var groups []int
			if g != nil {
				groups = g.Assign
			}
			store := router.NewStore(u.params.Seed)
			if err := router.ApplySettings(store, r.opts.settingsFor(u.method)); err != nil {
				return nil, err
			}
			store.SetParam(router.ParamExcludeLLM, "") // applied by the evaluate stage
			o := train.Options{Encoder: enc, Groups: groups}
			if r.opts.Cache != nil { // a killed run resumes from its last checkpoint evaluation
				if o.ResumeDir, err = u.eng.Partial(u.train); err != nil {
					return nil, err
				}
			}
			if u.monitor {
				o.Monitor = r.monitorRows()
			}
			tr, err := train.RunWithOptions(r.Data, store, o, u.progress)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", u.label, err)
			}
			// With llms=k the router knows the first k LLMs of the test files.
			if len(tr.Meta.LLMs) > len(r.Data.LLMs) || !slices.Equal(tr.Meta.LLMs, r.Data.LLMs[:len(tr.Meta.LLMs)]) {
				return nil, fmt.Errorf("training files' LLMs %v differ from the test files' %v", tr.Meta.LLMs, r.Data.LLMs)
			}
			return &trained{router: tr, report: tr.Meta.Training.(*train.Report)}, nil
		},
		Save: func(dir string, t *trained) error {
			if err := t.router.Save(filepath.Join(dir, "router")); err != nil {
				return err
			}
			return writeJSON(filepath.Join(dir, "report.json"), t.report)
		},
		Load: func(dir string) (*trained, error) {
			tr, err := routerdir.Load(filepath.Join(dir, "router"))
			if err != nil {
				return nil, err
			}
			var rep train.Report
			if err := readJSON(dir, "report.json", &rep); err != nil {
				return nil, err
			}
			return &trained{router: tr, report: &rep}, nil
		},
	})
}

func (r *Runner) evaluate(u *unit) (*Outcome, error) {
	return engine.Do(u.eng, u.evaluate, engine.Step[*Outcome]{
		Run: func() (*Outcome, error) {
			t, err := r.train(u)
			if err != nil {
				return nil, err
			}
			var align *Alignment
			if g, err := r.groups(u); err != nil {
				return nil, err
			} else if g != nil {
				align = &g.Alignment
			}
			if encode.ExpensiveKind(u.params.Values) {
				// The test sets were embedded by the embed stage: look the
				// vectors up instead of running the network again.
				enc, err := r.embed(u)
				if err != nil {
					return nil, err
				}
				if m, ok := enc.(*encode.Memo); ok && m.Name() == t.router.Encoder.Name() {
					t.router.Encoder = m
				}
			}
			var scorer evaluate.Scorer = t.router
			if ex := u.params.ExcludeLLM; ex != "" {
				scorer = masked{t.router, r.Data.LLMs, ex}
			}
			res, err := evaluate.Tasks(scorer, r.Data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", u.label, err)
			}
			out := &Outcome{Seed: u.params.Seed, Training: t.report, Settings: u.settings, Groups: align}
			for _, t := range res {
				out.Tasks = append(out.Tasks, TaskOutcome{Task: t.Task, OOD: t.OOD, N: t.N, Accuracy: t.Accuracy, Cost: t.Cost,
					Picks: t.Picks, Credits: t.Credits})
			}
			return out, nil
		},
		Save: func(dir string, o *Outcome) error { return writeJSON(filepath.Join(dir, "outcome.json"), o) },
		Load: func(dir string) (*Outcome, error) {
			var o Outcome
			return &o, readJSON(dir, "outcome.json", &o)
		},
	})
}

func readJSON(dir, name string, v any) error {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b)
}

// Averages of an outcome: unweighted means over the ID and OOD tasks.
func (o *Outcome) Averages() (id, ood float64) {
	var a, b []float64
	for _, t := range o.Tasks {
		if t.OOD {
			b = append(b, t.Accuracy)
		} else {
			a = append(a, t.Accuracy)
		}
	}
	return evaluate.Mean(a), evaluate.Mean(b)
}

// Accuracy maps task name to accuracy.
func (o *Outcome) Accuracy() map[string]float64 {
	m := map[string]float64{}
	for _, t := range o.Tasks {
		m[t.Task] = t.Accuracy
	}
	return m
}

// Values are what a table row reads of an outcome: each task's accuracy,
// and with costs each task's mean cost under report.CostKey.
func (o *Outcome) Values(costs bool) map[string]float64 {
	m := o.Accuracy()
	if costs {
		for _, t := range o.Tasks {
			m[CostKey(t.Task)] = t.Cost
		}
	}
	return m
}

// CostKey is the key of a task's cost in a row's values.
func CostKey(task string) string { return "cost:" + task }

// masked routes with one LLM removed (the paper's Table 3).
type masked struct {
	s       evaluate.Scorer
	llms    []string
	exclude string
}

func (m masked) Scores(texts []string) ([][]float64, error) {
	s, err := m.s.Scores(texts)
	if err != nil {
		return nil, err
	}
	return routerdir.MaskLLM(s, m.llms, m.exclude), nil
}

// runnerFor is a runner with one unit, for the functions that need one
// stage of one method and seed.
func runnerFor(opts Options, m Method, seed int64) (*Runner, *unit, error) {
	r, err := NewRunner(opts)
	if err != nil {
		return nil, nil, err
	}
	u, err := r.newUnit(m, seed)
	return r, u, err
}

// Trained runs (or loads from the cache) the embed, group and train stages
// of one method and seed and returns the trained router.
func Trained(opts Options, m Method, seed int64) (*routerdir.Router, error) {
	r, u, err := runnerFor(opts, m, seed)
	if err != nil {
		return nil, err
	}
	t, err := r.train(u)
	if err != nil {
		return nil, err
	}
	return t.router, nil
}

// EachTrained runs (or loads) the train stage of each job, up to
// opts.Jobs at once on one runner, and passes each trained router to use
// in the goroutine that trained it, so that what is done with the routers
// runs side by side too.
func EachTrained(opts Options, jobs []Job, use func(i int, r *routerdir.Router) error) error {
	r, err := NewRunner(opts)
	if err != nil {
		return err
	}
	units := make([]*unit, len(jobs))
	for i, j := range jobs {
		if units[i], err = r.newUnit(j.Method, j.Seed); err != nil {
			return err
		}
	}
	return r.Engine.Each(len(jobs), r.opts.Jobs, func(i int, e *engine.Engine) error {
		u := units[i]
		u.eng, u.progress = e, e.Progress
		t, err := r.train(u)
		if err != nil {
			return err
		}
		return use(i, t.router)
	})
}

// GroupView is the grouping stage's output for one method and seed, with
// what is needed to read it: each training query's task and released
// cluster beside the group we assigned.
type GroupView struct {
	Tasks     []string // task name of each training query
	Released  []int    // released cluster_id of each training query
	Groups    []int    // our group of each training query
	Alignment Alignment
	// Stats say which stages ran and which came from the cache.
	Stats map[string]*engine.Stats
}

// Groups runs (or loads from the cache) the embed and group stages of one
// method and seed. The method must use our groups (group=ours with a
// sample-sample loss).
func Groups(opts Options, m Method, seed int64) (*GroupView, error) {
	r, u, err := runnerFor(opts, m, seed)
	if err != nil {
		return nil, err
	}
	if !router.UsesOurGroups(u.params) {
		return nil, fmt.Errorf("%s: does not use our groups (needs group=ours and lambda > 0)", m.Name)
	}
	g, err := r.groups(u)
	if err != nil {
		return nil, err
	}
	set, err := r.trainingSet(u)
	if err != nil {
		return nil, err
	}
	v := &GroupView{Groups: g.Assign, Alignment: g.Alignment, Stats: r.Engine.Stats}
	for _, row := range set.Train {
		v.Tasks = append(v.Tasks, set.Tasks[row.Task].Name)
		v.Released = append(v.Released, row.Cluster)
	}
	if len(v.Tasks) != len(v.Groups) {
		return nil, fmt.Errorf("%s: %d cached groups for %d training queries", m.Name, len(v.Groups), len(v.Tasks))
	}
	return v, nil
}

// settingsFor orders a method's settings: the declaration's, the method's
// own, then the command line's overrides, which win.
func (o Options) settingsFor(m Method) []string {
	out := append([]string{}, o.Settings...)
	out = append(out, m.Settings...)
	return append(out, o.Overrides...)
}

// monitorRows are the ID test queries, for the training curve's test
// accuracy.
func (r *Runner) monitorRows() []train.Row {
	var rows []train.Row
	ti := 0 // the index among the tasks with training files, as train.Set counts them
	for _, t := range r.Data.Tasks {
		if len(t.Train) == 0 {
			continue
		}
		for _, q := range t.Test.Queries {
			rows = append(rows, train.Row{Question: q.Question, Scores: q.Scores, Costs: q.Costs, Task: ti,
				Cluster: q.ClusterID, Credit: t.Metric == data.Probability})
		}
		ti++
	}
	return rows
}
