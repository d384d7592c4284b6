package experiments

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/figures"
	"github.com/routerdc-go/routerdc/pipeline/group"
	"github.com/routerdc-go/routerdc/pipeline/report"
	"github.com/routerdc-go/routerdc/pipeline/reproduce"
)

// embeddingQueries is how many test queries per in-distribution task the
// picture shows (t-SNE is quadratic in the number of points).
const embeddingQueries = 250

// runEmbeddings trains (or loads) the two declared routers for the first
// seed, embeds the same test queries with each, and draws both t-SNE maps
// side by side, coloured by task (the paper's Fig. 3: without and with the
// sample-sample loss).
func runEmbeddings(d *Decl, o Options, ro reproduce.Options) (*Result, error) {
	start := time.Now()
	res := &Result{}
	if o.DryRun || (o.Only != "" && o.Only != "report") {
		return res, nil
	}
	var texts []string
	var labels []int
	var names []string
	for ti, t := range data.IDTasks() {
		ds, err := data.Load(filepath.Join(o.DataDir, filepath.FromSlash(t.Test)))
		if err != nil {
			return nil, err
		}
		names = append(names, t.Name)
		for i := 0; i < len(ds.Queries) && i < embeddingQueries; i++ {
			texts = append(texts, ds.Queries[i].Question)
			labels = append(labels, ti)
		}
	}
	var maps [2][][2]float64
	var titles [2]string
	for i, m := range d.Methods {
		r, err := reproduce.Trained(ro, reproduce.Method{Name: m.Name, Kind: m.Kind, Settings: []string{m.Settings}}, d.Seeds[0])
		if err != nil {
			return nil, err
		}
		emb, err := r.Embeddings(texts)
		if err != nil {
			return nil, err
		}
		xy, err := group.TSNE(emb, group.TSNEConfig{Dims: 2, Seed: d.Seeds[0]}, nil)
		if err != nil {
			return nil, err
		}
		for _, p := range xy {
			maps[i] = append(maps[i], [2]float64{p[0], p[1]})
		}
		titles[i] = fmt.Sprintf("%s (seed %d)", m.Name, d.Seeds[0])
	}
	path := filepath.Join(o.Out, "figures", d.Figure)
	if err := figures.ScatterPair(path, titles[0], titles[1], maps[0], maps[1], labels, names); err != nil {
		return nil, err
	}
	res.Written = append(res.Written, path)
	mpath := filepath.Join(o.Out, "ablations", d.Name+".manifest.json")
	if err := writeManifest(mpath, d, o, nil, start); err != nil {
		return nil, err
	}
	res.Written = append(res.Written, mpath)
	return res, report.WriteIndex(o.Out)
}
