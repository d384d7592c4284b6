package data

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/routerdc-go/routerdc/pipeline/yamlstrict"
)

// DeclKind is the kind of a dataset declaration.
const DeclKind = "dataset"

// The formats a dataset declaration can read.
const (
	// FormatRouterDC is the released JSON layout (see Load), with optional
	// per-LLM costs.
	FormatRouterDC = "routerdc"
	// FormatScores is what `routerdc score` writes: JSON-lines score records
	// of one or more LLMs, or a merged dataset (the routerdc layout).
	FormatScores = "scores"
	// FormatRouterBench is the CSV layout of RouterBench's released files.
	FormatRouterBench = "routerbench"
)

var formats = []string{FormatRouterDC, FormatScores, FormatRouterBench}

// What a declaration does with a query that lacks a score of a used LLM.
const (
	MissingError = "error"
	MissingDrop  = "drop"
)

// Decl is a dataset declaration (kind: dataset): named tasks, each with its
// training files and test file, in one format.
type Decl struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Kind        string `yaml:"kind"`
	Format      string `yaml:"format"`
	// LLMs selects and orders the LLMs of every file; empty: all LLMs of the
	// first file, in its order.
	LLMs    []string   `yaml:"llms"`
	Missing string     `yaml:"missing"`
	Tasks   []TaskDecl `yaml:"tasks"`

	// File is the declaration's path; Dir the directory its file paths are
	// relative to (the data directory for the built-in dataset).
	File string `yaml:"-"`
	Dir  string `yaml:"-"`
	// lines is the line of each top-level key, for errors.
	lines   map[string]int
	builtin bool
}

// TaskDecl is one task of a dataset declaration. Paths are relative to the
// declaration's directory.
type TaskDecl struct {
	Name   string   `yaml:"name"`
	Train  []string `yaml:"train"`
	Test   string   `yaml:"test"`
	Metric Metric   `yaml:"metric"`
	OOD    bool     `yaml:"ood"`
	// EvalName keeps only the rows whose eval_name is one of these (format
	// routerbench): RouterBench releases every benchmark in one file.
	EvalName Names `yaml:"eval_name"`
	line     int
}

// Names is a YAML string or list of strings.
type Names []string

func (n *Names) UnmarshalYAML(v *yaml.Node) error {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" {
		*n = Names{v.Value}
		return nil
	}
	var list []string
	if v.Kind != yaml.SequenceNode || v.Decode(&list) != nil {
		return fmt.Errorf("line %d: key \"eval_name\": want a string or a list of strings", v.Line)
	}
	*n = list
	return nil
}

func (t *TaskDecl) UnmarshalYAML(n *yaml.Node) error {
	type plain TaskDecl
	if err := yamlstrict.Decode(n, "tasks[]", (*plain)(t)); err != nil {
		return err
	}
	t.line = n.Line
	// yaml.v3 leaves a null as nil without asking Names, which would
	// silently take every row.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, v := n.Content[i], n.Content[i+1]; k.Value == "eval_name" && v.ShortTag() == "!!null" {
			return fmt.Errorf("line %d: key \"eval_name\" is empty; leave it out to take every row", v.Line)
		}
	}
	return nil
}

// IsDecl says whether a YAML document is a dataset declaration (kind:
// dataset), so that a command given several declarations can sort them.
func IsDecl(b []byte) bool { return yamlstrict.Kind(b) == DeclKind }

// LoadDecl reads a dataset declaration file.
func LoadDecl(path string) (*Decl, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseDecl(path, b)
}

// ParseDecl decodes and validates a dataset declaration; errors name the
// file, the line and the key. File paths in it are relative to file's
// directory.
func ParseDecl(file string, b []byte) (*Decl, error) {
	d, err := parseDecl(file, b)
	if err != nil {
		return nil, err
	}
	if d.Name == BuiltinName {
		return nil, fmt.Errorf("%s: line %d: key \"name\": %q is the built-in dataset's name; choose another",
			file, d.lines["name"], d.Name)
	}
	return d, nil
}

func parseDecl(file string, b []byte) (*Decl, error) {
	doc, lines, err := yamlstrict.Document(file, b)
	if err != nil {
		return nil, err
	}
	var d Decl
	if err := yamlstrict.Decode(doc, "declaration", &d); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	d.File, d.Dir = file, filepath.Dir(file)
	d.lines = lines
	if err := d.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &d, nil
}

// plainName refuses names that would escape the directory they name a
// file in, since outputs are named after datasets and tasks.
func plainName(v string) error {
	if v == "" {
		return errors.New("is empty")
	}
	if v == "." || v == ".." || strings.ContainsAny(v, `/\`) || filepath.IsAbs(v) || filepath.VolumeName(v) != "" {
		return fmt.Errorf("%q is not a plain file name (no \"/\", \"\\\", \".\" or \"..\")", v)
	}
	return nil
}

func (d *Decl) validate() error {
	if _, ok := d.lines["name"]; !ok {
		return errors.New(`key "name" is missing`)
	}
	if err := plainName(d.Name); err != nil {
		return fmt.Errorf("line %d: key \"name\": %v", d.lines["name"], err)
	}
	if d.Kind != DeclKind {
		if _, ok := d.lines["kind"]; !ok {
			return fmt.Errorf(`key "kind" is missing; a dataset declaration says kind: %s`, DeclKind)
		}
		return fmt.Errorf("line %d: key \"kind\": %q, want %q", d.lines["kind"], d.Kind, DeclKind)
	}
	if d.Format == "" {
		d.Format = FormatRouterDC
	}
	if !slices.Contains(formats, d.Format) {
		return fmt.Errorf("line %d: key \"format\": unknown format %q (known: %s)",
			d.lines["format"], d.Format, strings.Join(formats, ", "))
	}
	if d.Missing == "" {
		d.Missing = MissingError
	}
	if d.Missing != MissingError && d.Missing != MissingDrop {
		return fmt.Errorf("line %d: key \"missing\": %q, want %s or %s", d.lines["missing"], d.Missing, MissingError, MissingDrop)
	}
	for i, llm := range d.LLMs {
		if strings.TrimSpace(llm) == "" {
			return fmt.Errorf("line %d: key \"llms\": entry %d is empty", d.lines["llms"], i)
		}
		if slices.Contains(d.LLMs[:i], llm) {
			return fmt.Errorf("line %d: key \"llms\": %q is listed twice", d.lines["llms"], llm)
		}
	}
	if _, ok := d.lines["llms"]; ok && len(d.LLMs) == 0 {
		return fmt.Errorf("line %d: key \"llms\" is empty; leave it out to use every LLM of the files", d.lines["llms"])
	}
	if len(d.Tasks) == 0 {
		return errors.New(`key "tasks" is missing or empty`)
	}
	var names []string
	for i, t := range d.Tasks {
		at := fmt.Sprintf("line %d: tasks[%d]", t.line, i)
		if err := plainName(t.Name); err != nil {
			return fmt.Errorf("%s: key \"name\": %v", at, err)
		}
		if slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, t.Name) }) {
			return fmt.Errorf("%s: task name %q repeats (names are compared ignoring case)", at, t.Name)
		}
		names = append(names, t.Name)
		if t.Test == "" {
			return fmt.Errorf("%s (%s): key \"test\" is missing", at, t.Name)
		}
		switch t.Metric {
		case Probability, MultiAttempt:
		case "":
			return fmt.Errorf("%s (%s): key \"metric\" is missing (%s: credit 1 when the score > 0; %s: credit = the score)",
				at, t.Name, Probability, MultiAttempt)
		default:
			return fmt.Errorf("%s (%s): key \"metric\": unknown metric %q (known: %s, %s)", at, t.Name, t.Metric, Probability, MultiAttempt)
		}
		switch {
		case t.OOD && len(t.Train) > 0:
			return fmt.Errorf("%s (%s): an ood task is test-only, but it has train files", at, t.Name)
		case !t.OOD && len(t.Train) == 0:
			return fmt.Errorf("%s (%s): no train files; a test-only task must say ood: true", at, t.Name)
		}
		if t.EvalName != nil {
			if d.Format != FormatRouterBench {
				return fmt.Errorf("%s (%s): key \"eval_name\": only format %s files have an eval_name column (format is %s)",
					at, t.Name, FormatRouterBench, d.Format)
			}
			if len(t.EvalName) == 0 {
				return fmt.Errorf("%s (%s): key \"eval_name\" is empty; leave it out to take every row", at, t.Name)
			}
			for j, e := range t.EvalName {
				if strings.TrimSpace(e) == "" {
					return fmt.Errorf("%s (%s): key \"eval_name\": entry %d is empty", at, t.Name, j)
				}
				if slices.Contains(t.EvalName[:j], e) {
					return fmt.Errorf("%s (%s): key \"eval_name\": %q is listed twice", at, t.Name, e)
				}
			}
		}
		for j, f := range append(slices.Clone(t.Train), t.Test) {
			if strings.TrimSpace(f) == "" {
				key := "test"
				if j < len(t.Train) {
					key = fmt.Sprintf("train[%d]", j)
				}
				return fmt.Errorf("%s (%s): key %q: empty path", at, t.Name, key)
			}
		}
	}
	return nil
}

// path is a declared file's path on disk.
func (d *Decl) path(rel string) string {
	p := filepath.FromSlash(rel)
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(d.Dir, p)
}
