package experiments

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
)

// TestJobsDoNotChangeOutputs runs a sweep and a tables declaration one
// unit at a time and two at once, each into its own cold cache: the files
// under --out (tables, CSVs, figures, manifests, the index) are the same
// bytes, so are the cache entries' files (router weights included) once
// their timings are taken out, and the stage counters are the same. The
// sweep's two cells share one seed's embedding, t-SNE and groups
// (group=ours), so that two units need one node at the same time; the
// tables' RouterDC trainings (GoMLX) and the kNN router run side by side.
func TestJobsDoNotChangeOutputs(t *testing.T) {
	dir := datatest.RequireDir(t)
	var decls []*Decl
	for name, text := range map[string]string{"tiny.yaml": `
name: tiny
kind: sweep
seeds: [1]
settings: "router=routerdc;steps=30;eval_every=10;group=ours;clusters=3;samples_per_task=60"
sweep:
  param: lambda
  values: [0.5, 2]
figure: tiny.png
`, "tinytables.yaml": `
name: tinytables
kind: tables
seeds: [1, 2]
settings: "steps=30;eval_every=10;samples_per_task=60;group=cluster"
methods:
  - {name: RouterDC, kind: routerdc, settings: "router=routerdc"}
  - {name: kNN router, kind: ours, settings: "router=knn;target=credit", seed_free: true}
best: kNN router
baseline: RouterDC
`} {
		d, err := Parse(name, []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		decls = append(decls, d)
	}
	type run struct {
		files  map[string][]byte // by "out/..." or "cache/..."
		counts string
	}
	runWith := func(jobs int) run {
		r := run{files: map[string][]byte{}}
		out, cdir := t.TempDir(), t.TempDir()
		c, err := cache.Open(cdir, time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var counts []string
		for _, d := range decls {
			res, err := Run(d, Options{DataDir: dir, Out: out, Cache: c, Jobs: jobs, Progress: new(bytes.Buffer)})
			if err != nil {
				t.Fatalf("jobs %d, %s: %v", jobs, d.Name, err)
			}
			for _, st := range []string{"embed", "tsne", "group", "train", "evaluate"} {
				if s := res.Stages[st]; s != nil {
					counts = append(counts, fmt.Sprintf("%s %s: %d ran, %d cached", d.Name, st, s.Ran, s.Cached))
				}
			}
		}
		r.counts = strings.Join(counts, "\n")
		for role, root := range map[string]string{"out": out, "cache": cdir} {
			err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
				if err != nil || e.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(root, p)
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				switch {
				case strings.HasSuffix(rel, ".run.json"), rel == ".lock":
					return nil // this run's timings; the cache's lock
				case role == "cache":
					if rel, b, err = timeless(rel, b); err != nil || rel == "" {
						return err
					}
				}
				r.files[role+"/"+filepath.ToSlash(rel)] = b
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	one, two := runWith(1), runWith(2)
	if one.counts != two.counts {
		t.Errorf("stage counters differ:\none at a time:\n%s\ntwo at once:\n%s", one.counts, two.counts)
	}
	if !strings.Contains(one.counts, "tiny group: 1 ran, 1 cached") {
		t.Errorf("the sweep's cells do not share their groups:\n%s", one.counts)
	}
	var weights int
	for p, b := range one.files {
		if strings.HasSuffix(p, ".bin") {
			weights++
		}
		if b2, ok := two.files[p]; !ok {
			t.Errorf("%s: written one at a time, not two at once", p)
		} else if !bytes.Equal(b, b2) {
			t.Errorf("%s differs between one unit at a time and two at once", p)
		}
	}
	for p := range two.files {
		if _, ok := one.files[p]; !ok {
			t.Errorf("%s: written two at once, not one at a time", p)
		}
	}
	for _, want := range []string{"out/ablations/tiny.csv", "out/figures/tiny.png", "out/manifest.json", "out/tables/table1.csv", "out/figures/training-curves.png", "out/README.md"} {
		if _, ok := one.files[want]; !ok {
			t.Errorf("no %s among the outputs", want)
		}
	}
	if weights != 4 { // 2 sweep cells and 2 RouterDC seeds
		t.Errorf("%d router weight files compared, want 4", weights)
	}
}

var checkpointTime = regexp.MustCompile(`-\d{8}-\d{6}-`)

// timeless is a cache file without what depends on the clock: entry
// records (they hold the time the entry took, and the hashes of the files
// compared here) are dropped (""), the time in checkpoint names, and the
// timings in JSON files.
func timeless(rel string, b []byte) (string, []byte, error) {
	if filepath.Base(rel) == "entry.json" {
		return "", nil, nil
	}
	rel = checkpointTime.ReplaceAllString(rel, "-TIME-")
	if !strings.HasSuffix(rel, ".json") {
		return rel, b, nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "", nil, fmt.Errorf("%s: %w", rel, err)
	}
	var strip func(v any)
	strip = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, k := range []string{"timing", "seconds", "steps_per_second"} {
				delete(v, k)
			}
			for _, x := range v {
				strip(x)
			}
		case []any:
			for _, x := range v {
				strip(x)
			}
		}
	}
	strip(v)
	b, err := json.Marshal(v)
	return rel, b, err
}
