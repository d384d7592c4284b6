package experiments

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/figures"
	"github.com/routerdc-go/routerdc/pipeline/group"
	"github.com/routerdc-go/routerdc/pipeline/report"
	"github.com/routerdc-go/routerdc/pipeline/routerdir"
	"github.com/routerdc-go/routerdc/pipeline/stages"
)

// embeddingQueries is how many test queries per in-distribution task the
// picture shows (t-SNE is quadratic in the number of points).
const embeddingQueries = 250

// EmbeddingMap is one trained router's query embeddings of the same test
// queries, reduced to 2-D by t-SNE.
type EmbeddingMap struct {
	Title  string
	Points [][2]float64
}

// Embeddings is what an embeddings declaration computes: one map per
// declared method, and each point's task.
type Embeddings struct {
	Dataset    string
	Maps       []EmbeddingMap
	Labels     []int    // index into TaskNames, per point
	TaskNames  []string // in-distribution tasks
	Seed       int64
	PerTaskMax int
}

// EmbeddingMaps trains (or loads from the cache) each declared router for
// the first seed, embeds the same in-distribution test queries with each
// (the first embeddingQueries of every task), and maps them to 2-D with a
// seeded t-SNE (the paper's Fig. 3: without and with the sample-sample loss).
func EmbeddingMaps(d *Decl, o Options) (*Embeddings, error) {
	if d.Kind != "embeddings" {
		return nil, fmt.Errorf("%s: kind %q, want embeddings", d.Name, d.Kind)
	}
	ro, err := o.stages(d)
	if err != nil {
		return nil, err
	}
	e := &Embeddings{Dataset: ro.Data.Name, Seed: d.Seeds[0], PerTaskMax: embeddingQueries}
	var texts []string
	for ti, i := range ro.Data.ID() {
		t := ro.Data.Tasks[i]
		ds := t.Test
		e.TaskNames = append(e.TaskNames, t.Name)
		for i := 0; i < len(ds.Queries) && i < embeddingQueries; i++ {
			texts = append(texts, ds.Queries[i].Question)
			e.Labels = append(e.Labels, ti)
		}
	}
	var jobs []stages.Job
	for _, m := range d.Methods {
		jobs = append(jobs, stages.Job{Method: stages.Method{Name: m.Name, Kind: m.Kind, Settings: []string{m.Settings}}, Seed: e.Seed})
	}
	e.Maps = make([]EmbeddingMap, len(jobs))
	err = stages.EachTrained(ro, jobs, func(i int, r *routerdir.Router) error {
		emb, err := r.Embeddings(texts)
		if err != nil {
			return err
		}
		xy, err := group.TSNE(emb, group.TSNEConfig{Dims: 2, Seed: e.Seed}, nil)
		if err != nil {
			return err
		}
		em := EmbeddingMap{Title: fmt.Sprintf("%s (seed %d)", jobs[i].Method.Name, e.Seed)}
		for _, p := range xy {
			em.Points = append(em.Points, [2]float64{p[0], p[1]})
		}
		e.Maps[i] = em
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// runEmbeddings draws the two maps of EmbeddingMaps side by side, coloured
// by task.
func runEmbeddings(d *Decl, o Options) (*Result, error) {
	start := time.Now()
	res := &Result{}
	if o.DryRun || (o.Only != "" && o.Only != "report") {
		return res, nil
	}
	e, err := EmbeddingMaps(d, o)
	if err != nil {
		return nil, err
	}
	if len(e.Maps) != 2 {
		return nil, fmt.Errorf("%s: an embeddings figure compares 2 methods, got %d", d.Name, len(e.Maps))
	}
	path := filepath.Join(o.Out, "figures", d.Figure)
	if err := figures.ScatterPair(path, e.Maps[0].Title, e.Maps[1].Title, e.Maps[0].Points, e.Maps[1].Points, e.Labels, e.TaskNames); err != nil {
		return nil, err
	}
	res.Written = append(res.Written, path)
	mpath := filepath.Join(o.Out, "ablations", d.Name+".manifest.json")
	if err := writeManifest(mpath, e.Dataset, d, o, nil, start); err != nil {
		return nil, err
	}
	res.Written = append(res.Written, mpath)
	return res, report.WriteIndex(o.Out)
}
