package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/engine"
	"github.com/routerdc-go/routerdc/pipeline/evaluate"
	"github.com/routerdc-go/routerdc/pipeline/routerdir"
	"github.com/routerdc-go/routerdc/pipeline/stages"
	"github.com/routerdc-go/routerdc/pipeline/train"
)

// Manifest records how the results were made.
type Manifest struct {
	Seeds     []int64                  `json:"seeds"`
	Methods   []stages.Method          `json:"methods"`
	Settings  []string                 `json:"settings"`
	Versions  routerdir.Versions           `json:"versions"`
	DataDir   string                   `json:"data_dir"`
	Runs      map[string][]RunSummary  `json:"runs"`
	Timings   map[string]float64       `json:"timings_s"`
	Stages    map[string]*engine.Stats `json:"stages"`
	Figures   []string                 `json:"figures"`
	Bootstrap *BootstrapResult         `json:"bootstrap,omitempty"`
}

// RunSummary is one (method, seed) result.
type RunSummary struct {
	Seed     int64              `json:"seed"`
	Accuracy map[string]float64 `json:"accuracy"`
	IDAvg    float64            `json:"id_avg"`
	OODAvg   float64            `json:"ood_avg"`
	Training *train.Report      `json:"training"`
	Groups   *stages.Alignment  `json:"groups,omitempty"`
}

// BootstrapResult is a paired bootstrap of a router against RouterDC on the
// per-query credits averaged over seeds.
type BootstrapResult struct {
	A, B       string
	ID, OOD    [3]float64 // mean difference (A - B), 95% lo, hi
	Iterations int
}

// RunTables runs a tables declaration (the paper's Tables 1 and 2 for
// paper.yaml): reference rows from the data, and every router trained over
// the seeds and evaluated on the 8 test sets; it writes the tables, the
// summary, the report figures, the results index and the manifest.
func RunTables(opts stages.Options) (*Manifest, error) {
	start := time.Now()
	run, err := stages.NewRunner(opts)
	if err != nil {
		return nil, err
	}
	tasks, sets := data.Tasks, run.TestSets
	t1, t2 := Table1(), Table2()
	addRef(t1, t2, tasks, sets)

	man := &Manifest{Seeds: opts.Seeds, Methods: opts.Methods, Settings: opts.Settings,
		Versions: routerdir.CurrentVersions(), DataDir: opts.DataDir,
		Runs: map[string][]RunSummary{}, Timings: map[string]float64{}, Stages: run.Engine.Stats}
	credits := map[string][][]float64{} // method -> task -> per-query credit averaged over seeds
	var baselineFirst *stages.Outcome
	complete := true
	for _, m := range opts.Methods {
		mStart := time.Now()
		var perSeed []map[string]float64
		seeds := opts.Seeds
		if m.SeedFree {
			seeds = seeds[:1]
		}
		for _, seed := range seeds {
			out, err := run.Unit(m, seed)
			if err != nil {
				return nil, err
			}
			if out == nil {
				complete = false
				continue
			}
			if m.Name == opts.Baseline && baselineFirst == nil {
				baselineFirst = out
			}
			if credits[m.Name] == nil {
				credits[m.Name] = make([][]float64, len(tasks))
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
			man.Runs[m.Name] = append(man.Runs[m.Name], RunSummary{Seed: seed, Accuracy: out.Accuracy(), IDAvg: id, OODAvg: ood, Training: out.Training, Groups: out.Groups})
			perSeed = append(perSeed, out.Accuracy())
		}
		if complete {
			t1.Add(m.Name, m.Kind, perSeed)
			t2.Add(m.Name, m.Kind, perSeed)
		}
		man.Timings[m.Name] = time.Since(mStart).Seconds()
	}
	if !complete || opts.DryRun || run.Engine.StopAfter(engine.StageEvaluate) {
		return man, nil
	}
	rStart := time.Now()
	if a, b := credits[opts.Best], credits[opts.Baseline]; a != nil && b != nil {
		man.Bootstrap = bootstrap(opts.Best, opts.Baseline, a, b, tasks)
	}
	note := fmt.Sprintf("Our encoder is the offline hashed character/word n-gram encoder with a trainable projection, "+
		"not the paper's mDeBERTa-v3-base. Router rows: mean over %d seeds %v. Candidate-LLM, Oracle and Random "+
		"rows are computed from the released data. Paper values are the published numbers (reference data).",
		len(opts.Seeds), opts.Seeds)
	tdir := filepath.Join(opts.Out, "tables")
	if err := t1.Write(tdir, note); err != nil {
		return nil, err
	}
	if err := t2.Write(tdir, note); err != nil {
		return nil, err
	}
	figs, err := writeFigures(opts.Out, opts.DataDir, opts.Baseline, baselineFirst, sets)
	if err != nil {
		return nil, err
	}
	for _, f := range figs {
		rel, _ := filepath.Rel(opts.Out, f)
		man.Figures = append(man.Figures, filepath.ToSlash(rel))
	}
	if err := atomicfile.Write(filepath.Join(tdir, "summary.md"), summary(man, t1, t2)); err != nil {
		return nil, err
	}
	if err := WriteIndex(opts.Out); err != nil {
		return nil, err
	}
	run.Engine.Stat(engine.StageReport).Ran++
	run.Engine.Stat(engine.StageReport).Seconds += time.Since(rStart).Seconds()
	man.Timings["total"] = time.Since(start).Seconds()
	// The manifest holds this run's timings and cache hits, so unlike the
	// tables it differs from run to run.
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(opts.Out, "manifest.json"), append(b, '\n')); err != nil {
		return nil, err
	}
	return man, nil
}

// summary is tables/summary.md, the headline numbers (ID/OOD averages,
// ours beside the paper's, and the bootstrap) that results/README.md shows.
func summary(man *Manifest, t1, t2 *Table) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "## Averages (mean over seeds %v; paper values are the published numbers)\n\n", man.Seeds)
	b.WriteString("| method | ID avg | paper ID | OOD avg | paper OOD |\n|---|---|---|---|---|\n")
	for i, r := range t1.Rows {
		r2 := t2.Rows[i]
		cell := func(t *Table, row Row) (string, string) {
			ours := fmt.Sprintf("%.2f", row.Mean[AvgColumn])
			if row.Seeds > 1 {
				ours += fmt.Sprintf(" ± %.2f", row.Std[AvgColumn])
			}
			paper := "—"
			if v, ok := t.Paper.Value(row.Method, AvgColumn); ok {
				paper = fmt.Sprintf("%.2f", v)
			}
			return ours, paper
		}
		o1, p1 := cell(t1, r)
		o2, p2 := cell(t2, r2)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.Method, o1, p1, o2, p2)
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

// addRef adds the rows computed from the data alone: the candidate LLMs in
// the paper's row order, the per-query oracle, the best LLM per task and
// random choice.
func addRef(t1, t2 *Table, tasks []data.Task, sets []*data.Dataset) {
	llms := sets[0].LLMs
	one := func(f func(i int) float64) []map[string]float64 {
		m := map[string]float64{}
		for i, t := range tasks {
			m[t.Name] = f(i)
		}
		return []map[string]float64{m}
	}
	for _, paperRow := range PaperTable1.Rows {
		if paperRow.Kind != KindLLM {
			continue
		}
		for li, id := range llms {
			if data.ShortName(id) == paperRow.Method {
				rows := one(func(i int) float64 { return evaluate.LLMAccuracy(sets[i], tasks[i].Metric, li) })
				t1.Add(paperRow.Method, KindLLM, rows)
				t2.Add(paperRow.Method, KindLLM, rows)
			}
		}
	}
	for _, ref := range []struct {
		name string
		f    func(i int) float64
	}{
		{"Oracle", func(i int) float64 { return evaluate.OracleAccuracy(sets[i], tasks[i].Metric) }},
		{"Best LLM per task (task oracle)", func(i int) float64 {
			_, a := evaluate.BestLLMAccuracy(sets[i], tasks[i].Metric)
			return a
		}},
		{"Random", func(i int) float64 { return evaluate.RandomAccuracy(sets[i], tasks[i].Metric) }},
	} {
		rows := one(ref.f)
		t1.Add(ref.name, "reference", rows)
		t2.Add(ref.name, "reference", rows)
	}
}

func bootstrap(a, b string, ca, cb [][]float64, tasks []data.Task) *BootstrapResult {
	const iters = 2000
	var idA, idB, oodA, oodB [][]float64
	for i, t := range tasks {
		if t.OOD {
			oodA, oodB = append(oodA, ca[i]), append(oodB, cb[i])
		} else {
			idA, idB = append(idA, ca[i]), append(idB, cb[i])
		}
	}
	r := &BootstrapResult{A: a, B: b, Iterations: iters}
	r.ID[0], r.ID[1], r.ID[2] = evaluate.PairedBootstrapTasks(idA, idB, iters, 1)
	r.OOD[0], r.OOD[1], r.OOD[2] = evaluate.PairedBootstrapTasks(oodA, oodB, iters, 2)
	return r
}

// ReadManifest reads a manifest.json written by Run.
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}
