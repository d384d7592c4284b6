package data

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// declDir writes files (name -> content) and a declaration decl.yaml into a
// fresh directory and parses the declaration.
func declDir(t *testing.T, decl string, files map[string]string) *Decl {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "decl.yaml")
	if err := os.WriteFile(p, []byte(decl), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := LoadDecl(p)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// loadFails loads d and requires one error that mentions every want.
func loadFails(t *testing.T, d *Decl, wants ...string) {
	t.Helper()
	c, err := d.Load(nil)
	if err == nil {
		t.Fatalf("loaded %+v; want an error mentioning %q", c, wants)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\ndoes not mention %q", err, w)
		}
	}
}

const twoTasks = `name: mine
kind: dataset
%s
tasks:
  - {name: A, train: [sub/a_train.json], test: a_test.json, metric: probability}
  - {name: B, test: b_test.json, metric: multi_attempt, ood: true}
`

func decl(extra string) string { return strings.Replace(twoTasks, "%s", extra, 1) }

func TestLoadRouterDCCollection(t *testing.T) {
	files := map[string]string{
		"sub/a_train.json": `[{"question": "t0", "scores": {"x": 1, "y": 0, "z": 0.5}, "costs": {"z": 3, "x": 1, "y": 2}, "cluster_id": 2},
			{"question": "t1", "scores": {"x": 0, "y": 1, "z": 0.25}, "costs": {"x": 0.5, "y": 0, "z": 1e-6}}]`,
		// Another LLM order, and an LLM the declaration does not use.
		"a_test.json": `[{"question": "a0", "scores": {"w": 1, "z": 0.1, "y": 0.2, "x": 0.3}, "costs": {"w": 9, "x": 1, "y": 2, "z": 3}}]`,
		"b_test.json": `[{"question": "b0", "scores": {"y": 0.7, "x": 0.6, "z": 0.9}, "costs": {"x": 4, "y": 5, "z": 6}}]`,
	}
	d := declDir(t, decl("llms: [z, x, y]"), files)
	c, err := d.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "mine" || c.Builtin || !c.HasCosts || len(c.Dropped) != 0 || !slices.Equal(c.LLMs, []string{"z", "x", "y"}) {
		t.Errorf("collection %+v", c)
	}
	if len(c.Tasks) != 2 || c.Tasks[0].Name != "A" || c.Tasks[0].OOD || c.Tasks[0].Metric != Probability ||
		c.Tasks[1].Name != "B" || !c.Tasks[1].OOD || c.Tasks[1].Metric != MultiAttempt || c.Tasks[1].Train != nil {
		t.Fatalf("tasks %+v", c.Tasks)
	}
	if !slices.Equal(c.ID(), []int{0}) || !slices.Equal(c.OOD(), []int{1}) {
		t.Errorf("ID %v OOD %v", c.ID(), c.OOD())
	}
	train := c.Tasks[0].Train[0]
	want := []Query{
		{Question: "t0", Scores: []float64{0.5, 1, 0}, Costs: []float64{3, 1, 2}, ClusterID: 2},
		{Question: "t1", Scores: []float64{0.25, 0, 1}, Costs: []float64{1e-6, 0.5, 0}, ClusterID: -1},
	}
	checkQueries(t, train, []string{"z", "x", "y"}, want)
	checkQueries(t, c.Tasks[0].Test, []string{"z", "x", "y"},
		[]Query{{Question: "a0", Scores: []float64{0.1, 0.3, 0.2}, Costs: []float64{3, 1, 2}, ClusterID: -1}})
	checkQueries(t, c.Tasks[1].Test, []string{"z", "x", "y"},
		[]Query{{Question: "b0", Scores: []float64{0.9, 0.6, 0.7}, Costs: []float64{6, 4, 5}, ClusterID: -1}})
	if train.Path != filepath.Join(d.Dir, "sub", "a_train.json") {
		t.Errorf("dataset path %s", train.Path)
	}

	var paths []string
	for _, f := range c.Files {
		paths = append(paths, f.Path)
		sum := sha256.Sum256([]byte(files[f.Path]))
		if f.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: sha256 %s, want the file's", f.Path, f.SHA256)
		}
	}
	if want := []string{"sub/a_train.json", "a_test.json", "b_test.json"}; !slices.Equal(paths, want) {
		t.Errorf("files %v, want %v (reading order)", paths, want)
	}
}

func checkQueries(t *testing.T, ds *Dataset, llms []string, want []Query) {
	t.Helper()
	if !slices.Equal(ds.LLMs, llms) {
		t.Errorf("%s: LLMs %v, want %v", ds.Path, ds.LLMs, llms)
	}
	if len(ds.Queries) != len(want) {
		t.Fatalf("%s: %d queries, want %d", ds.Path, len(ds.Queries), len(want))
	}
	for i, q := range ds.Queries {
		w := want[i]
		if q.Question != w.Question || !slices.Equal(q.Scores, w.Scores) || !slices.Equal(q.Costs, w.Costs) || q.ClusterID != w.ClusterID {
			t.Errorf("%s query %d: %+v, want %+v", ds.Path, i, q, w)
		}
	}
}

// Without llms: every file must score the first file's LLMs; their order
// may differ, and becomes the first file's.
func TestLoadDefaultLLMs(t *testing.T) {
	files := map[string]string{
		"sub/a_train.json": `[{"question": "t0", "scores": {"x": 1, "y": 0}}]`,
		"a_test.json":      `[{"question": "a0", "scores": {"y": 0.2, "x": 0.3}}]`,
		"b_test.json":      `[{"question": "b0", "scores": {"x": 0.6, "y": 0.7}}]`,
	}
	c, err := declDir(t, decl(""), files).Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HasCosts {
		t.Error("HasCosts without costs")
	}
	checkQueries(t, c.Tasks[0].Test, []string{"x", "y"}, []Query{{Question: "a0", Scores: []float64{0.3, 0.2}, ClusterID: -1}})

	files["b_test.json"] = `[{"question": "b0", "scores": {"x": 0.6, "y": 0.7, "w": 1}}]`
	loadFails(t, declDir(t, decl(""), files), "b_test.json", `scores LLM "w", which`, "a_train.json (the first file) does not", "llms:")
	files["b_test.json"] = `[{"question": "b0", "scores": {"x": 0.6}}]`
	loadFails(t, declDir(t, decl(""), files), "b_test.json", `has no scores of LLM "y"`)
}

func TestLoadCollectionErrors(t *testing.T) {
	ok := `[{"question": "q", "scores": {"x": 1, "y": 0}}]`
	base := map[string]string{"sub/a_train.json": ok, "a_test.json": ok, "b_test.json": ok}
	with := func(name, content string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		m[name] = content
		return m
	}
	t.Run("LLM listed but absent", func(t *testing.T) {
		loadFails(t, declDir(t, decl("llms: [x, v]"), base), "a_train.json", `LLM "v" (llms:, line 3 of`, "it has x, y")
	})
	t.Run("null score with missing error", func(t *testing.T) {
		d := declDir(t, decl(""), with("a_test.json", `[{"question": "q", "scores": {"x": 1, "y": 0}}, {"question": "r", "scores": {"x": null, "y": 0}}]`))
		loadFails(t, d, "a_test.json: record 1: field \"scores.x\": missing or null")
	})
	t.Run("absent score with missing error", func(t *testing.T) {
		d := declDir(t, decl(""), with("a_test.json", `[{"question": "q", "scores": {"x": 1, "y": 0}}, {"question": "r", "scores": {"y": 0}}]`))
		loadFails(t, d, "a_test.json: record 1: field \"scores.x\": missing or null")
	})
	t.Run("missing cost", func(t *testing.T) {
		d := declDir(t, decl(""), with("a_test.json",
			`[{"question": "q", "scores": {"x": 1, "y": 0}, "costs": {"x": 1, "y": 1}}, {"question": "r", "scores": {"x": 1, "y": 0}, "costs": {"x": 1}}]`))
		loadFails(t, d, "a_test.json: record 1: field \"costs.y\": missing or null")
	})
	t.Run("score outside 0..1", func(t *testing.T) {
		d := declDir(t, decl(""), with("b_test.json", `[{"question": "q", "scores": {"x": 1.5, "y": 0}}]`))
		loadFails(t, d, "b_test.json: record 0: field \"scores.x\": score 1.5 is outside [0,1]")
	})
	t.Run("non-UTF-8", func(t *testing.T) {
		d := declDir(t, decl(""), with("b_test.json", "[{\"question\": \"q\xff\", \"scores\": {\"x\": 1, \"y\": 0}}]"))
		loadFails(t, d, "b_test.json: record 0: field \"question\": text is not valid UTF-8")
	})
	t.Run("missing file", func(t *testing.T) {
		m := with("b_test.json", "")
		delete(m, "b_test.json")
		loadFails(t, declDir(t, decl(""), m), "decl.yaml: dataset mine:", "b_test.json", "no such file")
	})
}

func TestLoadMissingDrop(t *testing.T) {
	files := map[string]string{
		"sub/a_train.json": `[{"question": "t0", "scores": {"x": 1, "y": null}}, {"question": "t1", "scores": {"x": 1, "y": 0}},
			{"question": "t2", "scores": {"x": 0}}]`,
		// w is not used, so its hole drops nothing.
		"a_test.json": `[{"question": "a0", "scores": {"x": 0.3, "y": 0.2, "w": null}}]`,
		"b_test.json": `[{"question": "b0", "scores": {"x": 0.6, "y": 0.7, "w": 1}}]`,
	}
	var progress bytes.Buffer
	d := declDir(t, decl("llms: [x, y]\nmissing: drop"), files)
	c, err := d.Load(&progress)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"sub/a_train.json": 2}; len(c.Dropped) != 1 || c.Dropped["sub/a_train.json"] != 2 {
		t.Errorf("dropped %v, want %v", c.Dropped, want)
	}
	checkQueries(t, c.Tasks[0].Train[0], []string{"x", "y"}, []Query{{Question: "t1", Scores: []float64{1, 0}, ClusterID: -1}})
	want := filepath.Join(d.Dir, "sub", "a_train.json") + ": 2 queries dropped (missing scores)\n"
	if progress.String() != want {
		t.Errorf("progress %q, want %q", progress.String(), want)
	}
	for _, q := range c.Tasks[0].Test.Queries {
		if slices.ContainsFunc(q.Scores, math.IsNaN) {
			t.Errorf("NaN score left: %+v", q)
		}
	}

	files["b_test.json"] = `[{"question": "b0", "scores": {"x": null, "y": 0.7}}]`
	loadFails(t, declDir(t, decl("llms: [x, y]\nmissing: drop"), files), "b_test.json: every one of its 1 queries lacks a score")
}

// A file named by two tasks is read once and counted once.
func TestLoadReadsAFileOnce(t *testing.T) {
	ok := `[{"question": "q", "scores": {"x": 1, "y": 0}}]`
	d := declDir(t, `name: same
kind: dataset
tasks:
  - {name: A, train: [t.json], test: t.json, metric: probability}
`, map[string]string{"t.json": ok})
	c, err := d.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Files) != 1 || c.Tasks[0].Train[0] != c.Tasks[0].Test {
		t.Errorf("files %v", c.Files)
	}
}

func TestLoadUnknownFormatOfHandBuiltDecl(t *testing.T) {
	d := declDir(t, decl(""), map[string]string{"sub/a_train.json": "[]"})
	d.Format = "xml"
	_, err := d.Load(nil)
	if err == nil || !strings.Contains(err.Error(), `unknown format "xml"`) {
		t.Errorf("got %v", err)
	}
}
