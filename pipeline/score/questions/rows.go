package questions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
	var rows []map[string]any
	err := score.EachJSON(name, b, func(at string, raw []byte) error {
		row, err := decodeObject(raw)
		if err != nil {
			return &score.Error{File: name, Record: at, Msg: err.Error()}
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, &score.Error{File: name, Msg: "no rows"}
	}
	return rows, nil
}

func decodeObject(b []byte) (map[string]any, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, errors.New(score.JSONMsg(err))
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("is %s, want a JSON object", typeName(v))
	}
	return m, nil
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
