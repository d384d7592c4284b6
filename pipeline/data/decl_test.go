package data

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const exampleDecl = `name: rb3
kind: dataset
format: routerbench
llms: [gpt-4-1106-preview, mistralai/mixtral-8x7b-chat]
missing: drop
tasks:
  - {name: ARC-C, train: [arc_challenge_train.csv], test: arc_challenge_test.csv, metric: probability}
  - {name: Winogrande, train: [winograde_train.csv], test: winograde_test.csv, metric: probability}
  - {name: MBPP, test: mbpp_test.csv, metric: multi_attempt, ood: true}
`

func TestParseDecl(t *testing.T) {
	d, err := ParseDecl("decls/rb3.yaml", []byte(exampleDecl))
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "rb3" || d.Format != FormatRouterBench || d.Missing != MissingDrop || d.Dir != "decls" ||
		!slices.Equal(d.LLMs, []string{"gpt-4-1106-preview", "mistralai/mixtral-8x7b-chat"}) || len(d.Tasks) != 3 {
		t.Errorf("got %+v", d)
	}
	mbpp := d.Tasks[2]
	if mbpp.Name != "MBPP" || !mbpp.OOD || mbpp.Train != nil || mbpp.Test != "mbpp_test.csv" || mbpp.Metric != MultiAttempt {
		t.Errorf("MBPP task: %+v", mbpp)
	}
	if got := d.path("mbpp_test.csv"); got != filepath.Join("decls", "mbpp_test.csv") {
		t.Errorf("path relative to the declaration: %s", got)
	}

	// Defaults: routerdc format, missing: error.
	d, err = ParseDecl("x.yaml", []byte("name: x\nkind: dataset\ntasks:\n  - {name: T, train: [a.json], test: b.json, metric: probability}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Format != FormatRouterDC || d.Missing != MissingError {
		t.Errorf("defaults: format %q missing %q", d.Format, d.Missing)
	}
}

func TestParseDeclErrors(t *testing.T) {
	task := "\ntasks:\n  - {name: T, train: [a.json], test: b.json, metric: probability}\n"
	head := "name: x\nkind: dataset"
	for _, c := range []struct{ name, in, want string }{
		{"unknown key", head + "\nformt: scores" + task, `line 3: declaration: unknown key "formt"`},
		{"unknown task key", head + "\ntasks:\n  - {name: T, train: [a.json], tset: b.json, metric: probability}\n",
			`line 4: tasks[]: unknown key "tset"`},
		{"unknown format", head + "\nformat: parquet" + task, `line 3: key "format": unknown format "parquet" (known: routerdc, scores, routerbench)`},
		{"unknown missing", head + "\nmissing: fill" + task, `line 3: key "missing": "fill", want error or drop`},
		{"test-only without ood", head + "\ntasks:\n  - {name: T, test: b.json, metric: probability}\n",
			"line 4: tasks[0] (T): no train files; a test-only task must say ood: true"},
		{"ood with train", head + "\ntasks:\n  - {name: T, train: [a.json], test: b.json, metric: probability, ood: true}\n",
			"line 4: tasks[0] (T): an ood task is test-only, but it has train files"},
		{"no test", head + "\ntasks:\n  - {name: T, train: [a.json], metric: probability}\n", `key "test" is missing`},
		{"no metric", head + "\ntasks:\n  - {name: T, train: [a.json], test: b.json}\n", `key "metric" is missing`},
		{"unknown metric", head + "\ntasks:\n  - {name: T, train: [a.json], test: b.json, metric: f1}\n", `unknown metric "f1"`},
		{"task name repeats", head + "\ntasks:\n  - {name: T, train: [a.json], test: b.json, metric: probability}\n  - {name: t, test: c.json, metric: probability, ood: true}\n",
			`line 5: tasks[1]: task name "t" repeats`},
		{"task name with slash", head + "\ntasks:\n  - {name: a/b, train: [a.json], test: b.json, metric: probability}\n", `"a/b" is not a plain file name`},
		{"name is a path", "name: ../x\nkind: dataset" + task, `line 1: key "name": "../x" is not a plain file name`},
		{"name is dot dot", "name: ..\nkind: dataset" + task, `".." is not a plain file name`},
		{"no name", "kind: dataset" + task, `key "name" is missing`},
		{"no kind", "name: x" + task, `key "kind" is missing`},
		{"other kind", "name: x\nkind: tables" + task, `line 2: key "kind": "tables", want "dataset"`},
		{"no tasks", head + "\n", `key "tasks" is missing or empty`},
		{"llms repeat", head + "\nllms: [a, b, a]" + task, `line 3: key "llms": "a" is listed twice`},
		{"llms empty", head + "\nllms: []" + task, `line 3: key "llms" is empty`},
		{"built-in name", "name: routerdc-split2\nkind: dataset" + task, "the built-in dataset's name"},
		{"train not a list", head + "\ntasks:\n  - {name: T, train: a.json, test: b.json, metric: probability}\n", "line 4"},
		{"two documents", head + task + "---\nname: y\n", "a second YAML document"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseDecl("decl.yaml", []byte(c.in))
			if err == nil {
				t.Fatalf("accepted:\n%s", c.in)
			}
			if !strings.HasPrefix(err.Error(), "decl.yaml: ") {
				t.Errorf("error %q does not start with the file", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func TestIsDecl(t *testing.T) {
	for in, want := range map[string]bool{
		exampleDecl:                   true,
		"name: x\nkind: tables\n":     false,
		"kind: scores\n":              false,
		"not: [valid":                 false,
		"- a list\n":                  false,
		"kind: dataset\nname: only\n": true,
	} {
		if got := IsDecl([]byte(in)); got != want {
			t.Errorf("IsDecl(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestLoadDeclMissingFile(t *testing.T) {
	if _, err := LoadDecl(filepath.Join(t.TempDir(), "nope.yaml")); !os.IsNotExist(err) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}

// The embedded declaration is the catalog: same tasks, the files with
// cluster ids for training, the same metrics and OOD flags.
func TestBuiltinDeclIsTheCatalog(t *testing.T) {
	d := BuiltinDecl("/data")
	if d.Name != BuiltinName || !d.IsBuiltin() || d.Format != FormatRouterDC || d.Missing != MissingError || d.LLMs != nil {
		t.Errorf("built-in declaration: %+v", d)
	}
	if len(d.Tasks) != len(Tasks) {
		t.Fatalf("%d tasks, the catalog has %d", len(d.Tasks), len(Tasks))
	}
	for i, want := range Tasks {
		got := d.Tasks[i]
		var train []string
		if want.ClusterTrain != "" {
			train = []string{want.ClusterTrain}
		}
		if got.Name != want.Name || got.Test != want.Test || got.Metric != want.Metric || got.OOD != want.OOD ||
			!slices.Equal(got.Train, train) {
			t.Errorf("task %d: %+v, catalog %+v", i, got, want)
		}
	}
	if p := d.path("split2_model7/mbpp.json"); p != filepath.Join("/data", "split2_model7", "mbpp.json") {
		t.Errorf("built-in paths are not under the data dir: %s", p)
	}
	if _, err := ParseDecl("x.yaml", builtinYAML); err == nil {
		t.Error("a user declaration may take the built-in name")
	}
}
