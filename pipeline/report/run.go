package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/engine"
	"github.com/routerdc-go/routerdc/pipeline/evaluate"
	"github.com/routerdc-go/routerdc/pipeline/router"
	"github.com/routerdc-go/routerdc/pipeline/routerdir"
	"github.com/routerdc-go/routerdc/pipeline/stages"
	"github.com/routerdc-go/routerdc/pipeline/train"
)

// Manifest records how the results were made: what the seeds, the
// settings, the data and the code determine, so that a rerun writes the same
// bytes and a clean checkout stays clean. This run's own facts (timings,
// cache hits, the date) go to the run log beside it (RunLog).
type Manifest struct {
	Seeds     []int64                 `json:"seeds"`
	Methods   []stages.Method         `json:"methods"`
	Settings  []string                `json:"settings"`
	Versions  routerdir.Versions      `json:"versions"`
	Dataset   string                  `json:"dataset"`
	Runs      map[string][]RunSummary `json:"runs"`
	Figures   []string                `json:"figures"`
	Bootstrap *BootstrapResult        `json:"bootstrap,omitempty"`
	// Timings and Stages are this run's: in the run log, not in
	// manifest.json (ReadManifest fills them from the log when there is one).
	Timings map[string]float64       `json:"-"`
	Stages  map[string]*engine.Stats `json:"-"`
}

// RunSummary is one (method, seed) result.
type RunSummary struct {
	Seed     int64              `json:"seed"`
	Accuracy map[string]float64 `json:"accuracy"`
	// Cost is each task's mean cost per query in dollars (data with costs).
	Cost     map[string]float64 `json:"cost,omitempty"`
	IDAvg    float64            `json:"id_avg"`
	OODAvg   float64            `json:"ood_avg"`
	Training *Training          `json:"training"`
	Groups   *stages.Alignment  `json:"groups,omitempty"`
}

// Training is what a manifest keeps of a training report: what the seed
// and settings determine, not how long it took (that is in the run log).
type Training struct {
	NumTrain int                `json:"num_train"`
	NumVal   int                `json:"num_val"`
	ValAcc   float64            `json:"val_acc,omitempty"`
	ValTasks map[string]float64 `json:"val_tasks,omitempty"`
	Train    *TrainCurve        `json:"train,omitempty"`
}

// TrainCurve is a GoMLX router's checkpoint evaluations and the one kept.
type TrainCurve struct {
	BestStep int                 `json:"best_step"`
	BestAcc  float64             `json:"best_select_acc"`
	Curve    []router.CurvePoint `json:"curve"`
	LossEMA  float64             `json:"loss_ema"`
}

func trainingOf(r *train.Report) *Training {
	if r == nil {
		return nil
	}
	t := &Training{NumTrain: r.NumTrain, NumVal: r.NumVal, ValAcc: r.ValAcc, ValTasks: r.ValTasks}
	if tr := r.Train; tr != nil {
		t.Train = &TrainCurve{BestStep: tr.BestStep, BestAcc: tr.BestAcc, Curve: tr.Curve, LossEMA: tr.LossEMA}
	}
	return t
}

// RunLog is the run-specific record beside a manifest (RunLogPath): when
// the run finished, how long its parts took and what the cache held. It
// differs from run to run, so git ignores it (*.run.json).
type RunLog struct {
	Finished string                   `json:"finished"`
	Seconds  float64                  `json:"seconds"`
	Timings  map[string]float64       `json:"timings_s,omitempty"`
	Stages   map[string]*engine.Stats `json:"stages,omitempty"`
	// Training is each (method, seed)'s training timings, in the order of
	// the manifest's runs.
	Training map[string][]TrainingTime `json:"training,omitempty"`
}

// TrainingTime is one training's timings.
type TrainingTime struct {
	Seed      int64        `json:"seed"`
	Timing    train.Timing `json:"timing"`
	Seconds   float64      `json:"train_seconds,omitempty"`
	StepsPerS float64      `json:"steps_per_second,omitempty"`
}

// RunLogPath is the run log beside a manifest: x.json -> x.run.json.
func RunLogPath(manifest string) string {
	return strings.TrimSuffix(manifest, ".json") + ".run.json"
}

// WriteManifest writes a manifest (determined by config, seeds and code)
// and its run log (this run's facts) beside it.
func WriteManifest(path string, manifest any, log *RunLog) error {
	b, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, append(b, '\n')); err != nil {
		return err
	}
	log.Finished = time.Now().UTC().Format(time.RFC3339)
	if b, err = json.MarshalIndent(log, "", "  "); err != nil {
		return err
	}
	return atomicfile.Write(RunLogPath(path), append(b, '\n'))
}

// BootstrapResult is a paired bootstrap of a router against RouterDC on the
// per-query credits averaged over seeds.
type BootstrapResult struct {
	A, B       string
	ID, OOD    [3]float64 // mean difference (A - B), 95% lo, hi
	Iterations int
}

// RunTables runs a tables declaration named name: reference rows from the
// data, and every router trained over the seeds and evaluated on every
// test set. On the released split it writes the paper's Tables 1 and 2
// (tables/table1.*, table2.*, summary.md, the report figures and
// manifest.json); on any other dataset tables/<name>-id.* and
// <name>-ood.*, <name>-summary.md, figures/<name>-*.png and
// tables/<name>-manifest.json.
func RunTables(name string, opts stages.Options) (*Manifest, error) {
	start := time.Now()
	run, err := stages.NewRunner(opts)
	if err != nil {
		return nil, err
	}
	col := run.Data
	var tables []*Table
	if col.Builtin {
		tables = []*Table{Table1(), Table2()}
	} else {
		tables = datasetTables(name, col)
	}
	if err := addRef(tables, col); err != nil {
		return nil, err
	}

	man := &Manifest{Dataset: col.Name, Seeds: opts.Seeds, Methods: opts.Methods, Settings: opts.Settings,
		Versions: routerdir.CurrentVersions(),
		Runs:     map[string][]RunSummary{}, Timings: map[string]float64{}, Stages: run.Engine.Stats}
	log := &RunLog{Timings: man.Timings, Stages: man.Stages, Training: map[string][]TrainingTime{}}
	credits := map[string][][]float64{} // method -> task -> per-query credit averaged over seeds
	var baselineFirst *stages.Outcome
	complete := true
	jobs := run.Jobs(opts.Methods)
	done, err := run.Units(jobs)
	if err != nil {
		return nil, err
	}
	next := 0 // the job of the method and seed below: Units keeps the jobs' order
	for _, m := range opts.Methods {
		var perSeed []map[string]float64
		var encoderLabel string
		seeds := opts.Seeds
		if m.SeedFree {
			seeds = seeds[:1]
		}
		for _, seed := range seeds {
			if j := jobs[next]; j.Method.Name != m.Name || j.Seed != seed {
				return nil, fmt.Errorf("report: job %d is %s seed %d, want %s seed %d", next, j.Method.Name, j.Seed, m.Name, seed)
			}
			out := done[next].Outcome
			man.Timings[m.Name] += done[next].Seconds
			next++
			if out == nil {
				complete = false
				continue
			}
			if m.Name == opts.Baseline && baselineFirst == nil {
				baselineFirst = out
			}
			if credits[m.Name] == nil {
				credits[m.Name] = make([][]float64, len(col.Tasks))
			}
			for i, tr := range out.Tasks {
				if credits[m.Name][i] == nil {
					credits[m.Name][i] = make([]float64, len(tr.Credits))
				}
				for q, c := range tr.Credits {
					credits[m.Name][i][q] += c / float64(len(seeds))
				}
			}
			id, ood := out.Averages()
			sum := RunSummary{Seed: seed, Accuracy: out.Accuracy(), IDAvg: id, OODAvg: ood, Training: trainingOf(out.Training), Groups: out.Groups}
			if tr := out.Training; tr != nil {
				tt := TrainingTime{Seed: seed, Timing: tr.Timing}
				if tr.Train != nil {
					tt.Seconds, tt.StepsPerS = tr.Train.Seconds, tr.Train.StepsPerS
				}
				log.Training[m.Name] = append(log.Training[m.Name], tt)
			}
			if col.HasCosts {
				sum.Cost = map[string]float64{}
				for _, t := range out.Tasks {
					sum.Cost[t.Task] = t.Cost
				}
			}
			man.Runs[m.Name] = append(man.Runs[m.Name], sum)
			encoderLabel = encode.Label(out.Settings)
			perSeed = append(perSeed, out.Values(col.HasCosts))
		}
		if complete {
			for _, t := range tables {
				t.Add(m.Name, m.Kind, encoderLabel, perSeed)
			}
		}
	}
	if !complete || opts.DryRun || run.Engine.StopAfter(engine.StageEvaluate) {
		return man, nil
	}
	rStart := time.Now()
	if a, b := credits[opts.Best], credits[opts.Baseline]; a != nil && b != nil {
		man.Bootstrap = bootstrap(opts.Best, opts.Baseline, a, b, col)
	}
	seedsNote := fmt.Sprintf("Router rows: mean over %d seeds %v.", len(opts.Seeds), opts.Seeds)
	if len(opts.Seeds) == 1 {
		seedsNote = fmt.Sprintf("Router rows: 1 seed (%d).", opts.Seeds[0])
	}
	note := "Each router row names its encoder (none is the paper's fine-tuned mDeBERTa-v3-base; the README's encoder table " +
		"says what each is). " + SettingsNote() + " " + seedsNote + " Candidate-LLM, Oracle and Random " +
		"rows are computed from the released data. Paper values are the published numbers (reference data)."
	prefix, manifest := "", filepath.Join(opts.Out, "manifest.json")
	if !col.Builtin {
		note = fmt.Sprintf("Dataset %s, tables declaration %s. Each router row names its encoder. %s "+
			"The LLM, Oracle, Best LLM per task and Random rows are computed from the data's test files.", col.Name, name, seedsNote)
		prefix, manifest = name+"-", filepath.Join(opts.Out, "tables", name+"-manifest.json")
	}
	tdir := filepath.Join(opts.Out, "tables")
	for _, t := range tables {
		if err := t.Write(tdir, note); err != nil {
			return nil, err
		}
	}
	figs, err := writeFigures(filepath.Join(opts.Out, "figures"), prefix, col, opts.Baseline, baselineFirst, tables, opts.Seeds)
	if err != nil {
		return nil, err
	}
	for _, f := range figs {
		rel, _ := filepath.Rel(opts.Out, f)
		man.Figures = append(man.Figures, filepath.ToSlash(rel))
	}
	if err := atomicfile.Write(filepath.Join(tdir, prefix+"summary.md"), summary(man, tables)); err != nil {
		return nil, err
	}
	if err := WriteIndex(opts.Out); err != nil {
		return nil, err
	}
	run.Engine.Stat(engine.StageReport).Ran++
	run.Engine.Stat(engine.StageReport).Seconds += time.Since(rStart).Seconds()
	man.Timings["total"] = time.Since(start).Seconds()
	log.Seconds = man.Timings["total"]
	if err := WriteManifest(manifest, man, log); err != nil {
		return nil, err
	}
	return man, nil
}

// datasetTables are the empty tables of a dataset that is not the
// released split: its in-distribution tasks (with training files), and its
// out-of-distribution tasks when it has some.
func datasetTables(name string, col *data.Collection) []*Table {
	var out []*Table
	for _, part := range []struct {
		suffix, title string
		tasks         []int
	}{{"id", "in-distribution tasks", col.ID()}, {"ood", "out-of-distribution tasks", col.OOD()}} {
		if len(part.tasks) == 0 {
			continue
		}
		t := &Table{Name: name + "-" + part.suffix, Title: fmt.Sprintf("%s: %s (%s)", name, part.title, col.Name)}
		for _, i := range part.tasks {
			t.Columns = append(t.Columns, col.Tasks[i].Name)
		}
		t.Columns = append(t.Columns, AvgColumn)
		if col.HasCosts {
			t.Columns = append(t.Columns, CostColumn)
		}
		out = append(out, t)
	}
	return out
}

// summary is tables/summary.md, the headline numbers (ID/OOD averages,
// ours beside the paper's, and the bootstrap) that results/README.md shows.
func summary(man *Manifest, tables []*Table) []byte {
	var b strings.Builder
	over := fmt.Sprintf("mean over seeds %v", man.Seeds)
	if len(man.Seeds) == 1 {
		over = fmt.Sprintf("seed %d", man.Seeds[0])
	}
	fmt.Fprintf(&b, "## Averages (%s; paper values are the published numbers)\n\n", over)
	b.WriteString("| method |")
	for _, t := range tables {
		fmt.Fprintf(&b, " %s avg | paper %s |", t.Part(), t.Part())
	}
	b.WriteString("\n|---|" + strings.Repeat("---|---|", len(tables)) + "\n")
	for i, r := range tables[0].Rows {
		fmt.Fprintf(&b, "| %s |", r.Method)
		for _, t := range tables {
			row := t.Rows[i]
			ours := fmt.Sprintf("%.2f", row.Mean[AvgColumn])
			if row.Seeds > 1 {
				ours += fmt.Sprintf(" ± %.2f", row.Std[AvgColumn])
			}
			paper := "—"
			if v, ok := t.Paper.Value(row.Method, AvgColumn); ok {
				paper = fmt.Sprintf("%.2f", v)
			}
			fmt.Fprintf(&b, " %s | %s |", ours, paper)
		}
		b.WriteString("\n")
	}
	wroteHead := false
	for _, m := range man.Methods {
		var ar, nr, at, nt float64
		var n int
		for _, r := range man.Runs[m.Name] {
			if g := r.Groups; g != nil {
				ar, nr, at, nt, n = ar+g.ARIReleased, nr+g.NMIReleased, at+g.ARITask, nt+g.NMITask, n+1
			}
		}
		if n == 0 {
			continue
		}
		if !wroteHead {
			b.WriteString("\n## Our groups (t-SNE + k-means) against the released clusters and the tasks\n\n")
			b.WriteString("Adjusted Rand index (ARI) and normalised mutual information (NMI), mean over seeds; 1 is identical.\n\n")
			b.WriteString("| method | seeds | ARI vs released | NMI vs released | ARI vs tasks | NMI vs tasks |\n|---|---|---|---|---|---|\n")
			wroteHead = true
		}
		k := float64(n)
		fmt.Fprintf(&b, "| %s | %d | %.3f | %.3f | %.3f | %.3f |\n", m.Name, n, ar/k, nr/k, at/k, nt/k)
	}
	if bs := man.Bootstrap; bs != nil {
		fmt.Fprintf(&b, "\n## %s vs %s: paired bootstrap (%d resamples, per-query credits averaged over seeds)\n\n", bs.A, bs.B, bs.Iterations)
		fmt.Fprintf(&b, "- ID average: %+.2f points, 95%% interval [%+.2f, %+.2f]\n", bs.ID[0], bs.ID[1], bs.ID[2])
		fmt.Fprintf(&b, "- OOD average: %+.2f points, 95%% interval [%+.2f, %+.2f]\n", bs.OOD[0], bs.OOD[1], bs.OOD[2])
	}
	return []byte(b.String())
}

// addRef adds the rows computed from the data alone: the candidate LLMs
// (on the released split in the paper's row order, under the paper's names;
// elsewhere in the data's order under their ids), the per-query oracle, the
// best LLM per task and random choice.
func addRef(tables []*Table, col *data.Collection) error {
	// row computes a reference row's accuracy and, with costs, its mean
	// cost per query on every task.
	row := func(acc func(t data.TaskData) float64, cost func(t data.TaskData) (float64, error)) ([]map[string]float64, error) {
		m := map[string]float64{}
		for _, t := range col.Tasks {
			m[t.Name] = acc(t)
			if col.HasCosts {
				c, err := cost(t)
				if err != nil {
					return nil, err
				}
				m[stages.CostKey(t.Name)] = c
			}
		}
		return []map[string]float64{m}, nil
	}
	add := func(name, kind string, acc func(t data.TaskData) float64, cost func(t data.TaskData) (float64, error)) error {
		r, err := row(acc, cost)
		for _, t := range tables {
			if err == nil {
				t.Add(name, kind, "", r)
			}
		}
		return err
	}
	addLLM := func(name string, li int) error {
		return add(name, KindLLM, func(t data.TaskData) float64 { return evaluate.LLMAccuracy(t.Test, t.Metric, li) },
			func(t data.TaskData) (float64, error) { return evaluate.LLMCost(t.Test, li) })
	}
	if col.Builtin {
		for _, paperRow := range PaperTable1.Rows {
			if paperRow.Kind != KindLLM {
				continue
			}
			for li, id := range col.LLMs {
				if data.ShortName(id) == paperRow.Method {
					if err := addLLM(paperRow.Method, li); err != nil {
						return err
					}
				}
			}
		}
	} else {
		for li, id := range col.LLMs {
			if err := addLLM(id, li); err != nil {
				return err
			}
		}
	}
	type ref struct {
		name string
		acc  func(t data.TaskData) float64
		cost func(t data.TaskData) (float64, error)
	}
	oracle := ref{"Oracle", func(t data.TaskData) float64 { return evaluate.OracleAccuracy(t.Test, t.Metric) },
		func(t data.TaskData) (float64, error) { return evaluate.OracleCost(t.Test, t.Metric) }}
	best := ref{"Best LLM per task (task oracle)", func(t data.TaskData) float64 {
		_, a := evaluate.BestLLMAccuracy(t.Test, t.Metric)
		return a
	}, func(t data.TaskData) (float64, error) {
		b, _ := evaluate.BestLLMAccuracy(t.Test, t.Metric)
		return evaluate.LLMCost(t.Test, b)
	}}
	random := ref{"Random", func(t data.TaskData) float64 { return evaluate.RandomAccuracy(t.Test, t.Metric) },
		func(t data.TaskData) (float64, error) { // the expected cost of a uniform choice
			var sum float64
			for li := range col.LLMs {
				c, err := evaluate.LLMCost(t.Test, li)
				if err != nil {
					return 0, err
				}
				sum += c
			}
			return sum / float64(len(col.LLMs)), nil
		}}
	refs := []ref{oracle, best, random}
	if !col.Builtin { // the order of the tables of other datasets: Oracle, Random, Best LLM per task
		refs = []ref{oracle, random, best}
	}
	for _, r := range refs {
		if err := add(r.name, "reference", r.acc, r.cost); err != nil {
			return err
		}
	}
	return nil
}

func bootstrap(a, b string, ca, cb [][]float64, col *data.Collection) *BootstrapResult {
	const iters = 2000
	var idA, idB, oodA, oodB [][]float64
	for i, t := range col.Tasks {
		if t.OOD {
			oodA, oodB = append(oodA, ca[i]), append(oodB, cb[i])
		} else {
			idA, idB = append(idA, ca[i]), append(idB, cb[i])
		}
	}
	r := &BootstrapResult{A: a, B: b, Iterations: iters}
	r.ID[0], r.ID[1], r.ID[2] = evaluate.PairedBootstrapTasks(idA, idB, iters, 1)
	if len(oodA) > 0 {
		r.OOD[0], r.OOD[1], r.OOD[2] = evaluate.PairedBootstrapTasks(oodA, oodB, iters, 2)
	}
	return r
}

// ReadManifest reads a manifest.json written by RunTables, with the
// timings and stage counters of its run log when there is one (a fresh
// checkout has none: they are this machine's).
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err = os.ReadFile(RunLogPath(path))
	if errors.Is(err, os.ErrNotExist) {
		return &m, nil
	}
	if err != nil {
		return nil, err
	}
	var log RunLog
	if err := json.Unmarshal(b, &log); err != nil {
		return nil, fmt.Errorf("%s: %w", RunLogPath(path), err)
	}
	m.Timings, m.Stages = log.Timings, log.Stages
	return &m, nil
}
