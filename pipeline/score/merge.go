package score

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
	"github.com/routerdc-go/routerdc/pipeline/data"
)

// Input is one per-LLM score file (JSON-lines Records).
type Input struct {
	Path string
	// LLM names the scored model; "" takes it from the records' "llm" field.
	// When set it wins over that field.
	LLM string
}

// ParseInput reads a command-line argument "NAME=PATH" or "PATH". The first
// "=" separates, so a path that itself contains "=" needs a NAME= in front.
func ParseInput(arg string) Input {
	if name, path, ok := strings.Cut(arg, "="); ok {
		return Input{Path: path, LLM: name}
	}
	return Input{Path: arg}
}

// MergeOptions says how per-LLM files become one dataset.
type MergeOptions struct {
	// LLMOrder is the order of the LLMs in every record, which the trainer
	// reads positionally; it must name each input's LLM once. Default: the
	// order of the inputs.
	LLMOrder []string
	// Fill, when set, is the score given to a query an LLM has no score
	// for. Nil refuses such holes (unless DropIncomplete).
	Fill *float64
	// DropIncomplete leaves out queries that some LLM has no score for.
	DropIncomplete bool
	// Task keeps only this task's records ("" keeps all). A record's task is
	// its "task" field, else the part of its id before the first "/".
	Task string
}

// Row is one merged query; Scores and Costs follow Merged.LLMs.
type Row struct {
	ID       string
	Question string
	Scores   []float64
	// Costs are nil unless every score of every row came from a record
	// with a cost: the dataset format has costs for all LLMs or none.
	Costs []float64
}

// Hole says which queries one LLM has no score for.
type Hole struct {
	LLM   string
	Count int
	// IDs are the first few missing ids, in row order.
	IDs []string
}

// holeIDs is how many missing ids a Hole keeps for messages.
const holeIDs = 5

// Merged is a dataset ready to write.
type Merged struct {
	LLMs []string
	// Rows are in first-seen order: the first input's ids in file order,
	// then ids new in each later input.
	Rows []Row
	// Holes are the missing scores found before filling or dropping, one
	// per LLM that has any, in LLM order.
	Holes []Hole
	// Filled counts scores set to MergeOptions.Fill; Dropped counts queries
	// left out by DropIncomplete.
	Filled, Dropped int
}

// HolesError is Merge's refusal to write a dataset in which some LLM has no
// score for some query, when no Fill or DropIncomplete says what to do.
type HolesError struct {
	Holes []Hole
	Rows  int
}

func (e *HolesError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "merge: the score files do not cover the same %d queries:", e.Rows)
	for _, h := range e.Holes {
		fmt.Fprintf(&b, "\n  %s has no score for %d: %s", h.LLM, h.Count, strings.Join(h.IDs, ", "))
		if h.Count > len(h.IDs) {
			b.WriteString(", ...")
		}
	}
	b.WriteString("\nset a fill score or drop the incomplete queries")
	return b.String()
}

// fileScores is one input, read and checked.
type fileScores struct {
	path   string
	llm    string
	byID   map[string]Record
	lineOf map[string]int // every id of the file, also other tasks'
	order  []string       // ids kept, in file order
}

// Merge joins per-LLM score files on the record id into one dataset.
func Merge(inputs []Input, opt MergeOptions) (*Merged, error) {
	if len(inputs) == 0 {
		return nil, errors.New("merge: no score files")
	}
	if opt.Fill != nil && opt.DropIncomplete {
		return nil, errors.New("merge: fill and drop-incomplete both set; choose one")
	}
	if opt.Fill != nil && (math.IsNaN(*opt.Fill) || *opt.Fill < 0 || *opt.Fill > 1) {
		return nil, fmt.Errorf("merge: fill score %v is not in [0, 1]", *opt.Fill)
	}

	files := make([]*fileScores, 0, len(inputs))
	fileOf := map[string]string{} // LLM -> path, to name both files of a repeat
	for _, in := range inputs {
		f, err := readInput(in, opt.Task)
		if err != nil {
			return nil, err
		}
		if prev, ok := fileOf[f.llm]; ok {
			return nil, fmt.Errorf("merge: LLM %q is given twice: %s and %s", f.llm, prev, f.path)
		}
		fileOf[f.llm] = f.path
		files = append(files, f)
	}

	llms := make([]string, len(files))
	for i, f := range files {
		llms[i] = f.llm
	}
	if len(opt.LLMOrder) > 0 {
		if err := checkOrder(opt.LLMOrder, llms); err != nil {
			return nil, err
		}
		llms = slices.Clone(opt.LLMOrder)
	}
	byLLM := map[string]*fileScores{}
	for _, f := range files {
		byLLM[f.llm] = f
	}

	// Rows in first-seen order; the same id must carry the same question in
	// every file, or the files are not scores of the same queries.
	m := &Merged{LLMs: llms}
	firstFile := map[string]*fileScores{}
	for _, f := range files {
		for _, id := range f.order {
			first, seen := firstFile[id]
			if !seen {
				firstFile[id] = f
				m.Rows = append(m.Rows, Row{ID: id, Question: f.byID[id].Question})
				continue
			}
			if q := f.byID[id].Question; q != first.byID[id].Question {
				return nil, fmt.Errorf("merge: id %q has different question text in %s (line %d) and %s (line %d)",
					id, first.path, first.lineOf[id], f.path, f.lineOf[id])
			}
		}
	}

	holes := map[string]*Hole{}
	complete := make([]bool, len(m.Rows))
	for r := range m.Rows {
		row := &m.Rows[r]
		row.Scores = make([]float64, len(llms))
		row.Costs = make([]float64, len(llms))
		complete[r] = true
		for j, llm := range llms {
			rec, ok := byLLM[llm].byID[row.ID]
			row.Costs[j] = math.NaN() // no cost known, unless the record has one
			if ok {
				row.Scores[j] = rec.Score
				if rec.Cost != nil {
					row.Costs[j] = *rec.Cost
				}
				continue
			}
			complete[r] = false
			h := holes[llm]
			if h == nil {
				h = &Hole{LLM: llm}
				holes[llm] = h
			}
			h.Count++
			if len(h.IDs) < holeIDs {
				h.IDs = append(h.IDs, row.ID)
			}
			if opt.Fill != nil {
				row.Scores[j] = *opt.Fill
				m.Filled++
			}
		}
	}
	for _, llm := range llms {
		if h := holes[llm]; h != nil {
			m.Holes = append(m.Holes, *h)
		}
	}
	if len(m.Holes) > 0 && opt.Fill == nil {
		if !opt.DropIncomplete {
			return nil, &HolesError{Holes: m.Holes, Rows: len(m.Rows)}
		}
		kept := m.Rows[:0]
		for r, row := range m.Rows {
			if complete[r] {
				kept = append(kept, row)
			}
		}
		m.Dropped = len(m.Rows) - len(kept)
		m.Rows = kept
		if len(m.Rows) == 0 {
			return nil, errors.New("merge: no query is scored by every LLM, so dropping incomplete ones leaves nothing")
		}
	}
	allCosts := true
	for _, row := range m.Rows {
		if slices.ContainsFunc(row.Costs, math.IsNaN) {
			allCosts = false
			break
		}
	}
	if !allCosts {
		for r := range m.Rows {
			m.Rows[r].Costs = nil
		}
	}
	return m, nil
}

// readInput reads one score file and settles its LLM name.
func readInput(in Input, task string) (*fileScores, error) {
	b, err := os.ReadFile(in.Path)
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	recs, err := DecodeRecords(in.Path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	lines := recordLines(b)
	if len(lines) != len(recs) {
		// DecodeRecords turns every non-blank line into a record or fails.
		return nil, fmt.Errorf("merge: %s: %d records on %d non-blank lines", in.Path, len(recs), len(lines))
	}

	f := &fileScores{path: in.Path, llm: in.LLM, byID: map[string]Record{}, lineOf: map[string]int{}}
	named := "" // the records' llm field, and the line it was first seen on
	namedLine := 0
	tasks := map[string]bool{}
	for i, rec := range recs {
		at := fmt.Sprintf("line %d", lines[i])
		switch {
		case rec.LLM == "" && in.LLM == "":
			return nil, &Error{File: in.Path, Record: at, Field: "llm",
				Msg: "missing; give the LLM as NAME=" + in.Path}
		case rec.LLM != "" && named == "":
			named, namedLine = rec.LLM, lines[i]
		case rec.LLM != "" && rec.LLM != named:
			return nil, &Error{File: in.Path, Record: at, Field: "llm",
				Msg: fmt.Sprintf("%q, but line %d is %q: one file must hold one LLM's scores", rec.LLM, namedLine, named)}
		}
		if prev, dup := f.lineOf[rec.ID]; dup {
			return nil, &Error{File: in.Path, Record: at, Field: "id",
				Msg: fmt.Sprintf("%q repeats line %d", rec.ID, prev)}
		}
		f.lineOf[rec.ID] = lines[i]
		recTask := recordTask(rec)
		tasks[recTask] = true
		if task != "" && recTask != task {
			continue
		}
		if strings.TrimSpace(rec.Question) == "" {
			// data.Load would refuse the written dataset.
			return nil, &Error{File: in.Path, Record: at, Field: "question", Msg: "only whitespace"}
		}
		f.byID[rec.ID] = rec
		f.order = append(f.order, rec.ID)
	}
	if f.llm == "" {
		f.llm = named
	}
	if len(f.order) == 0 {
		present := make([]string, 0, len(tasks))
		for t := range tasks {
			present = append(present, t)
		}
		slices.Sort(present)
		return nil, &Error{File: in.Path, Msg: fmt.Sprintf("no records of task %q (it has %s)", task, strings.Join(present, ", "))}
	}
	return f, nil
}

// recordLines lists the 1-based numbers of the non-blank lines, which are the
// lines DecodeRecords made its records from, in order.
func recordLines(b []byte) []int {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var out []int
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) != "" {
			out = append(out, line)
		}
	}
	return out
}

func recordTask(r Record) string {
	if r.Task != "" {
		return r.Task
	}
	task, _, _ := strings.Cut(r.ID, "/")
	return task
}

// checkOrder requires order to be a permutation of the inputs' LLMs.
func checkOrder(order, llms []string) error {
	for i, name := range order {
		if !slices.Contains(llms, name) {
			return fmt.Errorf("merge: LLM order names %q, which no input scores (inputs: %s)", name, strings.Join(llms, ", "))
		}
		if slices.Contains(order[:i], name) {
			return fmt.Errorf("merge: LLM order names %q twice", name)
		}
	}
	for _, name := range llms {
		if !slices.Contains(order, name) {
			return fmt.Errorf("merge: LLM order leaves out %q", name)
		}
	}
	return nil
}

// WriteDataset writes the RouterDC JSON array, one record per line, then
// loads the file back with data.Load to check that it reads as what was
// meant. The JSON is written by hand because the trainer reads the scores
// positionally and Go maps have no order.
func (m *Merged) WriteDataset(path string) error {
	if len(m.Rows) == 0 {
		return errors.New("merge: no rows to write")
	}
	names := make([]string, len(m.LLMs))
	for i, llm := range m.LLMs {
		names[i] = jsonString(llm)
	}
	var b bytes.Buffer
	b.WriteString("[\n")
	for r, row := range m.Rows {
		if len(row.Scores) != len(m.LLMs) {
			return fmt.Errorf("merge: row %s has %d scores for %d LLMs", row.ID, len(row.Scores), len(m.LLMs))
		}
		b.WriteString(`  {"question": `)
		b.WriteString(jsonString(row.Question))
		writeByLLM(&b, "scores", names, row.Scores)
		if row.Costs != nil {
			if len(row.Costs) != len(m.LLMs) {
				return fmt.Errorf("merge: row %s has %d costs for %d LLMs", row.ID, len(row.Costs), len(m.LLMs))
			}
			writeByLLM(&b, "costs", names, row.Costs)
		}
		b.WriteString("}")
		if r < len(m.Rows)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]\n")
	// Checked before it replaces anything: a dataset that would not read
	// back as merged never reaches path.
	ds, err := data.Parse(path, b.Bytes())
	if err == nil {
		err = m.sameAs(ds)
	}
	if err != nil {
		return fmt.Errorf("merge: %s would not read back as merged (not written): %w", path, err)
	}
	return atomicfile.Write(path, b.Bytes())
}

// sameAs compares a loaded dataset with m.
func (m *Merged) sameAs(ds *data.Dataset) error {
	if !slices.Equal(ds.LLMs, m.LLMs) {
		return fmt.Errorf("LLMs %v, want %v", ds.LLMs, m.LLMs)
	}
	if len(ds.Queries) != len(m.Rows) {
		return fmt.Errorf("%d records, want %d", len(ds.Queries), len(m.Rows))
	}
	for i, q := range ds.Queries {
		if q.Question != m.Rows[i].Question || !slices.Equal(q.Scores, m.Rows[i].Scores) || !slices.Equal(q.Costs, m.Rows[i].Costs) {
			return fmt.Errorf("record %d (id %s) differs", i, m.Rows[i].ID)
		}
	}
	return nil
}

// jsonString encodes s without HTML escaping, so that questions with <, >
// or & (common in code tasks) stay as they are.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// writeByLLM writes `, "key": {<llm>: x, ...}` with the LLMs' JSON-quoted
// names, each value in the shortest form that parses back to the same
// float64.
func writeByLLM(b *bytes.Buffer, key string, names []string, xs []float64) {
	b.WriteString(`, "` + key + `": {`)
	for j, x := range xs {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString(names[j])
		b.WriteString(": ")
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	}
	b.WriteString("}")
}
