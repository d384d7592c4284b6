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
