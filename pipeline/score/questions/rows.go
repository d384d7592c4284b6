package questions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/routerdc-go/routerdc/pipeline/score"
)

// ReadRows reads a file of raw dataset rows: either one JSON array of objects
// (as `datasets.Dataset.to_json(lines=False)` or a hand export writes) or
// JSON lines (HumanEval.jsonl, `to_json()`), told apart by the first byte.
// Errors are *score.Error naming the file and the first bad record ("line N"
// for JSON lines, 1-based; "record N" for an array, 0-based).
func ReadRows(path string) ([]map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return DecodeRows(path, b)
}

// DecodeRows is ReadRows on a file's content; name is used in errors.
func DecodeRows(name string, b []byte) ([]map[string]any, error) {
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return nil, &score.Error{File: name, Msg: "empty file"}
	}
	var rows []map[string]any
	switch trimmed[0] {
	case '[':
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		if _, err := dec.Token(); err != nil {
			return nil, &score.Error{File: name, Msg: "malformed JSON: " + err.Error()}
		}
		for i := 0; ; i++ {
			if !dec.More() {
				if _, err := dec.Token(); err != nil {
					return nil, &score.Error{File: name, Record: fmt.Sprintf("record %d", i),
						Msg: "truncated: the JSON array is not closed"}
				}
				break
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, &score.Error{File: name, Record: fmt.Sprintf("record %d", i), Msg: jsonMsg(err)}
			}
			row, err := decodeObject(raw)
			if err != nil {
				return nil, &score.Error{File: name, Record: fmt.Sprintf("record %d", i), Msg: err.Error()}
			}
			rows = append(rows, row)
		}
		if dec.More() {
			return nil, &score.Error{File: name, Msg: "data after the closing ] of the JSON array"}
		}
	case '{':
		for i, line := range bytes.Split(b, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			row, err := decodeObject(line)
			if err != nil {
				return nil, &score.Error{File: name, Record: fmt.Sprintf("line %d", i+1), Msg: err.Error()}
			}
			rows = append(rows, row)
		}
	default:
		return nil, &score.Error{File: name, Msg: "neither a JSON array nor JSON lines (first character " +
			fmt.Sprintf("%q", trimmed[0]) + ")"}
	}
	if len(rows) == 0 {
		return nil, &score.Error{File: name, Msg: "no rows"}
	}
	return rows, nil
}

func decodeObject(b []byte) (map[string]any, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, errors.New(jsonMsg(err))
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("is %s, want a JSON object", typeName(v))
	}
	return m, nil
}

// jsonMsg words a decoding error; a cut-off record is the common case worth
// naming (an interrupted download or copy).
func jsonMsg(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) || err.Error() == "unexpected end of JSON input" {
		return "truncated JSON: " + err.Error()
	}
	return "malformed JSON: " + err.Error()
}

// ReadQueries reads a rows file and builds every row of task. Query.ID is
// "<task>/<position>", the position (0-based) being the row's doc id as
// lm-eval and bigcode number documents. Errors name the file, the record
// and the field.
func ReadQueries(task, path string) ([]score.Query, error) {
	t, err := Resolve(task)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rows, err := DecodeRows(path, b)
	if err != nil {
		return nil, err
	}
	// Rows carry no position of their own; recompute where each came from
	// only for the error message.
	array := bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\uFEFF")))[0] == '['
	lines := rowLines(b)
	out := make([]score.Query, len(rows))
	for i, r := range rows {
		q, err := Build(task, r)
		if err != nil {
			var se *score.Error
			if errors.As(err, &se) {
				se.File = path
				if array {
					se.Record = fmt.Sprintf("record %d", i)
				} else {
					se.Record = fmt.Sprintf("line %d", lines[i])
				}
			}
			return nil, err
		}
		q.ID = t.ID(i)
		out[i] = q
	}
	return out, nil
}

// rowLines gives the 1-based line number of each non-blank line.
func rowLines(b []byte) []int {
	var out []int
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			out = append(out, i+1)
		}
	}
	return out
}
