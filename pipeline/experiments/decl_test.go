package experiments

import (
	"strings"
	"testing"
)

func TestBuiltinDeclarationsParse(t *testing.T) {
	names := Builtin()
	if len(names) < 2 {
		t.Fatalf("built-in declarations: %v", names)
	}
	for _, n := range names {
		d, err := Load(n)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if d.Name != n {
			t.Errorf("%s.yaml declares name %q", n, d.Name)
		}
	}
	d, _ := Load("paper")
	if d.Kind != "tables" || len(d.Methods) < 4 || d.Best == "" || d.Baseline != "RouterDC" {
		t.Errorf("paper declaration: %+v", d)
	}
}

func TestDeclarationErrors(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"name: x\nkind: sweep\nseeds: [1]\nsweep: {param: lambda, values: [1]}\nfigur: a.png\n", `line 5: declaration: unknown key "figur"`},
		{"name: x\nkind: tables\nseeds: [1]\nmethods:\n  - {name: a, settings: \"router=routerdc\"}\n  - {name: b, setings: \"x=1\"}\n", `line 6: methods[]: unknown key "setings"`},
		{"name: x\nkind: tables\nseeds: [a]\nmethods: [{name: a}]\n", "line 1"},
		{"name: x\nkind: tables\nseeds: [1]\nmethods: [{name: a}]\n---\nname: y\n", "a second YAML document"},
		{"name: x\nkind: tables\nseeds: [1]\nmethods:\n  - {name: a, settings: \"router=routerdc\"}\n  - {name: b, settings: \"lamda=1\"}\n", `line 6: methods[1].settings`},
		{"name: x\nkind: sweep\nseeds: [1]\nsweep:\n  param: lambda\n  values: [1, abc]\n", "line 5"},
		{"name: x\nkind: sweep\nseeds: [1]\nsweep: {param: nope, values: [1]}\n", "nope"},
		{"name: x\nkind: tables\nseeds: []\nmethods: [{name: a}]\n", `"seeds"`},
		{"name: x\nkind: graph\nseeds: [1]\n", `"kind"`},
		{"name: x\nkind: tables\nseeds: [1]\nmethods: [{name: a}]\nbest: b\n", `"best"`},
		{"", "empty"},
		{"name: x\nkind: sweep\nseeds: [1]\nsweep: {param: lambda, values: [1]}\nbest: a\n", `"best" does not apply`},
		{"name: x\nkind: tables\nseeds: [1]\nmethods: [{name: a}]\nfigure: a.png\n", `"figure" does not apply`},
		{"name: x\nkind: sweep\nseeds: [1, 2, 1]\nsweep: {param: lambda, values: [1]}\n", "repeats a seed"},
		{"name: x\nkind: sweep\nseeds: [1]\nsweep: {param: lambda, values: [1], values2: [2]}\n", "values2 without"},
		{"name: [unclosed\n", "x.yaml"},
	}
	for _, c := range cases {
		_, err := Parse("x.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "x.yaml") {
			t.Errorf("%q: error %v, want it to start with the file and mention %q", c.yaml, err, c.want)
		}
	}
	if _, err := Load("no-such-experiment"); err == nil || !strings.Contains(err.Error(), "paper") {
		t.Errorf("unknown experiment: %v (should list the built-in ones)", err)
	}
}
