package stage

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/engine"
	"github.com/routerdc-go/routerdc/pipeline/score"
	"github.com/routerdc-go/routerdc/pipeline/score/answer"
	"github.com/routerdc-go/routerdc/pipeline/score/questions"
	"github.com/routerdc-go/routerdc/pipeline/yamlstrict"
)

// Kind is the declaration kind of a scoring declaration.
const Kind = "scores"

// Decl declares a scoring run: where each LLM's scores come from and which
// datasets to merge them into.
type Decl struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Kind        string `yaml:"kind"`
	// Out is the directory the datasets are written to (relative to the
	// declaration's directory).
	Out string `yaml:"out"`
	// LLMs is the LLM order of every dataset (the router reads scores by
	// position). Every source's LLM must be listed.
	LLMs     []string  `yaml:"llms"`
	Sources  []Source  `yaml:"sources"`
	Datasets []Dataset `yaml:"datasets"`

	// Dir is the declaration's directory; relative paths start there.
	Dir string `yaml:"-"`
}

// Dataset is one merged RouterDC-format file: every LLM's scores on one task.
type Dataset struct {
	Task string `yaml:"task"`
	// Split selects the sources of that split (see Source.Split).
	Split string `yaml:"split"`
	File  string `yaml:"file"` // under Out
	// Fill gives a missing score this value; DropIncomplete drops queries
	// some LLM lacks. Neither: a dataset with holes is refused.
	Fill           *float64 `yaml:"fill"`
	DropIncomplete bool     `yaml:"drop_incomplete"`
	line           int
}

func (d *Dataset) UnmarshalYAML(n *yaml.Node) error {
	type plain Dataset
	if err := yamlstrict.Decode(n, "datasets[]", (*plain)(d)); err != nil {
		return err
	}
	d.line = n.Line
	return nil
}

// IsDecl says whether a YAML document is a scoring declaration (kind:
// scores), so that `routerdc run` can hand it over.
func IsDecl(b []byte) bool { return yamlstrict.Kind(b) == Kind }

// Load reads a declaration file.
func Load(path string) (*Decl, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse decodes and validates a declaration; errors name the file, the line
// and the key.
func Parse(file string, b []byte) (*Decl, error) {
	doc, _, err := yamlstrict.Document(file, b)
	if err != nil {
		return nil, err
	}
	var d Decl
	if err := yamlstrict.Decode(doc, "declaration", &d); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	d.Dir = filepath.Dir(file)
	if err := d.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &d, nil
}

func (d *Decl) validate() error {
	switch {
	case d.Name == "":
		return errors.New(`key "name" is missing`)
	case d.Kind != Kind:
		return fmt.Errorf(`key "kind": %q, want %q`, d.Kind, Kind)
	case d.Out == "":
		return errors.New(`key "out" (the datasets' directory) is missing`)
	case len(d.LLMs) == 0:
		return errors.New(`key "llms" (the datasets' LLM order) is missing`)
	case len(d.Sources) == 0:
		return errors.New(`key "sources" is missing or empty`)
	case len(d.Datasets) == 0:
		return errors.New(`key "datasets" is missing or empty`)
	}
	for i, l := range d.LLMs {
		if slices.Index(d.LLMs, l) != i {
			return fmt.Errorf("key \"llms\": %q is listed twice", l)
		}
	}
	seen := map[[3]string]int{}
	for i := range d.Sources {
		s := &d.Sources[i]
		if err := s.Check(); err != nil {
			return fmt.Errorf("line %d: sources[%d]: %w", s.line, i, err)
		}
		if !slices.Contains(d.LLMs, s.LLM) {
			return fmt.Errorf("line %d: sources[%d]: llm %q is not in \"llms\" %v", s.line, i, s.LLM, d.LLMs)
		}
		t, _ := questions.Resolve(s.Task)
		k := [3]string{s.LLM, t.Name + "/" + t.Subtask, s.Split}
		if j, dup := seen[k]; dup {
			return fmt.Errorf("line %d: sources[%d]: %s on %s (split %q) is also sources[%d]; give each split its own \"split\"",
				s.line, i, s.LLM, s.Task, s.Split, j)
		}
		seen[k] = i
	}
	files := map[string]bool{}
	for i, ds := range d.Datasets {
		if _, err := questions.Resolve(ds.Task); err != nil {
			return fmt.Errorf("line %d: datasets[%d]: \"task\": %w", ds.line, i, err)
		}
		if ds.File == "" || filepath.IsAbs(ds.File) || strings.HasPrefix(filepath.Clean(ds.File), "..") {
			return fmt.Errorf("line %d: datasets[%d]: \"file\" must be a relative path under \"out\", got %q", ds.line, i, ds.File)
		}
		if files[ds.File] {
			return fmt.Errorf("line %d: datasets[%d]: file %q repeats", ds.line, i, ds.File)
		}
		files[ds.File] = true
		if ds.Fill != nil && ds.DropIncomplete {
			return fmt.Errorf("line %d: datasets[%d]: \"fill\" and \"drop_incomplete\" exclude each other", ds.line, i)
		}
		// Every dataset has every LLM, in the declared order: the router
		// reads scores by position, so all files must agree.
		t, _ := questions.Resolve(ds.Task)
		for _, llm := range d.LLMs {
			if len(d.sourcesOf(llm, t.Name, ds.Split)) == 0 {
				return fmt.Errorf("line %d: datasets[%d]: no source scores %s on %s, split %q (every dataset has every LLM in \"llms\")",
					ds.line, i, llm, t.Name, ds.Split)
			}
		}
	}
	return nil
}

// sourcesOf are the indexes of the sources of one LLM on one task (several
// when the task comes in subtasks, e.g. one lm-eval log per MMLU subject).
func (d *Decl) sourcesOf(llm, task, split string) []int {
	var out []int
	for i, s := range d.Sources {
		if t, _ := questions.Resolve(s.Task); s.LLM == llm && t.Name == task && s.Split == split {
			out = append(out, i)
		}
	}
	return out
}

// resolved is the source with its paths made absolute from the
// declaration's directory.
func (d *Decl) resolved(s Source) Source {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(d.Dir, p)
	}
	s.Files = slices.Clone(s.Files)
	for i := range s.Files {
		s.Files[i] = abs(s.Files[i])
	}
	s.Problems, s.Generations, s.References, s.Input = abs(s.Problems), abs(s.Generations), abs(s.References), abs(s.Input)
	return s
}

// Options of a run.
type Options struct {
	Cache     *cache.Store // nil: nothing cached
	Force     bool         // recompute every step
	DryRun    bool         // print the plan to DryRunOut and run nothing
	DryRunOut io.Writer
	Progress  io.Writer
	Log       io.Writer
}

// Result is what a run did.
type Result struct {
	Written []string
	Scored  int // sources scored now
	Cached  int // sources taken from the cache
}

// Run scores every source (or takes it from the cache) and writes every
// dataset, on the pipeline's engine (stages score and merge).
func Run(ctx context.Context, d *Decl, o Options) (*Result, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	e, err := engine.New(engine.Pipeline, engine.Options{Cache: o.Cache, Force: o.Force, DryRun: o.DryRun,
		DryRunOut: o.DryRunOut, Progress: o.Progress})
	if err != nil {
		return nil, err
	}
	nodes := make([]*engine.Node, len(d.Sources))
	for i, raw := range d.Sources {
		s := d.resolved(raw)
		if nodes[i], err = node(s); err != nil {
			return nil, fmt.Errorf("sources[%d] (%s on %s): %w", i, s.LLM, s.Task, err)
		}
	}
	res := &Result{}
	recs := make([]*records, len(d.Sources))
	if !o.DryRun {
		for i, raw := range d.Sources {
			s := d.resolved(raw)
			if recs[i], err = scoreSource(ctx, e, nodes[i], s, log); err != nil {
				return nil, fmt.Errorf("sources[%d] (%s on %s): %w", i, s.LLM, s.Task, err)
			}
		}
		st := e.Stat(engine.StageScore)
		res.Scored, res.Cached = st.Ran, st.Cached
	}
	for _, ds := range d.Datasets {
		path, err := d.merge(e, ds, nodes, recs, log)
		if err != nil {
			return nil, err
		}
		if path != "" {
			res.Written = append(res.Written, path)
		}
	}
	return res, nil
}

// records are a score node's output: in memory when just scored, else the
// file of its cache entry, read only if a merge needs it.
type records struct {
	recs []score.Record
	path string
}

func (r *records) read() ([]score.Record, error) {
	if r.path == "" {
		return r.recs, nil
	}
	return score.ReadRecords(r.path)
}

// scoreSource scores one source. An API source's results file lives in
// the node's resume directory (engine.Partial) so that a killed run
// resumes it and changed settings start afresh; the engine removes it once
// the records are safe.
func scoreSource(ctx context.Context, e *engine.Engine, n *engine.Node, s Source, log io.Writer) (*records, error) {
	return engine.Do(e, n, engine.Step[*records]{
		Run: func() (*records, error) {
			fmt.Fprintf(log, "scoring %s (%s)\n", s.label(), s.From)
			r := RunOptions{Progress: e.Progress, Log: log, Fingerprint: n.Key}
			if s.From == FromAPI {
				dir, err := e.Partial(n)
				if err != nil {
					return nil, err
				}
				r.Out = filepath.Join(dir, "results.jsonl")
			}
			recs, err := s.Records(ctx, r)
			if s.Cost != nil {
				for i := range recs {
					recs[i].Cost = s.Cost
				}
			}
			var bad *score.Error
			switch {
			case err != nil && errors.As(err, &bad) && bad.File == r.Out:
				// A damaged resume file cannot be resumed from.
				return nil, fmt.Errorf("%w: the saved scores cannot be resumed from; delete %s (or rerun with --force) to score from the start",
					err, filepath.Dir(r.Out))
			case err != nil && r.Out != "":
				return nil, fmt.Errorf("%w (scored queries are kept in %s; a rerun resumes)", err, r.Out)
			}
			return &records{recs: recs}, err
		},
		Save: func(dir string, r *records) error { return writeRecords(filepath.Join(dir, "records.jsonl"), r.recs) },
		Load: func(dir string) (*records, error) { return &records{path: filepath.Join(dir, "records.jsonl")}, nil },
	})
}

// merged is a merge node's output: the dataset just merged, or the file of
// its cache entry.
type merged struct {
	m    *score.Merged
	path string
}

func (d *Decl) merge(e *engine.Engine, ds Dataset, nodes []*engine.Node, recs []*records, log io.Writer) (string, error) {
	t, _ := questions.Resolve(ds.Task)
	var deps []*engine.Node // LLM by LLM in the declared order
	for _, llm := range d.LLMs {
		for _, i := range d.sourcesOf(llm, t.Name, ds.Split) {
			deps = append(deps, nodes[i])
		}
	}
	out := filepath.Join(d.Dir, d.Out, ds.File)
	n, err := engine.Pipeline.Node(engine.StageMerge, ds.File+" -> "+out, map[string]any{"llms": d.LLMs, "task": t.Name,
		"fill": ds.Fill, "drop_incomplete": ds.DropIncomplete}, deps...)
	if err != nil {
		return "", err
	}
	if e.DryRun {
		e.Plan(n)
		return "", nil
	}
	res, err := engine.Do(e, n, engine.Step[*merged]{
		Run: func() (*merged, error) {
			tmp, err := os.MkdirTemp("", "routerdc-merge-")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(tmp)
			// One input per LLM: the records of all its sources on this
			// task, written to a file so that Merge's errors name lines.
			var in []score.Input
			for k, llm := range d.LLMs {
				var all []score.Record
				for _, i := range d.sourcesOf(llm, t.Name, ds.Split) {
					part, err := recs[i].read()
					if err != nil {
						return nil, err
					}
					all = append(all, part...)
				}
				path := filepath.Join(tmp, fmt.Sprintf("%d.jsonl", k))
				if err := writeRecords(path, all); err != nil {
					return nil, err
				}
				in = append(in, score.Input{Path: path, LLM: llm})
			}
			m, err := score.Merge(in, score.MergeOptions{LLMOrder: d.LLMs, Fill: ds.Fill, DropIncomplete: ds.DropIncomplete, Task: t.Name})
			if err != nil {
				return nil, fmt.Errorf("datasets %s: %w", ds.File, err)
			}
			if m.Filled > 0 || m.Dropped > 0 {
				fmt.Fprintf(log, "%s: %d scores filled, %d queries dropped\n", ds.File, m.Filled, m.Dropped)
			}
			return &merged{m: m}, nil
		},
		Save: func(dir string, v *merged) error { return v.m.WriteDataset(filepath.Join(dir, "dataset.json")) },
		Load: func(dir string) (*merged, error) { return &merged{path: filepath.Join(dir, "dataset.json")}, nil },
	})
	if err != nil {
		return "", err
	}
	if res.path == "" {
		return out, res.m.WriteDataset(out)
	}
	return out, publish(res.path, out)
}

// publish copies a cached dataset to out, unless out already holds it.
func publish(cached, out string) error {
	b, err := os.ReadFile(cached)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, b) {
		return nil
	}
	return atomicfile.Write(out, b)
}

// Key is a source's cache key and API fingerprint: the contents of the
// files it reads (not their paths, so a moved checkout keeps its cache) and
// its settings with defaults applied and names resolved, so that "mmlu" and
// "MMLU", or an omitted and an explicit default, are the same source. The
// endpoint is left out (the model name identifies the model; a server moved
// to another port keeps its scores), as are concurrency and the API key.
func Key(s Source) (string, error) {
	n, err := node(s)
	if err != nil {
		return "", err
	}
	return n.Key, nil
}

// node is a source's unit of the score stage.
func node(s Source) (*engine.Node, error) {
	label := s.label()
	var sums []string
	for _, p := range s.inputs() {
		sum, err := data.FileSHA256(p)
		if err != nil {
			return nil, err
		}
		sums = append(sums, sum)
	}
	t, err := questions.Resolve(s.Task)
	if err != nil {
		return nil, err
	}
	mode, err := answer.ParseMode(s.Mode)
	if err != nil {
		return nil, err
	}
	s.Task, s.Mode = t.Name+"/"+t.Subtask, string(mode)
	if s.Mode == "" {
		s.Mode = string(answer.Normalized)
	}
	s.Files = make([]string, len(s.Files))
	s.Problems, s.Generations, s.References, s.Input, s.Endpoint = "", "", "", "", ""
	if s.Execute || s.From == FromAPI {
		timeout := 3 * time.Second
		if s.Timeout != "" {
			timeout, _ = time.ParseDuration(s.Timeout)
		}
		s.Timeout = timeout.String()
	}
	if s.From == FromAPI {
		s.Model = cmp.Or(s.Model, s.LLM)
		s.Samples = cmp.Or(s.Samples, 10)
		s.MaxTokens = cmp.Or(s.MaxTokens, 512)
		s.MCMethod = cmp.Or(s.MCMethod, "auto")
		if s.Temperature == nil {
			t := 0.2
			s.Temperature = &t
		}
	}
	s.Sandbox = cmp.Or(s.Sandbox, "auto")
	return engine.Pipeline.Node(engine.StageScore, label, map[string]any{"source": s, "files_sha256": sums})
}

func writeRecords(path string, recs []score.Record) error {
	var b bytes.Buffer
	if err := score.WriteRecords(&b, recs); err != nil {
		return err
	}
	return atomicfile.Write(path, b.Bytes())
}
