package experiments

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
	"github.com/routerdc-go/routerdc/pipeline/train"
)

func TestValidateDeclParses(t *testing.T) {
	d, err := Parse("v.yaml", []byte(`
name: v
kind: validate
settings: "steps=20"
configs:
  - {name: a, settings: "router=task"}
  - {name: "b (credit)", settings: "router=task;target=credit"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Seeds, []int64{1, 2, 3}) {
		t.Errorf("seeds %v, want the default [1 2 3]", d.Seeds)
	}
	if len(d.Configs) != 2 || d.Configs[1].Name != "b (credit)" || d.Configs[1].Settings != "router=task;target=credit" {
		t.Errorf("configs %+v", d.Configs)
	}
	d, err = Load("validation-ours")
	if err != nil {
		t.Fatal(err)
	}
	// Every config of the selection run must be the settings of a paper row
	// it chose (or the kNN k it compared), so the two cannot drift apart.
	paper, err := Load("paper")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, m := range paper.Methods {
		if m.Kind == "ours" || m.Name == paper.Baseline {
			rows[m.Settings] = true
		}
	}
	for _, c := range d.Configs {
		s := c.Settings
		if strings.HasPrefix(s, "router=knn;") {
			s = "router=knn;target=credit;knn_k=400"
		}
		if _, ok := rows[s]; !ok {
			t.Errorf("validation-ours config %q: settings %q are no ours/baseline row of paper.yaml", c.Name, c.Settings)
		}
		rows[s] = false
	}
	// The encoder comparisons validated the rows on other encoders.
	for _, name := range []string{"validation-encoders", "validation-pretrained"} {
		e, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range e.Configs {
			s := c.Settings
			if e.Settings != "" {
				s = e.Settings + ";" + s
			}
			if _, ok := rows[s]; ok {
				rows[s] = false
			}
		}
	}
	for s, missed := range rows {
		if missed {
			t.Errorf("paper row %q has no validation config", s)
		}
	}
}

func TestValidateDeclErrors(t *testing.T) {
	head := "name: x\nkind: validate\nseeds: [1]\n"
	cases := []struct{ yaml, want string }{
		{head + "configs:\n  - {name: a, settings: \"router=task\"}\n  - {name: b, setings: \"x=1\"}\n", `line 6: configs[]: unknown key "setings"`},
		{head + "configs:\n  - {name: a, settings: \"router=task\"}\nmethods: [{name: a}]\n", `"methods" does not apply to kind "validate"`},
		{head + "configs:\n  - {name: a, settings: \"router=task\"}\n  - {name: a, settings: \"router=knn\"}\n", `line 6: configs[1]: name "a" repeats`},
		{head + "configs: []\n", `line 2: kind "validate" needs "configs"`},
		{head, `kind "validate" needs "configs"`},
		{head + "configs:\n  - {name: a/b, settings: \"router=task\"}\n", `line 5: configs[0]: name "a/b" is not a plain name`},
		{head + "configs:\n  - {name: ..}\n", `name ".." is not a plain name`},
		{head + "configs:\n  - {settings: \"router=task\"}\n", `line 5: configs[0]: key "name" is missing`},
		{head + "configs:\n  - {name: a, settings: \"lamda=1\"}\n", `line 5: configs[0].settings`},
		{head + "configs:\n  - {name: a, settings: \"val_fraction=0\"}\n", `line 5: configs[0].settings: val_fraction=0`},
		{"name: x\nkind: validate\nseeds: []\nconfigs: [{name: a}]\n", `"seeds"`},
		{head + "configs: [{name: a}]\nfigure: a.png\n", `"figure" does not apply`},
		{"name: x\nkind: sweep\nseeds: [1]\nsweep: {param: lambda, values: [1]}\nconfigs: [{name: a}]\n", `"configs" does not apply to kind "sweep"`},
	}
	for _, c := range cases {
		_, err := Parse("x.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "x.yaml") {
			t.Errorf("%q:\n got %v\nwant x.yaml: ... %s", c.yaml, err, c.want)
		}
	}
}

// TestValidateRun runs a tiny validate declaration on the released data:
// the CSV has one row per config, best first, and its numbers are
// train.Validation's for the same settings.
func TestValidateRun(t *testing.T) {
	dir := datatest.RequireDir(t)
	const common = "steps=20;eval_every=10;samples_per_task=40;val_fraction=0.2"
	d, err := Parse("tiny.yaml", []byte(`
name: tiny
kind: validate
seeds: [1]
settings: "`+common+`"
configs:
  - {name: routerdc, settings: "router=routerdc;group=task"}
  - {name: task, settings: "router=task;target=credit"}
`))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	res, err := Run(d, Options{DataDir: dir, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(out, "validation", "tiny.csv")
	if !slices.Contains(res.Written, path) {
		t.Errorf("written %v, want %s", res.Written, path)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	col, err := data.Builtin(dir)
	if err != nil {
		t.Fatal(err)
	}
	head := []string{"rank", "name", "settings", "seeds", "val_mean", "val_std"}
	for _, task := range col.Tasks {
		if !task.OOD {
			head = append(head, task.Name)
		}
	}
	if len(recs) != 3 || !slices.Equal(recs[0], head) {
		t.Fatalf("CSV %v\nwant header %v and 2 rows", recs, head)
	}
	t.Logf("CSV: %v", recs)
	f2 := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	var means []float64
	for _, c := range d.Configs {
		want, err := train.Validation(col, []string{common, c.Settings}, []int64{1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		means = append(means, want.Mean)
		i := slices.IndexFunc(recs, func(r []string) bool { return r[1] == c.Name })
		if i < 0 {
			t.Fatalf("no row %q in %v", c.Name, recs)
		}
		r := recs[i]
		// One seed has no std: its cell is empty, not 0.00.
		if r[2] != common+";"+c.Settings || r[3] != "1" || r[4] != f2(want.Mean) || r[5] != "" {
			t.Errorf("row %v: want settings %q, seeds 1, val %s and no std", r, common+";"+c.Settings, f2(want.Mean))
		}
		for j, task := range head[6:] {
			if r[6+j] != f2(want.Tasks[task]) {
				t.Errorf("row %q, %s: %s, want %s", c.Name, task, r[6+j], f2(want.Tasks[task]))
			}
		}
	}
	if means[0] == means[1] {
		t.Fatalf("both configs score %v: the ranking is not exercised", means[0])
	}
	best := 0
	if means[1] > means[0] {
		best = 1
	}
	if recs[1][0] != "1" || recs[1][1] != d.Configs[best].Name || recs[2][0] != "2" {
		t.Errorf("rows %v: want rank 1 = %q (VAL %v)", recs[1:], d.Configs[best].Name, means)
	}
	var man ValidationManifest
	b, err := os.ReadFile(filepath.Join(out, "validation", "tiny.manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	if man.Declaration == nil || man.Declaration.Name != "tiny" || len(man.Configs) != 2 || len(man.Configs[0].PerSeed) != 1 ||
		man.Versions.Go == "" {
		t.Errorf("manifest %s", b)
	}
	// The time the run took is in the run log, not in the manifest.
	if strings.Contains(string(b), `"seconds"`) {
		t.Errorf("the manifest holds this run's time:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(out, "validation", "tiny.manifest.run.json")); err != nil {
		t.Errorf("no run log: %v", err)
	}
}
