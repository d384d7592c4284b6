package experiments

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/engine"
	"github.com/routerdc-go/routerdc/pipeline/evaluate"
	"github.com/routerdc-go/routerdc/pipeline/figures"
	"github.com/routerdc-go/routerdc/pipeline/report"
	"github.com/routerdc-go/routerdc/pipeline/router"
	"github.com/routerdc-go/routerdc/pipeline/routerdir"
	"github.com/routerdc-go/routerdc/pipeline/routers"
	"github.com/routerdc-go/routerdc/pipeline/stages"
)

// Options of a run; Out is the results directory (tables under
// Out/tables, sweeps under Out/ablations, figures under Out/figures).
type Options struct {
	// DataDir holds the released split (the built-in dataset).
	DataDir string
	// Datasets are the dataset declarations given beside the experiment
	// declarations, which a `data:` key may name.
	Datasets []*data.Decl
	// Loaded keeps the datasets loaded in this process by declaration
	// (nil: each run loads its dataset again).
	Loaded    map[string]*data.Collection
	Out       string
	Settings  []string // command-line overrides, applied after the declaration's
	Progress  io.Writer
	Cache     *cache.Store
	Force     bool
	DryRun    bool
	DryRunOut io.Writer
	Only      string
	// Jobs is how many units (method and seed) run at once; 0:
	// engine.Jobs's default. The outputs are the same for any value.
	Jobs int
}

// Result is what a run produced.
type Result struct {
	Manifest *report.Manifest // tables
	Sweep    *SweepResult     // sweeps
	Stages   map[string]*engine.Stats
	Written  []string // files written
}

// collection loads the declaration's dataset: the built-in released split
// unless its `data:` names a dataset declaration given alongside or the
// path of one (relative to the declaring file).
func (o Options) collection(d *Decl) (*data.Collection, error) {
	dd, err := data.ResolveDecl(d.Data, filepath.Dir(d.File), o.DataDir, o.Datasets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.File, err)
	}
	key := dd.File + "\x00" + dd.Dir
	if col := o.Loaded[key]; col != nil {
		return col, nil
	}
	col, err := dd.Load(o.Progress)
	if err != nil {
		return nil, err
	}
	if o.Loaded != nil {
		o.Loaded[key] = col
	}
	return col, nil
}

func (o Options) stages(d *Decl) (stages.Options, error) {
	col, err := o.collection(d)
	if err != nil {
		return stages.Options{}, err
	}
	return stages.Options{
		Data: col, Out: o.Out, Seeds: d.Seeds, Progress: o.Progress,
		Settings: []string{d.Settings}, Overrides: o.Settings,
		Cache: o.Cache, Force: o.Force, DryRun: o.DryRun, DryRunOut: o.DryRunOut, Only: o.Only,
		Best: d.Best, Baseline: d.Baseline, Jobs: o.Jobs,
	}, nil
}

// Run runs a declaration.
func Run(d *Decl, o Options) (*Result, error) {
	if d.Kind == "validate" {
		return runValidate(d, o)
	}
	ro, err := o.stages(d)
	if err != nil {
		return nil, err
	}
	if d.Kind == "tables" {
		for _, m := range d.Methods {
			ro.Methods = append(ro.Methods, stages.Method{Name: m.Name, Kind: m.Kind, Settings: []string{m.Settings}, SeedFree: m.SeedFree})
		}
		man, err := report.RunTables(d.Name, ro)
		if err != nil {
			return nil, err
		}
		res := &Result{Manifest: man, Stages: man.Stages}
		if !o.DryRun && (o.Only == "" || o.Only == "report") {
			res.Written = []string{filepath.Join(o.Out, "tables"), filepath.Join(o.Out, "figures"), filepath.Join(o.Out, "README.md")}
			if ro.Data.Builtin {
				res.Written = append(res.Written, filepath.Join(o.Out, "manifest.json"))
			}
		}
		return res, nil
	}
	if d.Kind == "embeddings" {
		return runEmbeddings(d, o)
	}
	return runSweep(d, o, ro)
}

// Trained runs (or loads from the cache) the embed, group and train stages
// of one of a declaration's methods for one seed and returns the router.
func Trained(d *Decl, o Options, method string, seed int64) (*routerdir.Router, error) {
	m, err := d.method(method)
	if err != nil {
		return nil, err
	}
	ro, err := o.stages(d)
	if err != nil {
		return nil, err
	}
	return stages.Trained(ro, m, seed)
}

// Groups runs (or loads from the cache) the embed and group stages of one of
// a declaration's methods for one seed.
func Groups(d *Decl, o Options, method string, seed int64) (*stages.GroupView, error) {
	m, err := d.method(method)
	if err != nil {
		return nil, err
	}
	ro, err := o.stages(d)
	if err != nil {
		return nil, err
	}
	return stages.Groups(ro, m, seed)
}

func (d *Decl) method(name string) (stages.Method, error) {
	var names []string
	for _, m := range d.Methods {
		if m.Name == name {
			return stages.Method{Name: m.Name, Kind: m.Kind, Settings: []string{m.Settings}, SeedFree: m.SeedFree}, nil
		}
		names = append(names, m.Name)
	}
	return stages.Method{}, fmt.Errorf("%s: no method %q (methods: %s)", d.Name, name, strings.Join(names, "; "))
}

// SweepPoint is one cell of a sweep: the settings' values and the outcome
// over seeds.
type SweepPoint struct {
	Method        string // the method's name in a sweep of several methods
	Value, Value2 string
	ID, OOD       []float64 // per seed
	// All is the mean accuracy over every task and Cost the mean cost per
	// query (data with costs), per seed.
	All, Cost []float64
	Tasks     map[string][]float64
	Complete  bool
}

// SweepResult is a whole sweep.
type SweepResult struct {
	Decl   *Decl
	Tasks  []string // the dataset's task names, in order
	Costs  bool     // the data has costs: the CSV has a cost column
	NoOOD  bool     // the data has no out-of-distribution task: no OOD series
	Points []SweepPoint
}

func cellName(s *SweepDecl, v, v2 string) string {
	name := s.Param + "=" + v
	if s.Param2 != "" {
		name += ";" + s.Param2 + "=" + v2
	}
	return name
}

func runSweep(d *Decl, o Options, ro stages.Options) (*Result, error) {
	start := time.Now()
	s := d.Sweep
	for _, set := range o.Settings {
		for _, kv := range strings.Split(set, ";") {
			key, _, _ := strings.Cut(kv, "=")
			if key != "" && (key == s.Param || key == s.Param2) {
				return nil, fmt.Errorf("%s: --set %s would override the swept setting %q", d.File, kv, key)
			}
		}
	}
	values2 := []string{""}
	if s.Param2 != "" {
		values2 = s.Values2
	}
	// A sweep of several methods (a cost_rate sweep comparing routers)
	// runs every cell for each; else the cells are the methods.
	methods := d.Methods
	if len(methods) == 0 {
		methods = []MethodDecl{{}}
	}
	cell := func(m MethodDecl, v, v2 string) stages.Method {
		name := cellName(s, v, v2)
		if m.Name == "" {
			return stages.Method{Name: name, Kind: "sweep", Settings: []string{name}}
		}
		return stages.Method{Name: m.Name + ": " + name, Kind: "sweep", Settings: []string{m.Settings, name}, SeedFree: m.SeedFree}
	}
	for _, m := range methods {
		for _, v := range s.Values {
			for _, v2 := range values2 {
				ro.Methods = append(ro.Methods, cell(m, v, v2))
			}
		}
	}
	outs, stats, err := stages.Outcomes(ro)
	if err != nil {
		return nil, err
	}
	res := &Result{Stages: stats, Sweep: &SweepResult{Decl: d}}
	for _, t := range ro.Data.Tasks {
		res.Sweep.Tasks = append(res.Sweep.Tasks, t.Name)
	}
	res.Sweep.Costs, res.Sweep.NoOOD = ro.Data.HasCosts, len(ro.Data.OOD()) == 0
	complete := true
	for _, m := range methods {
		for _, v := range s.Values {
			for _, v2 := range values2 {
				pt := SweepPoint{Method: m.Name, Value: v, Value2: v2, Tasks: map[string][]float64{}, Complete: true}
				for _, out := range outs[cell(m, v, v2).Name] {
					if out == nil {
						pt.Complete, complete = false, false
						continue
					}
					id, ood := out.Averages()
					pt.ID, pt.OOD = append(pt.ID, id), append(pt.OOD, ood)
					var all, cost float64
					for _, t := range out.Tasks {
						pt.Tasks[t.Task] = append(pt.Tasks[t.Task], t.Accuracy)
						all += t.Accuracy / float64(len(out.Tasks))
						cost += t.Cost / float64(len(out.Tasks))
					}
					pt.All, pt.Cost = append(pt.All, all), append(pt.Cost, cost)
				}
				res.Sweep.Points = append(res.Sweep.Points, pt)
			}
		}
	}
	if !complete || o.DryRun || (o.Only != "" && o.Only != "report") {
		return res, nil
	}
	path := filepath.Join(o.Out, "ablations", d.Name+".csv")
	if err := atomicfile.Write(path, res.Sweep.CSV()); err != nil {
		return nil, err
	}
	res.Written = append(res.Written, path)
	mpath := filepath.Join(o.Out, "ablations", d.Name+".manifest.json")
	if err := writeManifest(mpath, ro.Data.Name, d, o, stats, start); err != nil {
		return nil, err
	}
	res.Written = append(res.Written, mpath)
	if len(d.Methods) > 0 {
		aiq, err := costSweep(d, res.Sweep, ro.Data)
		if err != nil {
			return nil, err
		}
		apath := filepath.Join(o.Out, "ablations", d.Name+"-aiq.csv")
		if err := atomicfile.Write(apath, aiq.csv()); err != nil {
			return nil, err
		}
		res.Written = append(res.Written, apath)
		if d.Figure != "" {
			fig := filepath.Join(o.Out, "figures", d.Figure)
			title := d.Name + ": accuracy vs cost per query"
			if d.Title != "" {
				title = d.Title
			}
			title += " (" + overSeeds("mean", d.Seeds) + ")"
			if err := figures.CostQuality(fig, title, aiq.llms, aiq.curves); err != nil {
				return nil, err
			}
			res.Written = append(res.Written, fig)
		}
	} else if d.Figure != "" {
		fig := filepath.Join(o.Out, "figures", d.Figure)
		if err := drawSweep(fig, res.Sweep); err != nil {
			return nil, err
		}
		res.Written = append(res.Written, fig)
	}
	if err := report.WriteIndex(o.Out); err != nil {
		return nil, err
	}
	res.Written = append(res.Written, filepath.Join(o.Out, "README.md"))
	return res, nil
}

// CSV renders the sweep: one row per cell with the ID/OOD averages (mean
// and std over seeds) and each task's mean accuracy.
func (r *SweepResult) CSV() []byte {
	s := r.Decl.Sweep
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	var head []string
	if len(r.Decl.Methods) > 0 {
		head = append(head, "method")
	}
	head = append(head, s.Param)
	if s.Param2 != "" {
		head = append(head, s.Param2)
	}
	head = append(head, "seeds", "id_mean", "id_std", "ood_mean", "ood_std")
	if r.Costs {
		head = append(head, "all_mean", "cost_mean")
	}
	head = append(head, r.Tasks...)
	_ = w.Write(head)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	for _, p := range r.Points {
		var rec []string
		if len(r.Decl.Methods) > 0 {
			rec = append(rec, p.Method)
		}
		rec = append(rec, p.Value)
		if s.Param2 != "" {
			rec = append(rec, p.Value2)
		}
		idm, ids := evaluate.MeanStd(p.ID)
		oodm, oods := evaluate.MeanStd(p.OOD)
		// One seed has no spread: its std cells stay empty, not 0.00.
		sd := func(v float64) string {
			if len(p.ID) < 2 {
				return ""
			}
			return f(v)
		}
		rec = append(rec, strconv.Itoa(len(p.ID)), f(idm), sd(ids), f(oodm), sd(oods))
		if r.Costs {
			rec = append(rec, f(evaluate.Mean(p.All)), strconv.FormatFloat(evaluate.Mean(p.Cost), 'g', 6, 64))
		}
		for _, t := range r.Tasks {
			m, _ := evaluate.MeanStd(p.Tasks[t])
			rec = append(rec, f(m))
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return buf.Bytes()
}

// overSeeds says what a value over seeds is: "mean over seeds 1-5", or
// "seed 1" (a mean or std of one value says nothing).
func overSeeds(what string, seeds []int64) string {
	if len(seeds) == 1 {
		return report.SeedList(seeds)
	}
	return what + " over " + report.SeedList(seeds)
}

// paramLabels explain the swept settings on figure axes; other settings
// are labelled by their declared description.
var paramLabels = map[string]string{
	"lambda":           "lambda (weight of the sample-sample loss)",
	"k_pos":            "K+ (positive LLMs per query)",
	"k_neg":            "K- (negative LLMs per query)",
	"h":                "H (in-batch negatives of the sample-sample loss)",
	"steps":            "training steps",
	"samples_per_task": "training samples per task",
	"clusters":         "number of clusters N",
	"llms":             "candidate LLMs (the first k of the file)",
	"baseline_lambda":  "weight of the sample-sample loss added to ZOOTER",
	"exclude_llm":      "LLM removed at inference",
	"group":            "groups of the sample-sample loss",
	"target":           "training target",
	"encoder":          "query encoder",
}

func axisLabel(param string) string {
	if l, ok := paramLabels[param]; ok {
		return l
	}
	// A long description would squeeze the plots to slivers (the axis label
	// takes its width from the figure): then the key alone.
	if doc := settingDoc(param); doc != "" && len(doc) <= 48 {
		return param + " (" + doc + ")"
	}
	return param
}

// settingDoc is a setting's declared description ("" if undeclared).
func settingDoc(key string) string {
	for _, s := range routers.Settings() {
		if s.Key == key {
			return s.Doc
		}
	}
	return ""
}

// sweepTitle says what a sweep shows: its declaration's title, else the
// router and the swept setting's description.
func sweepTitle(d *Decl) string {
	if d.Title != "" {
		return d.Title
	}
	if d.Sweep == nil {
		return d.Name
	}
	// The router kind the settings pick (Parse has validated them).
	store := router.NewStore(1)
	kind := "router"
	if router.ApplySettings(store, []string{d.Settings}) == nil {
		kind = routers.Read(store).String(router.ParamRouter)
	}
	what := settingDoc(d.Sweep.Param)
	if what == "" {
		what = d.Sweep.Param
	}
	if d.Sweep.Param2 != "" {
		what2 := settingDoc(d.Sweep.Param2)
		if what2 == "" {
			what2 = d.Sweep.Param2
		}
		what += " and " + what2
	}
	return kind + ": " + what
}

// drawSweep draws a one-setting sweep as ID/OOD panels of points with error
// bars (lines when the values are numbers), and a two-setting grid as a
// heatmap of the ID average.
func drawSweep(path string, r *SweepResult) error {
	s := r.Decl.Sweep
	if s.Param2 != "" {
		vals := make([][]float64, len(s.Values2))
		for j := range s.Values2 {
			vals[j] = make([]float64, len(s.Values))
		}
		for i, v := range s.Values {
			for j := range s.Values2 {
				p := r.Points[i*len(s.Values2)+j]
				if p.Value != v {
					return fmt.Errorf("sweep %s: point order", r.Decl.Name)
				}
				vals[j][i], _ = evaluate.MeanStd(p.ID)
			}
		}
		title := fmt.Sprintf("%s: ID average accuracy (%%), %s", sweepTitle(r.Decl), overSeeds("mean", r.Decl.Seeds))
		return figures.AblationHeatmap(path, title, axisLabel(s.Param), axisLabel(s.Param2), s.Values, s.Values2, vals)
	}
	id := figures.Series{Name: "ID tasks: average accuracy"}
	ood := figures.Series{Name: "OOD tasks: average accuracy"}
	var xs []float64
	numeric := true
	for _, p := range r.Points {
		m, sd := evaluate.MeanStd(p.ID)
		id.Mean, id.Std = append(id.Mean, m), append(id.Std, sd)
		m, sd = evaluate.MeanStd(p.OOD)
		ood.Mean, ood.Std = append(ood.Mean, m), append(ood.Std, sd)
		x, err := strconv.ParseFloat(p.Value, 64)
		numeric = numeric && err == nil
		xs = append(xs, x)
	}
	title := fmt.Sprintf("%s; %s", sweepTitle(r.Decl), overSeeds("mean ± std", r.Decl.Seeds))
	if !numeric {
		cats := make([]string, len(s.Values))
		for i, v := range s.Values {
			cats[i] = data.ShortName(v) // LLM ids are long; others pass through
		}
		return figures.AblationCategories(path, title, axisLabel(s.Param), "accuracy (%)", cats, r.series(id, ood))
	}
	return figures.AblationLine(path, title, axisLabel(s.Param), "accuracy (%)", xs, r.series(id, ood))
}

// SweepManifest records how a sweep's outputs were made: what the
// declaration, the settings and the code determine, so a rerun writes the
// same bytes. This run's timings and cache hits go to its run log
// (report.RunLogPath), which git ignores.
type SweepManifest struct {
	Declaration *Decl              `json:"declaration"`
	Settings    []string           `json:"command_line_settings"`
	Versions    routerdir.Versions `json:"versions"`
	Dataset     string             `json:"dataset"`
}

func writeManifest(path, dataset string, d *Decl, o Options, stats map[string]*engine.Stats, start time.Time) error {
	return report.WriteManifest(path, SweepManifest{Declaration: d, Settings: o.Settings, Versions: routerdir.CurrentVersions(),
		Dataset: dataset}, &report.RunLog{Stages: stats, Seconds: time.Since(start).Seconds()})
}

// costCurves are a cost_rate sweep's points: each LLM alone and each
// method's curve over cost_rate, with the method's AIQ over the LLMs'
// cost range (RouterBench's average improvement in quality).
type costCurves struct {
	llms   []figures.LabeledPoint
	curves []figures.CostCurve
	aiq    []float64
	lo, hi float64
}

// costSweep computes a cost_rate sweep's quality (mean accuracy over every
// task) and cost (mean dollars per query over every task) per LLM and per
// method and cost_rate, and each method's AIQ.
func costSweep(d *Decl, r *SweepResult, col *data.Collection) (*costCurves, error) {
	if !col.HasCosts {
		return nil, fmt.Errorf("%s: a sweep of several methods is a cost_rate sweep and needs data with costs; dataset %s has none", d.File, col.Name)
	}
	c := &costCurves{lo: math.Inf(1), hi: math.Inf(-1)}
	for li, llm := range col.LLMs {
		var acc, cost float64
		for _, t := range col.Tasks {
			lc, err := evaluate.LLMCost(t.Test, li)
			if err != nil {
				return nil, err
			}
			acc += evaluate.LLMAccuracy(t.Test, t.Metric, li) / float64(len(col.Tasks))
			cost += lc / float64(len(col.Tasks))
		}
		c.llms = append(c.llms, figures.LabeledPoint{Name: data.ShortName(llm), Cost: cost, Quality: acc})
		c.lo, c.hi = math.Min(c.lo, cost), math.Max(c.hi, cost)
	}
	for _, m := range d.Methods {
		curve := figures.CostCurve{Name: m.Name}
		for _, p := range r.Points {
			if p.Method == m.Name {
				curve.Points = append(curve.Points, evaluate.CostPoint{Cost: evaluate.Mean(p.Cost), Quality: evaluate.Mean(p.All)})
			}
		}
		a, err := evaluate.AIQ(curve.Points, c.lo, c.hi)
		if err != nil {
			return nil, fmt.Errorf("%s: AIQ of %s: %w", d.Name, m.Name, err)
		}
		c.curves, c.aiq = append(c.curves, curve), append(c.aiq, a)
	}
	return c, nil
}

// csv is one row per method: its AIQ and the cost range it is taken over.
func (c *costCurves) csv() []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"method", "aiq", "cost_lo", "cost_hi"})
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for i, cv := range c.curves {
		_ = w.Write([]string{cv.Name, strconv.FormatFloat(c.aiq[i], 'f', 2, 64), g(c.lo), g(c.hi)})
	}
	w.Flush()
	return buf.Bytes()
}

// series are the sweep figure's lines: ID and OOD averages, or ID alone on
// data without OOD tasks.
func (r *SweepResult) series(id, ood figures.Series) []figures.Series {
	if r.NoOOD {
		return []figures.Series{id}
	}
	return []figures.Series{id, ood}
}
