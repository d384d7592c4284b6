// Package score is the pipeline's first stage: it turns LLM evaluation logs,
// or a served LLM, into per-query scores, and merges per-LLM score files into
// RouterDC-format datasets. Subpackages hold one source each (lmeval, bigcode,
// api), the answer checkers (answer), the question formats (questions) and
// opt-in code execution (execute).
package score

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/routerdc-go/routerdc/pipeline/data"
)

// Record is one scored query for one LLM: the line every importer and scorer
// writes. JSON key order (id, question, score first) is what `routerdc score`
// prints, so the struct field order matters.
type Record struct {
	// ID is "<task>/<doc id>", unique across tasks, and the key merge joins on.
	ID       string  `json:"id"`
	Question string  `json:"question"`
	Score    float64 `json:"score"`
	LLM      string  `json:"llm,omitempty"`
	Task     string  `json:"task,omitempty"`
	// Cost is what answering the query cost, in dollars, when the source
	// knows it (an API's price); nil when it does not.
	Cost *float64 `json:"cost,omitempty"`
}

// Kind says how a query is scored.
type Kind string

const (
	// MultipleChoice: softmax over the options' log-likelihoods; the score is
	// p[target] when the argmax option is the target, else 0.
	MultipleChoice Kind = "multiple_choice"
	// Generate: M sampled answers, score = mean of the per-sample checks.
	Generate Kind = "generate"
	// Code: M sampled programs, score = passed / M (needs execution).
	Code Kind = "code"
)

// Query is a question ready to send to an LLM, with what is needed to check
// the answer. Question is the text stored in RouterDC datasets (the router's
// input); Prompt is what the LLM sees and may differ (few-shot context).
type Query struct {
	ID       string `json:"id"`
	Task     string `json:"task"`
	Question string `json:"question"`
	Prompt   string `json:"prompt"`
	Kind     Kind   `json:"kind"`
	// Options are the continuations scored for MultipleChoice, e.g. " A".
	Options []string `json:"options,omitempty"`
	// Target indexes Options for MultipleChoice.
	Target int `json:"target,omitempty"`
	// Answer is the gold answer for Generate (the raw reference text; the
	// answer checker extracts what it needs).
	Answer string `json:"answer,omitempty"`
	// Tests is the reference test code for Code, run after the program.
	Tests string `json:"tests,omitempty"`
	// Stop sequences for generation.
	Stop []string `json:"stop,omitempty"`
}

// Error is a problem with one record of an input file; it names the file, the
// record (1-based line for JSONL, 0-based index for JSON arrays) and the field.
type Error = data.FileError

// Check reports whether a record can be written: an id, a question and a
// finite score in [0, 1].
func (r Record) Check() error {
	switch {
	case r.ID == "":
		return errors.New("empty id")
	case r.Question == "":
		return fmt.Errorf("%s: empty question", r.ID)
	case math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1:
		return fmt.Errorf("%s: score %v is not in [0, 1]", r.ID, r.Score)
	case r.Cost != nil && (math.IsNaN(*r.Cost) || math.IsInf(*r.Cost, 0) || *r.Cost < 0):
		return fmt.Errorf("%s: cost %v is not a finite non-negative number", r.ID, *r.Cost)
	}
	return nil
}

// WriteRecords writes one JSON object per line.
func WriteRecords(w io.Writer, recs []Record) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := r.Check(); err != nil {
			return err
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteQueries writes one query per line (what `routerdc score questions`
// prints and api.ReadQueries reads).
func WriteQueries(w io.Writer, qs []Query) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, q := range qs {
		if err := enc.Encode(q); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadRecords reads a JSON-lines score file written by WriteRecords (or by a
// user). Blank lines are skipped; unknown fields are an error so that a
// typo is not silently a missing score.
func ReadRecords(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeRecords(path, f)
}

// DecodeRecords is ReadRecords on an open reader; name is used in errors.
func DecodeRecords(name string, r io.Reader) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var out []Record
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var rec struct {
			ID       *string  `json:"id"`
			Question *string  `json:"question"`
			Score    *float64 `json:"score"`
			LLM      string   `json:"llm"`
			Task     string   `json:"task"`
			Cost     *float64 `json:"cost"`
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return nil, &Error{File: name, Record: fmt.Sprintf("line %d", line), Msg: "not a score record: " + err.Error()}
		}
		at := fmt.Sprintf("line %d", line)
		switch {
		case rec.ID == nil || *rec.ID == "":
			return nil, &Error{File: name, Record: at, Field: "id", Msg: "missing or empty"}
		case rec.Question == nil || *rec.Question == "":
			return nil, &Error{File: name, Record: at, Field: "question", Msg: "missing or empty"}
		case rec.Score == nil:
			return nil, &Error{File: name, Record: at, Field: "score", Msg: "missing"}
		case *rec.Score < 0 || *rec.Score > 1:
			return nil, &Error{File: name, Record: at, Field: "score", Msg: fmt.Sprintf("%v is not in [0, 1]", *rec.Score)}
		case rec.Cost != nil && *rec.Cost < 0:
			return nil, &Error{File: name, Record: at, Field: "cost", Msg: fmt.Sprintf("%v is negative", *rec.Cost)}
		}
		out = append(out, Record{ID: *rec.ID, Question: *rec.Question, Score: *rec.Score, LLM: rec.LLM, Task: rec.Task, Cost: rec.Cost})
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{File: name, Msg: err.Error()}
	}
	if len(out) == 0 {
		return nil, &Error{File: name, Msg: "no score records"}
	}
	return out, nil
}
