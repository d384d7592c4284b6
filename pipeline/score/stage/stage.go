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
	"github.com/routerdc-go/routerdc/pipeline/score"
	"github.com/routerdc-go/routerdc/pipeline/score/answer"
	"github.com/routerdc-go/routerdc/pipeline/score/questions"
	"github.com/routerdc-go/routerdc/pipeline/yamlstrict"
)

// Kind is the declaration kind of a scoring declaration.
const Kind = "scores"

// Versions of the stage's code enter the cache keys: bump one when what it
// computes changes.
const (
	scoreVersion = "score-1"
	mergeVersion = "merge-1"
)

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
	File string `yaml:"file"` // under Out
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
func IsDecl(b []byte) bool {
	var head struct {
		Kind string `yaml:"kind"`
	}
	return yaml.Unmarshal(b, &head) == nil && head.Kind == Kind
}

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
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("%s: %v", file, strings.ReplaceAll(err.Error(), "\n", " "))
	}
	if len(root.Content) != 1 {
		return nil, fmt.Errorf("%s: empty declaration", file)
	}
	var d Decl
	if err := yamlstrict.Decode(root.Content[0], "declaration", &d); err != nil {
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
	seen := map[[2]string]int{}
	for i := range d.Sources {
		s := &d.Sources[i]
		if err := s.Check(); err != nil {
			return fmt.Errorf("line %d: sources[%d]: %w", s.line, i, err)
		}
		if !slices.Contains(d.LLMs, s.LLM) {
			return fmt.Errorf("line %d: sources[%d]: llm %q is not in \"llms\" %v", s.line, i, s.LLM, d.LLMs)
		}
		t, _ := questions.Resolve(s.Task)
		k := [2]string{s.LLM, t.Name + "/" + t.Subtask}
		if j, dup := seen[k]; dup {
			return fmt.Errorf("line %d: sources[%d]: %s on %s is also sources[%d]", s.line, i, s.LLM, s.Task, j)
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
			if len(d.sourcesOf(llm, t.Name)) == 0 {
				return fmt.Errorf("line %d: datasets[%d]: no source scores %s on %s (every dataset has every LLM in \"llms\")",
					ds.line, i, llm, t.Name)
			}
		}
	}
	return nil
}

// sourcesOf are the indexes of the sources of one LLM on one task (several
// when the task comes in subtasks, e.g. one lm-eval log per MMLU subject).
func (d *Decl) sourcesOf(llm, task string) []int {
	var out []int
	for i, s := range d.Sources {
		if t, _ := questions.Resolve(s.Task); s.LLM == llm && t.Name == task {
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

// StageGraph describes the scoring steps for --dry-run.
const StageGraph = `score: one entry per source, keyed by the source's settings and the SHA256 of every file it reads -> records.jsonl
merge: one entry per dataset, keyed by the score entries it joins, the LLM order and the hole policy -> the RouterDC dataset, copied to out/`

// Run scores every source (or takes it from the cache) and writes every
// dataset.
func Run(ctx context.Context, d *Decl, o Options) (*Result, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	if o.DryRun && o.DryRunOut == nil {
		o.DryRunOut = os.Stdout
	}
	res := &Result{}
	keys := make([]string, len(d.Sources))
	memo := map[int][]score.Record{} // without a cache, the records go straight to the merge
	if o.DryRun {
		fmt.Fprintf(o.DryRunOut, "%s (%s)\n%s\n", d.Name, Kind, StageGraph)
	}
	for i, raw := range d.Sources {
		s := d.resolved(raw)
		k, err := Key(s)
		if err != nil {
			return nil, fmt.Errorf("sources[%d] (%s on %s): %w", i, s.LLM, s.Task, err)
		}
		keys[i] = k
		cached := o.Cache != nil && o.Cache.Has("score", k) && !o.Force
		if o.DryRun {
			fmt.Fprintf(o.DryRunOut, "  score %-40s %-10s %s  %s\n", s.LLM, s.Task, k[:12], plan(cached))
			continue
		}
		if cached {
			res.Cached++
			continue
		}
		fmt.Fprintf(log, "scoring %s on %s (%s)\n", s.LLM, s.Task, s.From)
		recs, partial, err := scoreSource(ctx, s, k, o)
		if err != nil {
			return nil, fmt.Errorf("sources[%d] (%s on %s): %w", i, s.LLM, s.Task, err)
		}
		res.Scored++
		if o.Cache != nil {
			if err := o.Cache.Put("score", k, map[string]any{"source": s}, func(dir string) error {
				return writeRecords(filepath.Join(dir, "records.jsonl"), recs)
			}); err != nil {
				return nil, err
			}
		} else {
			memo[i] = recs
		}
		// Only now are the API results safe elsewhere.
		if partial != "" {
			os.RemoveAll(partial)
		}
	}
	for _, ds := range d.Datasets {
		path, err := d.merge(ds, keys, memo, o, log)
		if err != nil {
			return nil, err
		}
		if path != "" {
			res.Written = append(res.Written, path)
		}
	}
	return res, nil
}

// scoreSource scores one source. An API source's results file lives in a
// directory named by the source's key (in the cache's partial area, or the
// temp dir without a cache) so that a killed run resumes it and changed
// settings start afresh; the caller removes it once the records are safe.
func scoreSource(ctx context.Context, s Source, key string, o Options) ([]score.Record, string, error) {
	r := RunOptions{Progress: o.Progress, Log: o.Log, Fingerprint: key}
	if s.From != FromAPI {
		recs, err := s.Records(ctx, r)
		return recs, "", err
	}
	dir := filepath.Join(os.TempDir(), "routerdc-score-"+key[:16])
	if o.Cache != nil {
		dir = filepath.Join(o.Cache.Dir, "partial", "score-"+key[:16])
	}
	if o.Force {
		os.RemoveAll(dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	r.Out = filepath.Join(dir, "results.jsonl")
	recs, err := s.Records(ctx, r)
	if err != nil {
		return nil, "", fmt.Errorf("%w (scored queries are kept in %s; a rerun resumes)", err, r.Out)
	}
	return recs, dir, nil
}

func (d *Decl) merge(ds Dataset, keys []string, memo map[int][]score.Record, o Options, log io.Writer) (string, error) {
	t, _ := questions.Resolve(ds.Task)
	var inputs []string // score keys, LLM by LLM in the declared order
	for _, llm := range d.LLMs {
		for _, i := range d.sourcesOf(llm, t.Name) {
			inputs = append(inputs, keys[i])
		}
	}
	k, err := cache.Key(mergeVersion, inputs, d.LLMs, t.Name, ds.Fill, ds.DropIncomplete)
	if err != nil {
		return "", err
	}
	out := filepath.Join(d.Dir, d.Out, ds.File)
	cached := o.Cache != nil && o.Cache.Has("merge", k) && !o.Force
	if o.DryRun {
		fmt.Fprintf(o.DryRunOut, "  merge %-51s %s  %s -> %s\n", ds.File, k[:12], plan(cached), out)
		return "", nil
	}
	if cached {
		return out, d.publish(o.Cache, k, out)
	}
	tmp, err := os.MkdirTemp("", "routerdc-merge-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	// One input per LLM: the records of all its sources on this task.
	var in []score.Input
	for n, llm := range d.LLMs {
		var recs []score.Record
		for _, i := range d.sourcesOf(llm, t.Name) {
			part := memo[i]
			if o.Cache != nil {
				if part, err = score.ReadRecords(filepath.Join(o.Cache.Path("score", keys[i]), "records.jsonl")); err != nil {
					return "", err
				}
			}
			recs = append(recs, part...)
		}
		path := filepath.Join(tmp, fmt.Sprintf("%d.jsonl", n))
		if err := writeRecords(path, recs); err != nil {
			return "", err
		}
		in = append(in, score.Input{Path: path, LLM: llm})
	}
	m, err := score.Merge(in, score.MergeOptions{LLMOrder: d.LLMs, Fill: ds.Fill, DropIncomplete: ds.DropIncomplete, Task: t.Name})
	if err != nil {
		return "", fmt.Errorf("datasets %s: %w", ds.File, err)
	}
	if m.Filled > 0 || m.Dropped > 0 {
		fmt.Fprintf(log, "%s: %d scores filled, %d queries dropped\n", ds.File, m.Filled, m.Dropped)
	}
	if o.Cache == nil {
		return out, m.WriteDataset(out)
	}
	if err := o.Cache.Put("merge", k, map[string]any{"scores": inputs, "llms": d.LLMs, "task": t.Name},
		func(dir string) error { return m.WriteDataset(filepath.Join(dir, "dataset.json")) }); err != nil {
		return "", err
	}
	return out, d.publish(o.Cache, k, out)
}

// publish copies a cached dataset to out, unless out already holds it.
func (d *Decl) publish(c *cache.Store, key, out string) error {
	b, err := os.ReadFile(filepath.Join(c.Path("merge", key), "dataset.json"))
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
	var sums []string
	for _, p := range s.inputs() {
		sum, err := data.FileSHA256(p)
		if err != nil {
			return "", err
		}
		sums = append(sums, sum)
	}
	t, err := questions.Resolve(s.Task)
	if err != nil {
		return "", err
	}
	mode, err := answer.ParseMode(s.Mode)
	if err != nil {
		return "", err
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
	return cache.Key(scoreVersion, s, sums)
}

func writeRecords(path string, recs []score.Record) error {
	var b bytes.Buffer
	if err := score.WriteRecords(&b, recs); err != nil {
		return err
	}
	return atomicfile.Write(path, b.Bytes())
}

// plan is a --dry-run line's verdict.
func plan(cached bool) string {
	if cached {
		return "cached"
	}
	return "would run"
}
