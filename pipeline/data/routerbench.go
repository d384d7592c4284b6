package data

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RouterBench's column names. Every other column without a "|" is an LLM's
// score, and must come with its "<llm>|total_cost" column.
const (
	rbSampleID = "sample_id"
	rbPrompt   = "prompt"
	rbEvalName = "eval_name"
	rbOracle   = "oracle_model_to_route_to"
	rbCluster  = "cluster_id"
	rbResponse = "|model_response"
	rbCost     = "|total_cost"
)

// rbColumns is where each needed column is in a RouterBench header.
type rbColumns struct {
	n        int // fields per row
	sampleID int
	prompt   int
	cluster  int // -1: no cluster_id column
	evalName int // -1: no eval_name column
	llms     []string
	score    []int
	cost     []int
}

func rbHeader(path string, h []string) (*rbColumns, error) {
	c := &rbColumns{n: len(h), sampleID: -1, prompt: -1, cluster: -1, evalName: -1}
	at := map[string]int{}
	for i, name := range h {
		if !utf8.ValidString(name) {
			return nil, &FileError{File: path, Record: "line 1 (the header)", Msg: fmt.Sprintf("column %d's name is not valid UTF-8", i+1)}
		}
		if prev, dup := at[name]; dup {
			return nil, &FileError{File: path, Record: "line 1 (the header)", Field: name,
				Msg: fmt.Sprintf("column name repeats (columns %d and %d)", prev+1, i+1)}
		}
		at[name] = i
	}
	for i, name := range h {
		switch {
		case (name == "" || name == "Unnamed: 0") && i == 0:
			// The index pandas writes (named so once a file is read back
			// and saved again).
		case name == rbSampleID:
			c.sampleID = i
		case name == rbPrompt:
			c.prompt = i
		case name == rbCluster:
			c.cluster = i
		case name == rbEvalName:
			c.evalName = i
		case name == rbOracle, strings.HasSuffix(name, rbResponse):
		case strings.HasSuffix(name, rbCost):
			if _, ok := at[strings.TrimSuffix(name, rbCost)]; !ok {
				return nil, &FileError{File: path, Record: "line 1 (the header)", Field: name,
					Msg: fmt.Sprintf("a cost column without the score column %q", strings.TrimSuffix(name, rbCost))}
			}
		case name == "" || strings.Contains(name, "|"):
			return nil, &FileError{File: path, Record: "line 1 (the header)", Field: name,
				Msg: fmt.Sprintf("column %d is not a RouterBench column (%s, %s, %s, %s, %s, <llm>, <llm>%s, <llm>%s)",
					i+1, rbSampleID, rbPrompt, rbEvalName, rbOracle, rbCluster, rbResponse, rbCost)}
		default:
			cost, ok := at[name+rbCost]
			if !ok {
				return nil, &FileError{File: path, Record: "line 1 (the header)", Field: name,
					Msg: fmt.Sprintf("taken as an LLM's score column, but there is no %q column; is it a RouterBench file?", name+rbCost)}
			}
			c.llms = append(c.llms, name)
			c.score = append(c.score, i)
			c.cost = append(c.cost, cost)
		}
	}
	for _, need := range []struct {
		name string
		i    int
	}{{rbSampleID, c.sampleID}, {rbPrompt, c.prompt}} {
		if need.i < 0 {
			return nil, &FileError{File: path, Record: "line 1 (the header)", Field: need.name, Msg: "column missing"}
		}
	}
	if len(c.llms) == 0 {
		return nil, &FileError{File: path, Record: "line 1 (the header)", Msg: "no LLM score columns"}
	}
	return c, nil
}

// readRouterBench reads a RouterBench CSV record by record (the released
// files are hundreds of MB, mostly model responses, which are not kept).
// The prompt is the question as it is; eval_name is kept for the
// declaration's selection. An empty score or cost cell is a
// missing score (missing: decides); model responses are not checked, since
// they are not used.
func readRouterBench(path string, r *bufio.Reader) (*rawFile, error) {
	if bom, _ := r.Peek(len(utf8BOM)); bytes.Equal(bom, utf8BOM) {
		r.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked here, with a clearer message
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &FileError{File: path, Msg: "the file is empty"}
	}
	if err != nil {
		return nil, csvError(path, err)
	}
	header = slices.Clone(header) // ReuseRecord: the next Read overwrites it
	cols, err := rbHeader(path, header)
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Path: path, LLMs: cols.llms}
	raw := &rawFile{ds: ds}
	lineOf := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(path, err)
		}
		line, _ := cr.FieldPos(0)
		at := fmt.Sprintf("line %d", line)
		fail := func(field, format string, args ...any) error {
			return &FileError{File: path, Record: at, Field: field, Msg: fmt.Sprintf(format, args...)}
		}
		if len(rec) != cols.n {
			return nil, fail("", "%d fields, but the header has %d columns", len(rec), cols.n)
		}
		for _, i := range append([]int{cols.sampleID, cols.prompt, cols.cluster, cols.evalName}, cols.score...) {
			if i >= 0 && !utf8.ValidString(rec[i]) {
				return nil, fail(header[i], "text is not valid UTF-8; save the file as UTF-8")
			}
		}
		id := rec[cols.sampleID]
		if id == "" {
			return nil, fail(rbSampleID, "empty")
		}
		if prev, dup := lineOf[id]; dup {
			return nil, fail(rbSampleID, "%q repeats line %d", id, prev)
		}
		lineOf[id] = line
		q := Query{Question: rec[cols.prompt], ClusterID: -1,
			Scores: make([]float64, len(cols.llms)), Costs: make([]float64, len(cols.llms))}
		if strings.TrimSpace(q.Question) == "" {
			return nil, fail(rbPrompt, "empty or only whitespace")
		}
		for j, llm := range cols.llms {
			if q.Scores[j], err = rbNumber(rec[cols.score[j]], 1); err != nil {
				return nil, fail(llm, "score %v", err)
			}
			if q.Costs[j], err = rbNumber(rec[cols.cost[j]], math.Inf(1)); err != nil {
				return nil, fail(llm+rbCost, "cost %v", err)
			}
		}
		if cols.cluster >= 0 {
			if q.ClusterID, err = rbClusterID(rec[cols.cluster]); err != nil {
				return nil, fail(rbCluster, "%v", err)
			}
		}
		if cols.evalName >= 0 {
			raw.evalName = append(raw.evalName, rec[cols.evalName])
		}
		ds.Queries = append(ds.Queries, q)
		raw.where = append(raw.where, at+fmt.Sprintf(" (sample_id %q)", id))
	}
	if len(ds.Queries) == 0 {
		return nil, &FileError{File: path, Msg: "no rows after the header"}
	}
	raw.missing = func(q int, llm string, cost bool) error {
		field := llm
		if cost {
			field = llm + rbCost
		}
		return &FileError{File: path, Record: raw.where[q], Field: field,
			Msg: "empty (missing: drop in the declaration leaves such queries out)"}
	}
	return raw, nil
}

// rbNumber parses a score (0..hi) or a cost (0..+Inf); "" is missing (NaN).
func rbNumber(s string, hi float64) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return math.NaN(), nil
	}
	x, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("%q is not a number", s)
	case math.IsNaN(x), math.IsInf(x, 0), err != nil:
		return 0, fmt.Errorf("%q is not a finite number", s)
	case x < 0 || x > hi:
		if math.IsInf(hi, 1) {
			return 0, fmt.Errorf("%s is negative", s)
		}
		return 0, fmt.Errorf("%s is outside [0,%g]", s, hi)
	}
	return x, nil
}

// rbClusterID parses a cluster id; pandas writes "3.0" for an integer column
// that has holes, and "" for a hole (no cluster).
func rbClusterID(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return -1, nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || x != math.Trunc(x) || x < 0 || x > math.MaxInt32 {
		return 0, fmt.Errorf("%q is not a non-negative integer", s)
	}
	return int(x), nil
}

// csvError names the line of a CSV syntax error.
func csvError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &FileError{File: path, Record: fmt.Sprintf("line %d, column %d", pe.Line, pe.Column),
			Msg: "malformed CSV: " + pe.Err.Error()}
	}
	return fmt.Errorf("%s: %w", path, err)
}
