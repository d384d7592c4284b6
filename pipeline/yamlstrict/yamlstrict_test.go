package yamlstrict

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type inner struct {
	B int `yaml:"b"`
}

func (i *inner) UnmarshalYAML(n *yaml.Node) error {
	type plain inner
	return Decode(n, "a", (*plain)(i))
}

type outer struct {
	A    inner  `yaml:"a"`
	Name string `yaml:"name"`
	Skip int    `yaml:"-"`
}

func TestDecode(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"name: x\na: {b: 2}\n", ""},
		{"name: x\nnmae: y\n", `line 2: top: unknown key "nmae" (known: a, name)`},
		{"name: x\na:\n  b: 1\n  c: 2\n", `line 4: a: unknown key "c" (known: b)`},
		{"name: x\na: {b: two}\n", "line 2"},
		{"- 1\n", "line 1: top: want a mapping"},
	} {
		var root yaml.Node
		if err := yaml.Unmarshal([]byte(c.in), &root); err != nil {
			t.Fatal(err)
		}
		var o outer
		err := Decode(root.Content[0], "top", &o)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.want == "" && (o.Name != "x" || o.A.B != 2):
			t.Errorf("%q decoded to %+v", c.in, o)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
}

type ints struct {
	Seeds []int64        `yaml:"seeds"`
	N     int            `yaml:"n"`
	P     *uint          `yaml:"p"`
	M     map[string]int `yaml:"m"`
	Sub   struct {
		K int `yaml:"k"`
	} `yaml:"sub"`
	F float64 `yaml:"f"`
}

// yaml.v3 truncates a float into an integer field (seeds: [1.5] ran seed 1);
// the error must name the line and the key instead.
func TestDecodeRefusesFloatForInteger(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"seeds: [1, 2]\nn: 3\np: 4\nm: {a: 1}\nsub: {k: 5}\nf: 1.5\n", ""},
		{"n: 1\nseeds:\n  - 1\n  - 1.5\n", `line 4: top: seeds[1]: 1.5 is not an integer`},
		{"n: 2.0\n", `line 1: top: n: 2.0 is not an integer`},
		{"p: 1e3\n", `line 1: top: p: 1e3 is not an integer`},
		{"m: {a: 0.5}\n", `line 1: top: m.a: 0.5 is not an integer`},
		{"sub:\n  k: -3.25\n", `line 2: top: sub.k: -3.25 is not an integer`},
	} {
		var root yaml.Node
		if err := yaml.Unmarshal([]byte(c.in), &root); err != nil {
			t.Fatal(err)
		}
		var v ints
		err := Decode(root.Content[0], "top", &v)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.want == "" && (len(v.Seeds) != 2 || v.N != 3 || *v.P != 4 || v.M["a"] != 1 || v.Sub.K != 5 || v.F != 1.5):
			t.Errorf("%q decoded to %+v", c.in, v)
		case c.want != "" && (err == nil || err.Error() != c.want):
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
}
