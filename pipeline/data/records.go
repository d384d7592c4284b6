package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// scoreRecord is one line of a score-records file: what `routerdc score`
// writes (score.Record; this package cannot import score, which imports
// it). Pointers tell an absent key from a zero.
type scoreRecord struct {
	ID       *string  `json:"id"`
	Question *string  `json:"question"`
	Score    *float64 `json:"score"`
	LLM      *string  `json:"llm"`
	Task     string   `json:"task"`
	Cost     *float64 `json:"cost"`
}

// readRecords reads JSON-lines score records of one or more LLMs and joins
// them on the id: a query per id, in first-seen order; the LLMs in the
// order their first record appears. An id without a record of some LLM has
// no score of it (missing: decides). Lines are read one at a time; the
// first is line firstLine of the file.
func readRecords(path string, r *bufio.Reader, firstLine int) (*rawFile, error) {
	type row struct {
		id       string
		question string
		line     int
		scores   map[int]float64
		costs    map[int]float64
		lines    map[int]int // LLM -> line of its record, for duplicates
	}
	var rows []*row
	rowOf := map[string]*row{}
	var llms []string
	llmIdx := map[string]int{}
	withCost, costLine := false, 0
	fail := func(line int, field, format string, args ...any) error {
		return &FileError{File: path, Record: fmt.Sprintf("line %d", line), Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	for line := firstLine; ; line++ {
		b, err := r.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		eof := err != nil
		text := bytes.TrimSpace(b)
		if len(text) > 0 {
			if i := invalidUTF8(text); i >= 0 {
				return nil, fail(line, "", "text is not valid UTF-8 (byte 0x%02x at column %d); save the file as UTF-8", text[i], i+1)
			}
			var rec scoreRecord
			dec := json.NewDecoder(bytes.NewReader(text))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&rec); err != nil {
				return nil, fail(line, "", "not a score record {\"id\", \"question\", \"score\", \"llm\", \"task\"?, \"cost\"?}: %v", err)
			}
			if dec.More() {
				return nil, fail(line, "", "more than one JSON value on the line (one score record per line)")
			}
			switch {
			case rec.ID == nil || *rec.ID == "":
				return nil, fail(line, "id", "missing or empty")
			case rec.Question == nil || strings.TrimSpace(*rec.Question) == "":
				return nil, fail(line, "question", "missing or empty")
			case rec.Score == nil:
				return nil, fail(line, "score", "missing or null")
			case *rec.Score < 0 || *rec.Score > 1:
				return nil, fail(line, "score", "%v is outside [0,1]", *rec.Score)
			case rec.LLM == nil || *rec.LLM == "":
				return nil, fail(line, "llm", "missing or empty: a record names the LLM it scores")
			case rec.Cost != nil && *rec.Cost < 0:
				return nil, fail(line, "cost", "%v is negative", *rec.Cost)
			}
			if len(rows) == 0 && len(llms) == 0 {
				withCost, costLine = rec.Cost != nil, line
			}
			if (rec.Cost != nil) != withCost {
				state := "has no cost"
				if withCost {
					state = "has a cost"
				}
				return nil, fail(line, "cost", "present on some records only: line %d %s (costs are for every record or none)", costLine, state)
			}
			j, ok := llmIdx[*rec.LLM]
			if !ok {
				j = len(llms)
				llmIdx[*rec.LLM] = j
				llms = append(llms, *rec.LLM)
			}
			q := rowOf[*rec.ID]
			if q == nil {
				q = &row{id: *rec.ID, question: *rec.Question, line: line,
					scores: map[int]float64{}, costs: map[int]float64{}, lines: map[int]int{}}
				rowOf[q.id] = q
				rows = append(rows, q)
			} else if q.question != *rec.Question {
				return nil, fail(line, "question", "id %q has a different question text on line %d", q.id, q.line)
			}
			if prev, dup := q.lines[j]; dup {
				return nil, fail(line, "id", "%q repeats line %d for LLM %q", q.id, prev, *rec.LLM)
			}
			q.lines[j] = line
			q.scores[j] = *rec.Score
			if rec.Cost != nil {
				q.costs[j] = *rec.Cost
			}
		}
		if eof {
			break
		}
	}
	if len(rows) == 0 {
		return nil, &FileError{File: path, Msg: "no score records"}
	}
	raw := &rawFile{ds: &Dataset{Path: path, LLMs: llms}, where: make([]string, len(rows))}
	nan := func() []float64 {
		out := make([]float64, len(llms))
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	for i, q := range rows {
		query := Query{Question: q.question, Scores: nan(), ClusterID: -1}
		for j, x := range q.scores {
			query.Scores[j] = x
		}
		if withCost {
			query.Costs = nan()
			for j, x := range q.costs {
				query.Costs[j] = x
			}
		}
		raw.ds.Queries = append(raw.ds.Queries, query)
		raw.where[i] = fmt.Sprintf("id %q (line %d)", q.id, q.line)
	}
	raw.missing = func(q int, llm string, _ bool) error {
		return &FileError{File: path, Record: raw.where[q], Field: "llm",
			Msg: fmt.Sprintf("no record of LLM %q for this id (missing: drop in the declaration leaves such queries out)", llm)}
	}
	return raw, nil
}
