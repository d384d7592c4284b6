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

// name and figure become file names under --out; anything but a plain file
// name would write outside it.
func TestDeclarationRefusesPathNames(t *testing.T) {
	sweep := "kind: sweep\nseeds: [1]\nsweep: {param: lambda, values: [1]}\n"
	for _, c := range []struct{ yaml, want string }{
		{"name: ../../escape\n" + sweep, `x.yaml: line 1: key "name": "../../escape" is not a plain file name`},
		{"name: sub/x\n" + sweep, `line 1: key "name": "sub/x"`},
		{"name: /tmp/x\n" + sweep, `line 1: key "name": "/tmp/x"`},
		{"name: ..\n" + sweep, `line 1: key "name": ".."`},
		{"name: \".\"\n" + sweep, `line 1: key "name": "."`},
		{`name: 'a\b'` + "\n" + sweep, `line 1: key "name": "a\\b"`},
		{sweep + "name: x\nfigure: ../../escape.png\n", `x.yaml: line 5: key "figure": "../../escape.png" is not a plain file name`},
		{sweep + "name: x\nfigure: /tmp/f.png\n", `line 5: key "figure": "/tmp/f.png"`},
		{"name: t\nkind: embeddings\nseeds: [1]\nmethods: [{name: a}, {name: b}]\nfigure: ../t.png\n", `line 5: key "figure": "../t.png"`},
	} {
		_, err := Parse("x.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
	if _, err := Parse("x.yaml", []byte("name: ablation-x_1\n"+sweep+"figure: ablation-x.png\n")); err != nil {
		t.Errorf("plain names refused: %v", err)
	}
}

func TestDeclarationSeedsAndSettingsLines(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		// yaml.v3 alone truncates 1.5 to seed 1.
		{"name: x\nkind: sweep\nseeds: [2, 1.5]\nsweep: {param: lambda, values: [1]}\n", `x.yaml: line 3: declaration: seeds[1]: 1.5 is not an integer`},
		{"name: x\nkind: sweep\nseeds:\n  - 1\n  - 2.0\nsweep: {param: lambda, values: [1]}\n", `x.yaml: line 5: declaration: seeds[1]: 2.0 is not an integer`},
		{"name: x\nkind: sweep\nseeds: [1]\n\nsettings: \"lamda=1\"\nsweep: {param: lambda, values: [1]}\n", `x.yaml: line 5: settings: `},
		{"name: x\nkind: sweep\nseeds: [1, 2, 1]\nsweep: {param: lambda, values: [1]}\n", `x.yaml: line 3: key "seeds": [1 2 1] repeats a seed`},
	} {
		_, err := Parse("x.yaml", []byte(c.yaml))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to start with %q", c.yaml, err, c.want)
		}
	}
}
