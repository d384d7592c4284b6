// Package experiments holds the pipeline's declared experiments (one YAML
// file each, embedded in the binary) and runs them: "tables" declarations
// reproduce the paper's tables, "sweep" declarations vary one or two
// settings over seeds (the ablations).
package experiments

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/routerdc-go/routerdc/pipeline/router"
	"github.com/routerdc-go/routerdc/pipeline/yamlstrict"
)

//go:embed *.yaml
var builtin embed.FS

// Decl is one experiment declaration.
type Decl struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
	Kind        string `yaml:"kind" json:"kind"` // tables | sweep | embeddings | validate
	// Data names the dataset: the built-in released split (default), a
	// dataset declaration given on the same command line, or the path of
	// one relative to this file.
	Data     string       `yaml:"data" json:"data,omitempty"`
	Seeds    []int64      `yaml:"seeds" json:"seeds"`
	Settings string       `yaml:"settings" json:"settings"` // applied to every run: "key=value;key=value"
	Methods  []MethodDecl `yaml:"methods" json:"methods"`   // tables
	Best     string       `yaml:"best" json:"best"`         // tables: our best method, bootstrapped against Baseline
	Baseline string       `yaml:"baseline" json:"baseline"`
	Sweep    *SweepDecl   `yaml:"sweep" json:"sweep"`
	Figure   string       `yaml:"figure" json:"figure"` // sweep: file name under results/figures
	// Title says what a sweep's figure shows; without one the figure is
	// titled by the router and the swept setting's description.
	Title string `yaml:"title" json:"title,omitempty"`
	// Configs are a validate declaration's configurations (validate.go).
	Configs []ConfigDecl `yaml:"configs" json:"configs,omitempty"`

	File string `yaml:"-" json:"-"`
	// lines is the line of each top-level key, for errors.
	lines map[string]int
}

// MethodDecl is one row of a tables declaration.
type MethodDecl struct {
	Name     string `yaml:"name" json:"name"`
	Kind     string `yaml:"kind" json:"kind"`
	Settings string `yaml:"settings" json:"settings"`
	SeedFree bool   `yaml:"seed_free" json:"seed_free"`
	line     int
}

// SweepDecl varies Param over Values (and Param2 over Values2: a grid).
type SweepDecl struct {
	Param   string   `yaml:"param" json:"param"`
	Values  []string `yaml:"values" json:"values"`
	Param2  string   `yaml:"param2" json:"param2"`
	Values2 []string `yaml:"values2" json:"values2"`
	line    int
}

func (m *MethodDecl) UnmarshalYAML(n *yaml.Node) error {
	type plain MethodDecl
	if err := yamlstrict.Decode(n, "methods[]", (*plain)(m)); err != nil {
		return err
	}
	m.line = n.Line
	return nil
}

func (s *SweepDecl) UnmarshalYAML(n *yaml.Node) error {
	type plain SweepDecl
	if err := yamlstrict.Decode(n, "sweep", (*plain)(s)); err != nil {
		return err
	}
	s.line = n.Line
	return nil
}

// Load reads a declaration from a file, or a built-in one by name
// ("paper", "ablation-lambda", ...).
func Load(path string) (*Decl, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !strings.ContainsRune(path, filepath.Separator) {
		name := strings.TrimSuffix(path, ".yaml") + ".yaml"
		if bb, berr := builtin.ReadFile(name); berr == nil {
			return Parse("pipeline/experiments/"+name, bb)
		}
		return nil, fmt.Errorf("%s: no such file, and no built-in experiment of that name (built-in: %s)", path, strings.Join(Builtin(), ", "))
	}
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Builtin lists the embedded declarations by name.
func Builtin() []string {
	entries, _ := builtin.ReadDir(".")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return out
}

// Parse decodes and validates a declaration; errors name the file, the line
// and the key.
func Parse(file string, b []byte) (*Decl, error) {
	doc, lines, err := yamlstrict.Document(file, b)
	if err != nil {
		return nil, err
	}
	var d Decl
	if err := yamlstrict.Decode(doc, "declaration", &d); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	d.File, d.lines = file, lines
	if err := d.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &d, nil
}

func checkSettings(line int, key string, settings ...string) error {
	if err := router.ApplySettings(router.NewStore(1), settings); err != nil {
		return fmt.Errorf("line %d: %s: %v", line, key, err)
	}
	return nil
}

func (d *Decl) validate() error {
	if d.Name == "" {
		return errors.New(`key "name" is missing`)
	}
	d.defaultValidateSeeds()
	if len(d.Seeds) == 0 {
		return errors.New(`key "seeds" is missing or empty`)
	}
	if err := checkSettings(d.lines["settings"], "settings", d.Settings); err != nil {
		return err
	}
	if err := d.checkFileName("name", d.Name); err != nil {
		return err
	}
	if d.Figure != "" {
		if err := d.checkFileName("figure", d.Figure); err != nil {
			return err
		}
	}
	// Keys that do not apply to the kind are errors, not silently ignored.
	notFor := func(key string, set bool, kind string) error {
		if set {
			return fmt.Errorf("key %q does not apply to kind %q", key, kind)
		}
		return nil
	}
	for _, err := range []error{
		notFor("sweep", d.Sweep != nil && d.Kind != "sweep", d.Kind),
		notFor("methods", len(d.Methods) > 0 && d.Kind == "validate", d.Kind),
		notFor("configs", d.lines["configs"] > 0 && d.Kind != "validate", d.Kind),
		notFor("best", d.Best != "" && d.Kind != "tables", d.Kind),
		notFor("baseline", d.Baseline != "" && d.Kind != "tables", d.Kind),
		notFor("figure", d.Figure != "" && (d.Kind == "tables" || d.Kind == "validate"), d.Kind),
		notFor("title", d.Title != "" && d.Kind != "sweep", d.Kind),
	} {
		if err != nil {
			return err
		}
	}
	if len(d.Methods) > 0 && d.Kind == "sweep" && (d.Sweep == nil || d.Sweep.Param != router.ParamCostRate) {
		return fmt.Errorf("line %d: key \"methods\": only a cost_rate sweep compares methods (sweep.param: %s)",
			d.lines["methods"], router.ParamCostRate)
	}
	if len(d.Seeds) != len(uniqueSeeds(d.Seeds)) {
		return fmt.Errorf("line %d: key \"seeds\": %v repeats a seed", d.lines["seeds"], d.Seeds)
	}
	names, err := d.checkMethods()
	if err != nil {
		return err
	}
	switch d.Kind {
	case "tables", "embeddings":
		if len(d.Methods) == 0 {
			return errors.New(`kind "tables" needs "methods"`)
		}
		if d.Kind == "embeddings" && (len(d.Methods) != 2 || !strings.HasSuffix(d.Figure, ".png")) {
			return errors.New(`kind "embeddings" needs exactly 2 methods and a .png "figure"`)
		}
		for key, v := range map[string]string{"best": d.Best, "baseline": d.Baseline} {
			if v != "" && !slices.Contains(names, v) {
				return fmt.Errorf("key %q: %q is not one of the methods", key, v)
			}
		}
	case "sweep":
		s := d.Sweep
		if s == nil {
			return errors.New(`kind "sweep" needs "sweep"`)
		}
		if len(s.Values) == 0 {
			return fmt.Errorf("line %d: sweep.values is empty", s.line)
		}
		for _, v := range s.Values {
			if err := checkSettings(s.line, "sweep", d.Settings, s.Param+"="+v); err != nil {
				return err
			}
		}
		if len(d.Methods) > 0 && s.Param2 != "" {
			return fmt.Errorf("line %d: a cost_rate sweep of several methods takes no sweep.param2", s.line)
		}
		if s.Param2 == "" && len(s.Values2) > 0 {
			return fmt.Errorf("line %d: sweep.values2 without sweep.param2", s.line)
		}
		if s.Param2 != "" {
			if len(s.Values2) == 0 {
				return fmt.Errorf("line %d: sweep.values2 is empty", s.line)
			}
			for _, v := range s.Values2 {
				if err := checkSettings(s.line, "sweep", d.Settings, s.Param2+"="+v); err != nil {
					return err
				}
			}
		}
		if d.Figure != "" && !strings.HasSuffix(d.Figure, ".png") {
			return fmt.Errorf("key \"figure\": %q is not a .png file name", d.Figure)
		}
	case "validate":
		return d.validateConfigs()
	default:
		return fmt.Errorf(`key "kind": %q, want "tables", "sweep", "embeddings" or "validate"`, d.Kind)
	}
	return nil
}

// checkMethods checks the methods' names and settings and returns the
// names.
func (d *Decl) checkMethods() ([]string, error) {
	var names []string
	for i, m := range d.Methods {
		if m.Name == "" {
			return nil, fmt.Errorf("line %d: methods[%d]: key \"name\" is missing", m.line, i)
		}
		if slices.Contains(names, m.Name) {
			return nil, fmt.Errorf("line %d: methods[%d]: name %q repeats", m.line, i, m.Name)
		}
		names = append(names, m.Name)
		if err := checkSettings(m.line, fmt.Sprintf("methods[%d].settings", i), d.Settings, m.Settings); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// checkFileName refuses a name or figure that is not a plain file name: Run
// writes <out>/ablations/<name>.csv and <out>/figures/<figure>, so a
// separator, "..", or an absolute path would write outside --out.
func (d *Decl) checkFileName(key, v string) error {
	if v == "." || v == ".." || strings.ContainsAny(v, `/\`) || filepath.IsAbs(v) || filepath.VolumeName(v) != "" {
		return fmt.Errorf("line %d: key %q: %q is not a plain file name (no \"/\", \"\\\", \".\" or \"..\"; outputs go under --out)",
			d.lines[key], key, v)
	}
	return nil
}

func uniqueSeeds(seeds []int64) map[int64]bool {
	m := map[int64]bool{}
	for _, s := range seeds {
		m[s] = true
	}
	return m
}
