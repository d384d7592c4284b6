package data

// Collection is a dataset as the pipeline uses it: named tasks, each with
// its training files (none for a test-only task) and its test file, all
// holding the same LLMs in the same order. The released split is the
// built-in collection "routerdc-split2"; a dataset declaration (kind:
// dataset) describes any other.
type Collection struct {
	Name string
	// Builtin is the released split: the paper's tables, the SHA256 check
	// against the release.
	Builtin bool
	// LLMs are the candidate LLMs, in the order of every Dataset below.
	LLMs  []string
	Tasks []TaskData
	// Files are every file read, in reading order, with their SHA256: what
	// the data stage's key hashes (content, not paths).
	Files []FileSum
	// Dropped counts, per file (and eval_name selection: "file (eval_name
	// a, b)"), the queries left out because a used LLM's score was missing
	// (missing: drop).
	Dropped map[string]int
	// HasCosts says whether every query of every file has a cost per LLM.
	HasCosts bool
}

// TaskData is one task of a collection.
type TaskData struct {
	Name   string
	Metric Metric
	// OOD tasks are test-only (no training files).
	OOD bool
	// EvalName is the RouterBench eval_names the task's rows were selected
	// by; nil: every row of its files.
	EvalName []string
	Train    []*Dataset
	Test     *Dataset
}

// ID and OOD are the indexes of the in-distribution and the
// out-of-distribution tasks, in declaration order.
func (c *Collection) ID() []int  { return c.indexes(false) }
func (c *Collection) OOD() []int { return c.indexes(true) }

func (c *Collection) indexes(ood bool) []int {
	var out []int
	for i, t := range c.Tasks {
		if t.OOD == ood {
			out = append(out, i)
		}
	}
	return out
}

// Key is what the data stage's cache key hashes: the collection's name and
// LLMs, each task's name, metric, kind and eval_name selection, and the
// SHA256 of every file read (contents, not paths: a moved checkout keeps its
// cache). The rows dropped for missing scores follow from those.
func (c *Collection) Key() any {
	type task struct {
		Name       string
		Metric     Metric
		OOD        bool
		TrainFiles int
		// omitempty keeps the keys of datasets without a selection (the
		// built-in one) as they were, so their caches stay valid.
		EvalName []string `json:",omitempty"`
	}
	k := struct {
		Name   string
		LLMs   []string
		Tasks  []task
		SHA256 []string
	}{Name: c.Name, LLMs: c.LLMs}
	for _, t := range c.Tasks {
		k.Tasks = append(k.Tasks, task{t.Name, t.Metric, t.OOD, len(t.Train), t.EvalName})
	}
	for _, f := range c.Files {
		k.SHA256 = append(k.SHA256, f.SHA256)
	}
	return k
}
