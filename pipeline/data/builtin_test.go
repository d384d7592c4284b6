package data

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The built-in collection holds exactly what train.Prepare (the cluster
// training files) and evaluate.TestSets (the test files) read through Load:
// the same rows in the same order, the same LLM order, no costs.
func TestBuiltinIsTheReleasedData(t *testing.T) {
	dir := realDir(t)
	c, err := Builtin(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != BuiltinName || !c.Builtin || c.HasCosts || len(c.Dropped) != 0 || !slices.Equal(c.LLMs, LLMs) {
		t.Errorf("collection %s builtin %v costs %v dropped %v LLMs %v", c.Name, c.Builtin, c.HasCosts, c.Dropped, c.LLMs)
	}
	if len(c.Tasks) != len(Tasks) {
		t.Fatalf("%d tasks", len(c.Tasks))
	}
	same := func(got *Dataset, rel string) {
		t.Helper()
		want, err := Load(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s differs from Load's", rel)
		}
	}
	sums := map[string]string{}
	for _, f := range Files() {
		sums[f.Path] = f.SHA256
	}
	var read []string
	for i, task := range Tasks {
		td := c.Tasks[i]
		if td.Name != task.Name || td.Metric != task.Metric || td.OOD != task.OOD {
			t.Errorf("task %d: %s %s %v", i, td.Name, td.Metric, td.OOD)
		}
		if task.OOD {
			if td.Train != nil {
				t.Errorf("%s: train files", task.Name)
			}
		} else {
			if len(td.Train) != 1 {
				t.Fatalf("%s: %d train files", task.Name, len(td.Train))
			}
			same(td.Train[0], task.ClusterTrain)
			read = append(read, task.ClusterTrain)
		}
		same(td.Test, task.Test)
		read = append(read, task.Test)
	}
	var files []string
	for _, f := range c.Files {
		files = append(files, f.Path)
		if f.SHA256 != sums[f.Path] {
			t.Errorf("%s: sha256 %s, release %s", f.Path, f.SHA256, sums[f.Path])
		}
	}
	if !slices.Equal(files, read) {
		t.Errorf("files %v, want %v", files, read)
	}
}

// The SHA256 check against the release stays, for this dataset only.
func TestBuiltinChecksTheRelease(t *testing.T) {
	_, err := Builtin(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "does not hold the released RouterDC data") {
		t.Errorf("Builtin on an empty dir: %v", err)
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "decls", "mine.yaml")
	if err := os.MkdirAll(filepath.Dir(mine), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mine, []byte(strings.Replace(decl(""), "name: mine", "name: onfile", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	given, err := ParseDecl("cli/given.yaml", []byte(decl("")))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"", BuiltinName} {
		d, err := ResolveDecl(ref, dir, "/the/data", []*Decl{given})
		if err != nil || !d.IsBuiltin() || d.Dir != "/the/data" {
			t.Errorf("ResolveDecl(%q) = %+v, %v; want the built-in under the data dir", ref, d, err)
		}
	}
	if d, err := ResolveDecl("mine", dir, "", []*Decl{given}); err != nil || d != given {
		t.Errorf("by name: %v, %v", d, err)
	}
	if d, err := ResolveDecl("decls/mine.yaml", dir, "", nil); err != nil || d.Name != "onfile" || d.Dir != filepath.Dir(mine) {
		t.Errorf("by path relative to the declaring file: %+v, %v", d, err)
	}
	if d, err := ResolveDecl(mine, "/elsewhere", "", nil); err != nil || d.Name != "onfile" {
		t.Errorf("by absolute path: %+v, %v", d, err)
	}
	_, err = ResolveDecl("nope", dir, "", []*Decl{given})
	want := `data "nope": not the built-in dataset routerdc-split2, not a dataset declaration given alongside (mine), and no file ` + filepath.Join(dir, "nope")
	if err == nil || err.Error() != want {
		t.Errorf("unknown: %v\nwant %s", err, want)
	}
	if _, err := ResolveDecl("mine", dir, "", []*Decl{given, given}); err == nil || !strings.Contains(err.Error(), "two dataset declarations") {
		t.Errorf("two of a name: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: x\nkind: tables\n"), 0o644)
	if _, err := ResolveDecl("bad.yaml", dir, "", nil); err == nil || !strings.Contains(err.Error(), `data "bad.yaml": `+bad+`: line 2: key "kind"`) {
		t.Errorf("not a dataset declaration: %v", err)
	}
	if _, err := Resolve("nope", dir, "", nil, nil); err == nil {
		t.Error("Resolve of an unknown dataset loaded something")
	}
}
