package reproduce

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/evaluate"
	"github.com/routerdc-go/routerdc/pipeline/group"
	"github.com/routerdc-go/routerdc/pipeline/router"
	"github.com/routerdc-go/routerdc/pipeline/serve"
	"github.com/routerdc-go/routerdc/pipeline/train"
)

// Stages of the pipeline, in order. data verifies the released files; embed
// fits the encoder; group computes our t-SNE + k-means groups (only for
// group=ours); train fits a router (per method and seed); evaluate
// routes the 8 test sets; report writes tables and figures.
var Stages = []string{"data", "embed", "group", "train", "evaluate", "report"}

// StageInfo describes a stage: what its cache key hashes and what it
// writes. --dry-run prints it above the per-unit plan.
type StageInfo struct{ Name, Inputs, Outputs string }

// StageGraph is the pipeline's stages with their inputs and outputs.
var StageGraph = []StageInfo{
	{"data", "the 18 released files (their SHA256SUMS)", "verified data directory"},
	{"embed", "data; encoder_bits, samples_per_task, val_fraction (and seed if > 0)", "embed/<key>/encoder.json (fitted encoder)"},
	{"group", "embed; seed -> t-SNE (5-d); then clusters (N) -> k-means (only for group=ours with a sample-sample loss)", "group/<key>/tsne.json, group/<key>/groups.json (with ARI/NMI)"},
	{"train", "data, embed, group; every setting but exclude_llm; seed; GoMLX version and backend", "train/<key>/router (router directory), report.json; partial/<key> while running (resume)"},
	{"evaluate", "train; exclude_llm", "evaluate/<key>/outcome.json (per-task accuracy, picks, credits)"},
	{"report", "every evaluate output of the declaration", "results/tables, results/ablations, results/figures, results/README.md, manifests"},
}

// Stage versions enter the cache keys: bump one when its code changes what
// it computes, and every entry of that stage and the stages after it is
// recomputed.
const (
	embedVersion    = "embed-1"
	groupVersion    = "group-1"
	trainVersion    = "train-2"
	evaluateVersion = "evaluate-1"
)

// TaskOutcome is one test set's result, with the per-query picks and
// credits the bootstrap and the figures need.
type TaskOutcome struct {
	Task     string    `json:"task"`
	OOD      bool      `json:"ood"`
	N        int       `json:"n"`
	Accuracy float64   `json:"accuracy"`
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

// StageStats counts what each stage did in a run.
type StageStats struct {
	Cached  int     `json:"cached"`
	Ran     int     `json:"ran"`
	Seconds float64 `json:"seconds"`
}

// unitKeys are the cache keys of one (method, seed).
type unitKeys struct {
	embed, tsne, group, train, evaluate string
	// monitor: the training curve also tracks the ID test sets (the
	// baseline's first seed, for the training-curves figure).
	monitor  bool
	settings map[string]any
	params   router.Params
}

func dataKey() (string, error) { return cache.Key("data", data.Files()) }

func keysFor(opts Options, m Method, seed int64) (*unitKeys, error) {
	store := router.NewStore(seed)
	if err := router.ApplySettings(store, opts.settingsFor(m)); err != nil {
		return nil, fmt.Errorf("method %s: %w", m.Name, err)
	}
	p := router.ReadParams(store)
	settings := train.Settings(store)
	dk, err := dataKey()
	if err != nil {
		return nil, err
	}
	k := &unitKeys{settings: settings, params: p,
		monitor: m.Name == opts.Baseline && len(opts.Seeds) > 0 && seed == opts.Seeds[0] && router.IsGraphKind(p.Router)}
	embedIn := map[string]any{"encoder_bits": p.EncoderBits, "samples_per_task": p.SamplesPerTask,
		"val_fraction": p.ValFraction}
	if p.ValFraction > 0 {
		embedIn["seed"] = seed // the validation split, hence the fitted texts, depend on it
	}
	if k.embed, err = cache.Key(embedVersion, dk, embedIn); err != nil {
		return nil, err
	}
	if k.tsne, err = cache.Key(groupVersion, k.embed, seed); err != nil {
		return nil, err
	}
	if k.group, err = cache.Key(groupVersion, k.tsne, p.Clusters); err != nil {
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
	// The groups are a training input (group=ours); the GoMLX version and
	// the backend can change the numbers of GoMLX routers.
	var upstream []any
	upstream = append(upstream, k.embed)
	if router.UsesOurGroups(p) {
		upstream = append(upstream, k.group)
	}
	if router.IsGraphKind(p.Router) {
		v := serve.CurrentVersions()
		upstream = append(upstream, v.GoMLX, v.Backend)
	}
	if k.monitor {
		upstream = append(upstream, "monitor-id-test")
	}
	if k.train, err = cache.Key(trainVersion, dk, trainSettings, upstream); err != nil {
		return nil, err
	}
	if k.evaluate, err = cache.Key(evaluateVersion, k.train, p.ExcludeLLM); err != nil {
		return nil, err
	}
	return k, nil
}

// newRunner checks the options and the data (the data stage).
func newRunner(opts Options) (*runner, error) {
	if opts.Only != "" && !slices.Contains(Stages, opts.Only) {
		return nil, fmt.Errorf("--only %q: want one of %s", opts.Only, strings.Join(Stages, ", "))
	}
	if opts.DryRun && opts.DryRunOut == nil {
		opts.DryRunOut = os.Stdout
	}
	if opts.DryRun {
		fmt.Fprintln(opts.DryRunOut, "stages (a stage's cache key hashes its inputs and its code version):")
		for _, st := range StageGraph {
			fmt.Fprintf(opts.DryRunOut, "  %-9s inputs: %s\n  %-9s outputs: %s\n", st.Name, st.Inputs, "", st.Outputs)
		}
		fmt.Fprintln(opts.DryRunOut, "plan:")
	}
	if err := data.CheckDir(opts.DataDir); err != nil {
		return nil, err
	}
	sets, err := evaluate.TestSets(opts.DataDir, data.Tasks, nil)
	if err != nil {
		return nil, err
	}
	r := &runner{opts: opts, sets: sets, stats: map[string]*StageStats{}}
	r.stat("data").Ran++
	return r, nil
}

// Outcomes runs (or loads from the cache) every (method, seed) of opts and
// returns the evaluated outcomes per method, without writing tables: what
// sweeps build on. A nil outcome was not evaluated (--dry-run, --only).
func Outcomes(opts Options) (map[string][]*Outcome, map[string]*StageStats, error) {
	r, err := newRunner(opts)
	if err != nil {
		return nil, nil, err
	}
	out := map[string][]*Outcome{}
	for _, m := range opts.Methods {
		seeds := opts.Seeds
		if m.SeedFree {
			seeds = seeds[:1]
		}
		for _, seed := range seeds {
			o, err := r.unit(m, seed)
			if err != nil {
				return nil, nil, err
			}
			out[m.Name] = append(out[m.Name], o)
		}
	}
	return out, r.stats, nil
}

// runner runs the stages of units, reusing and filling the cache.
type runner struct {
	opts  Options
	sets  []*data.Dataset
	stats map[string]*StageStats
}

func (r *runner) stat(stage string) *StageStats {
	if r.stats[stage] == nil {
		r.stats[stage] = &StageStats{}
	}
	return r.stats[stage]
}

// stopAfter says whether --only excludes stages after stage.
func (r *runner) stopAfter(stage string) bool {
	return r.opts.Only != "" && slices.Index(Stages, stage) >= slices.Index(Stages, r.opts.Only)
}

// mustBeCached says whether --only forbids computing stage.
func (r *runner) mustBeCached(stage string) bool {
	return r.opts.Only != "" && slices.Index(Stages, stage) < slices.Index(Stages, r.opts.Only)
}

// cached says whether stage's entry can be used. --force recomputes every
// stage, or with --only just that stage (the earlier ones must be cached).
func (r *runner) cached(stage, key string) bool {
	c := r.opts.Cache
	if c == nil || !c.Has(stage, key) {
		return false
	}
	return !r.opts.Force || r.mustBeCached(stage)
}

func (r *runner) say(format string, args ...any) {
	if r.opts.Progress != nil {
		fmt.Fprintf(r.opts.Progress, format+"\n", args...)
	}
}

// unit computes (or loads) the outcome of one method and seed; nil when
// --only stops before the evaluate stage or on --dry-run.
func (r *runner) unit(m Method, seed int64) (*Outcome, error) {
	k, err := keysFor(r.opts, m, seed)
	if err != nil {
		return nil, err
	}
	label := fmt.Sprintf("%s, seed %d", m.Name, seed)
	if r.opts.DryRun {
		r.dryRun(k, label)
		return nil, nil
	}
	if r.stopAfter("data") {
		return nil, nil
	}
	if r.cached("evaluate", k.evaluate) && !r.stopAfter("train") {
		r.stat("evaluate").Cached++
		var out Outcome
		if err := r.opts.Cache.ReadJSON("evaluate", k.evaluate, "outcome.json", &out); err != nil {
			return nil, err
		}
		return &out, nil
	}
	enc, err := r.embed(k)
	if err != nil || r.stopAfter("embed") {
		return nil, err
	}
	groups, err := r.group(k, enc)
	if err != nil || r.stopAfter("group") {
		return nil, err
	}
	trained, report, err := r.train(m, seed, k, enc, groups, label)
	if err != nil || r.stopAfter("train") {
		return nil, err
	}
	var align *Alignment
	if groups != nil {
		align = &groups.Alignment
	}
	return r.evaluate(k, trained, report, align, seed, label)
}

func (r *runner) embed(k *unitKeys) (encode.Persistent, error) {
	st := r.stat("embed")
	if r.cached("embed", k.embed) {
		st.Cached++
		return encode.Load(filepath.Join(r.opts.Cache.Path("embed", k.embed), "encoder.json"))
	}
	if r.mustBeCached("embed") {
		return nil, fmt.Errorf("--only %s: the embed stage of %s is not cached; run without --only first", r.opts.Only, k.embed[:12])
	}
	start := time.Now()
	p := k.params
	set, err := train.Prepare(r.opts.DataDir, data.Tasks, p.SamplesPerTask, p.ValFraction, p.Seed)
	if err != nil {
		return nil, err
	}
	enc := train.FitEncoder(set, p.EncoderBits)
	st.Ran++
	defer func() { st.Seconds += time.Since(start).Seconds() }()
	if r.opts.Cache == nil {
		return enc, nil
	}
	err = r.opts.Cache.Put("embed", k.embed, map[string]any{"encoder": enc.Name()}, func(dir string) error {
		return enc.Save(filepath.Join(dir, "encoder.json"))
	})
	return enc, err
}

// trainedRouter is what the evaluate stage needs from training.
type trainedRouter interface {
	evaluate.Scorer
}

// groupOut is the grouping stage's output.
type groupOut struct {
	Assign    []int     `json:"assign"`
	Alignment Alignment `json:"alignment"`
}

// dryRun prints what each stage of a unit would do and why.
func (r *runner) dryRun(k *unitKeys, label string) {
	type stageKey struct{ stage, key string }
	stages := []stageKey{{"embed", k.embed}}
	if router.UsesOurGroups(k.params) {
		stages = append(stages, stageKey{"group", k.group})
	}
	stages = append(stages, stageKey{"train", k.train}, stageKey{"evaluate", k.evaluate})
	for _, st := range stages {
		why := "not cached: would run"
		switch {
		case r.cached(st.stage, st.key):
			why = "cached"
		case r.opts.Force && r.opts.Cache != nil && r.opts.Cache.Has(st.stage, st.key):
			why = "cached, but --force: would run"
		}
		fmt.Fprintf(r.opts.DryRunOut, "%-9s %-45s %s  %s\n", st.stage, label, st.key[:12], why)
	}
}

// group runs the grouping stage for group=ours (nil otherwise).
func (r *runner) group(k *unitKeys, enc encode.Persistent) (*groupOut, error) {
	p := k.params
	if !router.UsesOurGroups(p) {
		return nil, nil
	}
	st := r.stat("group")
	if r.cached("group", k.group) {
		st.Cached++
		var g groupOut
		return &g, r.opts.Cache.ReadJSON("group", k.group, "groups.json", &g)
	}
	if r.mustBeCached("group") {
		return nil, fmt.Errorf("--only %s: the group stage %s is not cached; run without --only first", r.opts.Only, k.group[:12])
	}
	start := time.Now()
	set, err := train.Prepare(r.opts.DataDir, data.Tasks, p.SamplesPerTask, p.ValFraction, p.Seed)
	if err != nil {
		return nil, err
	}
	ex, err := train.Examples(enc, set.Train)
	if err != nil {
		return nil, err
	}
	// The t-SNE embedding is shared by every number of groups.
	var emb [][]float64
	if r.cached("group", k.tsne) {
		if err := r.opts.Cache.ReadJSON("group", k.tsne, "tsne.json", &emb); err != nil {
			return nil, err
		}
	} else {
		r.say("grouping stage: t-SNE of %d training queries to 5 dimensions (seed %d)", len(ex.X), p.Seed)
		if emb, err = train.TSNE(ex.X, p.Seed, r.opts.Progress); err != nil {
			return nil, err
		}
		if r.opts.Cache != nil {
			if err := r.opts.Cache.Put("group", k.tsne, map[string]any{"embed": k.embed, "seed": p.Seed},
				func(dir string) error { return writeJSON(filepath.Join(dir, "tsne.json"), emb) }); err != nil {
				return nil, err
			}
		}
	}
	assign, err := train.GroupsFromTSNE(emb, p)
	if err != nil {
		return nil, err
	}
	released := make([]int, len(set.Train))
	tasks := make([]int, len(set.Train))
	for i, row := range set.Train {
		released[i], tasks[i] = row.Cluster, row.Task
	}
	g := &groupOut{Assign: assign, Alignment: Alignment{Groups: p.Clusters,
		ARIReleased: group.ARI(assign, released), NMIReleased: group.NMI(assign, released),
		ARITask: group.ARI(assign, tasks), NMITask: group.NMI(assign, tasks)}}
	st.Ran++
	st.Seconds += time.Since(start).Seconds()
	if r.opts.Cache == nil {
		return g, nil
	}
	return g, r.opts.Cache.Put("group", k.group, map[string]any{"tsne": k.tsne, "clusters": p.Clusters},
		func(dir string) error { return writeJSON(filepath.Join(dir, "groups.json"), g) })
}

func (r *runner) train(m Method, seed int64, k *unitKeys, enc encode.Persistent, g *groupOut, label string) (trainedRouter, *train.Report, error) {
	var groups []int
	if g != nil {
		groups = g.Assign
	}
	st := r.stat("train")
	if r.cached("train", k.train) {
		st.Cached++
		dir := filepath.Join(r.opts.Cache.Path("train", k.train), "router")
		tr, err := loadRouter(dir)
		if err != nil {
			return nil, nil, err
		}
		var rep train.Report
		if err := r.opts.Cache.ReadJSON("train", k.train, "report.json", &rep); err != nil {
			return nil, nil, err
		}
		return tr, &rep, nil
	}
	if r.mustBeCached("train") {
		return nil, nil, fmt.Errorf("--only %s: %s is not trained yet; run without --only first", r.opts.Only, label)
	}
	r.say("%s", label)
	start := time.Now()
	store := router.NewStore(seed)
	if err := router.ApplySettings(store, r.opts.settingsFor(m)); err != nil {
		return nil, nil, err
	}
	store.SetParam(router.ParamExcludeLLM, "") // applied by the evaluate stage
	var resumeDir string
	if r.opts.Cache != nil {
		// A killed run resumes from its last checkpoint evaluation.
		resumeDir = filepath.Join(r.opts.Cache.Dir, "partial", k.train)
		if r.opts.Force {
			os.RemoveAll(resumeDir) // recompute from scratch
		}
	}
	o := train.Options{Encoder: enc, Groups: groups, ResumeDir: resumeDir}
	if k.monitor {
		o.Monitor = r.monitorRows()
	}
	tr, err := train.RunWithOptions(r.opts.DataDir, store, o, r.opts.Progress)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", label, err)
	}
	// With llms=k the router knows the first k LLMs of the test files.
	if len(tr.Meta.LLMs) > len(r.sets[0].LLMs) || !slices.Equal(tr.Meta.LLMs, r.sets[0].LLMs[:len(tr.Meta.LLMs)]) {
		return nil, nil, fmt.Errorf("training files' LLMs %v differ from the test files' %v", tr.Meta.LLMs, r.sets[0].LLMs)
	}
	rep := tr.Meta.Training.(*train.Report)
	st.Ran++
	st.Seconds += time.Since(start).Seconds()
	if r.opts.Cache != nil {
		err = r.opts.Cache.Put("train", k.train, map[string]any{"settings": k.settings, "embed": k.embed}, func(dir string) error {
			if err := tr.Save(filepath.Join(dir, "router")); err != nil {
				return err
			}
			return writeJSON(filepath.Join(dir, "report.json"), rep)
		})
		if err == nil {
			os.RemoveAll(resumeDir)
		}
	}
	return tr, rep, err
}

func (r *runner) evaluate(k *unitKeys, tr trainedRouter, rep *train.Report, align *Alignment, seed int64, label string) (*Outcome, error) {
	if r.mustBeCached("evaluate") {
		return nil, fmt.Errorf("--only %s: %s is not evaluated yet; run without --only first", r.opts.Only, label)
	}
	st := r.stat("evaluate")
	start := time.Now()
	var scorer evaluate.Scorer = tr
	if ex := k.params.ExcludeLLM; ex != "" {
		scorer = masked{tr, r.sets[0].LLMs, ex}
	}
	res, err := evaluate.Tasks(scorer, data.Tasks, r.sets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	out := &Outcome{Seed: seed, Training: rep, Settings: k.settings, Groups: align}
	for _, t := range res {
		out.Tasks = append(out.Tasks, TaskOutcome{Task: t.Task, OOD: t.OOD, N: t.N, Accuracy: t.Accuracy, Picks: t.Picks, Credits: t.Credits})
	}
	st.Ran++
	st.Seconds += time.Since(start).Seconds()
	if r.opts.Cache != nil {
		err = r.opts.Cache.Put("evaluate", k.evaluate, map[string]any{"train": k.train}, func(dir string) error {
			return writeJSON(filepath.Join(dir, "outcome.json"), out)
		})
	}
	return out, err
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
	return serve.MaskLLM(s, m.llms, m.exclude), nil
}

// grouped runs (or loads) the embed and group stages of one method and seed.
func grouped(opts Options, m Method, seed int64) (*runner, *unitKeys, encode.Persistent, *groupOut, error) {
	r, err := newRunner(opts)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	k, err := keysFor(opts, m, seed)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	enc, err := r.embed(k)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	g, err := r.group(k, enc)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return r, k, enc, g, nil
}

// Trained runs (or loads from the cache) the embed, group and train stages
// of one method and seed and returns the trained router.
func Trained(opts Options, m Method, seed int64) (*serve.Router, error) {
	r, k, enc, groups, err := grouped(opts, m, seed)
	if err != nil {
		return nil, err
	}
	tr, _, err := r.train(m, seed, k, enc, groups, fmt.Sprintf("%s, seed %d", m.Name, seed))
	if err != nil {
		return nil, err
	}
	sr, ok := tr.(*serve.Router)
	if !ok {
		return nil, fmt.Errorf("%s: not a trained router", m.Name)
	}
	return sr, nil
}

// GroupView is the grouping stage's output for one method and seed, with
// what is needed to read it: each training query's task and released
// cluster beside the group we assigned.
type GroupView struct {
	Tasks     []string // task name of each training query
	Released  []int    // released cluster_id of each training query
	Groups    []int    // our group of each training query
	Alignment Alignment
}

// Groups runs (or loads from the cache) the embed and group stages of one
// method and seed. The method must use our groups (group=ours with a
// sample-sample loss).
func Groups(opts Options, m Method, seed int64) (*GroupView, error) {
	k, err := keysFor(opts, m, seed)
	if err != nil {
		return nil, err
	}
	if !router.UsesOurGroups(k.params) {
		return nil, fmt.Errorf("%s: does not use our groups (needs group=ours and lambda > 0)", m.Name)
	}
	_, _, _, g, err := grouped(opts, m, seed)
	if err != nil {
		return nil, err
	}
	set, err := train.Prepare(opts.DataDir, data.Tasks, k.params.SamplesPerTask, k.params.ValFraction, k.params.Seed)
	if err != nil {
		return nil, err
	}
	v := &GroupView{Groups: g.Assign, Alignment: g.Alignment}
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
func (r *runner) monitorRows() []train.Row {
	var rows []train.Row
	for i, t := range data.Tasks {
		if t.OOD {
			continue
		}
		for _, q := range r.sets[i].Queries {
			rows = append(rows, train.Row{Question: q.Question, Scores: q.Scores, Task: i, Cluster: q.ClusterID,
				Credit: t.Metric == data.Probability})
		}
	}
	return rows
}
