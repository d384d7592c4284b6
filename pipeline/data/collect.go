package data

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// FileError is a problem with one record of a declared dataset's file: it
// names the file, the record ("line 12", "record 3", "id \"x\" (line 4)"),
// the field (a key or a column) and what is wrong.
type FileError struct {
	File   string
	Record string // "" when the problem is with the file as a whole
	Field  string
	Msg    string
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Record != "" {
		b.WriteString(": " + e.Record)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %q", e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// rawFile is one file as a format's reader returns it: scores (and costs,
// when the file has them) in the file's LLM order, NaN where the file has
// none, before the declaration's llms and missing apply.
type rawFile struct {
	ds *Dataset
	// where names each query in errors.
	where []string
	// evalName is each query's eval_name (format routerbench with that
	// column); nil otherwise.
	evalName []string
	// missing is the error for query q lacking llm's score (or cost).
	missing func(q int, llm string, cost bool) error
}

// Load reads every file of the declaration, in task order (each task's
// train files, then its test file), selects and orders the LLMs (llms:),
// takes the rows of the task's eval_name, applies missing:, and checks that
// every file ends with the same LLMs in the same order. A file named twice
// is read once. progress gets one line per file (and eval_name selection)
// that lost queries to missing: drop; nil discards it.
func (d *Decl) Load(progress io.Writer) (*Collection, error) {
	if progress == nil {
		progress = io.Discard
	}
	if err := d.checkBuiltin(); err != nil {
		return nil, err
	}
	c := &Collection{Name: d.Name, Builtin: d.builtin, LLMs: slices.Clone(d.LLMs), Dropped: map[string]int{}, HasCosts: true}
	raws := map[string]*rawFile{}
	// taken is each file's Dataset per eval_name selection, so that a file
	// named twice with the same selection is one Dataset, as without one.
	taken := map[string]*Dataset{}
	firstPath := ""
	load := func(rel string, ti int) (*Dataset, error) {
		p := d.path(rel)
		raw, ok := raws[p]
		if !ok {
			var sum string
			var err error
			if raw, sum, err = d.read(p); err != nil {
				return nil, err
			}
			if c.LLMs == nil {
				c.LLMs, firstPath = slices.Clone(raw.ds.LLMs), p
			} else if len(d.LLMs) == 0 {
				if err := sameLLMSet(p, raw.ds.LLMs, firstPath, c.LLMs); err != nil {
					return nil, err
				}
			}
			if err := d.selectLLMs(p, raw, c.LLMs); err != nil {
				return nil, err
			}
			c.Files = append(c.Files, FileSum{Path: rel, SHA256: sum})
			raws[p] = raw
		}
		sel := d.Tasks[ti].EvalName
		key := p + "\x00" + strings.Join(sel, "\x00")
		if ds, ok := taken[key]; ok {
			return ds, nil
		}
		rows, err := d.selectRows(raw, ti)
		if err != nil {
			return nil, err
		}
		ds, dropped, err := d.applyMissing(raw, rows, sel)
		if err != nil {
			return nil, err
		}
		if dropped > 0 {
			label, shown := rel, p
			if sel != nil {
				label += " (eval_name " + strings.Join(sel, ", ") + ")"
				shown += " (eval_name " + strings.Join(sel, ", ") + ")"
			}
			c.Dropped[label] = dropped
			fmt.Fprintf(progress, "%s: %d queries dropped (missing scores)\n", shown, dropped)
		}
		if ds.Queries[0].Costs == nil {
			c.HasCosts = false
		}
		taken[key] = ds
		return ds, nil
	}
	for i, t := range d.Tasks {
		td := TaskData{Name: t.Name, Metric: t.Metric, OOD: t.OOD, EvalName: slices.Clone(t.EvalName)}
		for _, f := range t.Train {
			ds, err := load(f, i)
			if err != nil {
				return nil, err
			}
			td.Train = append(td.Train, ds)
		}
		ds, err := load(t.Test, i)
		if err != nil {
			return nil, err
		}
		td.Test = ds
		c.Tasks = append(c.Tasks, td)
	}
	return c, nil
}

// selectRows is the indexes of the rows of task ti's eval_name, in file
// order; nil (every row) when the task selects none.
func (d *Decl) selectRows(raw *rawFile, ti int) ([]int, error) {
	t := d.Tasks[ti]
	if t.EvalName == nil {
		return nil, nil
	}
	from := fmt.Sprintf("task %s, line %d of %s", t.Name, t.line, d.File)
	if raw.evalName == nil {
		return nil, &FileError{File: raw.ds.Path, Field: rbEvalName,
			Msg: fmt.Sprintf("column missing, but the rows are selected by eval_name (%s)", from)}
	}
	found := make([]bool, len(t.EvalName))
	rows := []int{}
	for i, e := range raw.evalName {
		if k := slices.Index(t.EvalName, e); k >= 0 {
			found[k] = true
			rows = append(rows, i)
		}
	}
	for k, ok := range found {
		if !ok {
			return nil, &FileError{File: raw.ds.Path, Field: rbEvalName,
				Msg: fmt.Sprintf("no row has eval_name %q (%s); the file's eval_names: %s", t.EvalName[k], from, distinct(raw.evalName, 20))}
		}
	}
	return rows, nil
}

// distinct lists the distinct values of xs in order of first appearance,
// at most max of them.
func distinct(xs []string, max int) string {
	var out []string
	seen := map[string]bool{}
	for _, x := range xs {
		if seen[x] {
			continue
		}
		if len(out) == max {
			return strings.Join(out, ", ") + ", ..."
		}
		seen[x] = true
		out = append(out, fmt.Sprintf("%q", x))
	}
	return strings.Join(out, ", ")
}

// read opens a file and hands it to its format's reader, hashing the very
// bytes that are parsed.
func (d *Decl) read(path string) (*rawFile, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("%s: dataset %s: %w", d.File, d.Name, err)
	}
	defer f.Close()
	h := sha256.New()
	r := bufio.NewReaderSize(io.TeeReader(f, h), 1<<20)
	var raw *rawFile
	switch d.Format {
	case FormatRouterDC:
		raw, err = readRouterDC(path, r)
	case FormatScores:
		raw, err = readScores(path, r)
	case FormatRouterBench:
		raw, err = readRouterBench(path, r)
	default:
		// validate refuses it; this guards a Decl built by hand.
		err = fmt.Errorf("%s: unknown format %q (known: %s)", d.File, d.Format, strings.Join(formats, ", "))
	}
	if err != nil {
		return nil, "", err
	}
	// Hash whatever the reader left unread, so the sum is the file's.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return raw, hex.EncodeToString(h.Sum(nil)), nil
}

func readRouterDC(path string, r io.Reader) (*rawFile, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ds, err := parse(path, b, true)
	if err != nil {
		return nil, err
	}
	raw := &rawFile{ds: ds, where: make([]string, len(ds.Queries))}
	for i := range raw.where {
		raw.where[i] = fmt.Sprintf("record %d", i)
	}
	raw.missing = func(q int, llm string, cost bool) error {
		field := "scores." + llm
		if cost {
			field = "costs." + llm
		}
		return &FileError{File: path, Record: raw.where[q], Field: field,
			Msg: "missing or null (missing: drop in the declaration leaves such queries out)"}
	}
	return raw, nil
}

// readScores reads `routerdc score` output: a merged dataset (a JSON array,
// the routerdc layout) or score records (JSON lines).
func readScores(path string, r *bufio.Reader) (*rawFile, error) {
	line := 1 // of the first byte left, so that record errors name the file's lines
	for {
		b, err := r.Peek(1)
		if err != nil {
			if err == io.EOF {
				return nil, &FileError{File: path, Msg: "the file is empty"}
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			if c, _ := r.ReadByte(); c == '\n' {
				line++
			}
			continue
		case '[':
			return readRouterDC(path, r)
		case utf8BOM[0]:
			if bom, _ := r.Peek(len(utf8BOM)); bytes.Equal(bom, utf8BOM) {
				r.Discard(len(utf8BOM))
				continue
			}
		}
		return readRecords(path, r, line)
	}
}

// sameLLMSet requires a file to score the first file's LLMs when the
// declaration does not list them: silently leaving out an LLM some file
// lacks, or one only some files have, would change the candidates.
func sameLLMSet(path string, got []string, firstPath string, want []string) error {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return &FileError{File: path, Msg: fmt.Sprintf("has no scores of LLM %q, which %s (the first file) has; "+
				"list the LLMs to use under llms: in the declaration", w, firstPath)}
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			return &FileError{File: path, Msg: fmt.Sprintf("scores LLM %q, which %s (the first file) does not; "+
				"list the LLMs to use under llms: in the declaration", g, firstPath)}
		}
	}
	return nil
}

// selectLLMs keeps the LLMs of want, in its order: LLMs are matched by
// name, so files may list them in different orders.
func (d *Decl) selectLLMs(path string, raw *rawFile, want []string) error {
	idx := make([]int, len(want))
	for j, w := range want {
		idx[j] = slices.Index(raw.ds.LLMs, w)
		if idx[j] < 0 {
			return &FileError{File: path, Msg: fmt.Sprintf("LLM %q (llms:, line %d of %s) is not in this file; it has %s",
				w, d.lines["llms"], d.File, strings.Join(raw.ds.LLMs, ", "))}
		}
	}
	if slices.Equal(raw.ds.LLMs, want) {
		return nil
	}
	pick := func(xs []float64) []float64 {
		if xs == nil {
			return nil
		}
		out := make([]float64, len(idx))
		for j, i := range idx {
			out[j] = xs[i]
		}
		return out
	}
	for i := range raw.ds.Queries {
		q := &raw.ds.Queries[i]
		q.Scores, q.Costs = pick(q.Scores), pick(q.Costs)
	}
	raw.ds.LLMs = slices.Clone(want)
	return nil
}

// applyMissing returns the rows (nil: all) of a file as a Dataset, without
// (missing: drop) the queries that lack a score or a cost of a used LLM, or
// refuses them (missing: error). sel is the rows' eval_name selection, for
// errors.
func (d *Decl) applyMissing(raw *rawFile, rows []int, sel []string) (*Dataset, int, error) {
	if rows == nil {
		rows = make([]int, len(raw.ds.Queries))
		for i := range rows {
			rows[i] = i
		}
	}
	ds := &Dataset{Path: raw.ds.Path, LLMs: raw.ds.LLMs}
	for _, i := range rows {
		q := raw.ds.Queries[i]
		complete := true
		for j, llm := range raw.ds.LLMs {
			cost := q.Costs != nil && math.IsNaN(q.Costs[j])
			if !math.IsNaN(q.Scores[j]) && !cost {
				continue
			}
			if d.Missing != MissingDrop {
				return nil, 0, raw.missing(i, llm, !math.IsNaN(q.Scores[j]))
			}
			complete = false
			break
		}
		if complete {
			ds.Queries = append(ds.Queries, q)
		}
	}
	dropped := len(rows) - len(ds.Queries)
	if len(ds.Queries) == 0 {
		of := fmt.Sprintf("every one of its %d queries", dropped)
		if sel != nil {
			of = fmt.Sprintf("every one of its %d rows with eval_name %s", dropped, strings.Join(sel, ", "))
		}
		return nil, 0, &FileError{File: raw.ds.Path, Msg: fmt.Sprintf("%s lacks a score of a used LLM (%s); nothing is left",
			of, strings.Join(raw.ds.LLMs, ", "))}
	}
	return ds, dropped, nil
}
