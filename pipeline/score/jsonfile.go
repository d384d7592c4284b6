package score

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// EachJSON calls fn with every record of a file that is either one JSON
// array of records or JSON lines (lm-eval wrote the first before v0.4.3 and
// the second after; dataset rows come both ways). at names the record for
// errors: "record N" (0-based array index) or "line N" (1-based). Errors are
// *Error naming the file and the record; a cut-off file says so.
func EachJSON(name string, b []byte, fn func(at string, raw []byte) error) error {
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return &Error{File: name, Msg: "empty file"}
	}
	switch trimmed[0] {
	case '[':
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		if _, err := dec.Token(); err != nil {
			return &Error{File: name, Msg: JSONMsg(err)}
		}
		for i := 0; ; i++ {
			at := fmt.Sprintf("record %d", i)
			if !dec.More() {
				if _, err := dec.Token(); err != nil {
					return &Error{File: name, Record: at, Msg: "truncated: the JSON array is not closed"}
				}
				break
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return &Error{File: name, Record: at, Msg: JSONMsg(err)}
			}
			if err := fn(at, raw); err != nil {
				return err
			}
		}
		if dec.More() {
			return &Error{File: name, Msg: "data after the closing ] of the JSON array"}
		}
	case '{':
		for i, line := range bytes.Split(b, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			if err := fn(fmt.Sprintf("line %d", i+1), line); err != nil {
				return err
			}
		}
	default:
		return &Error{File: name, Msg: fmt.Sprintf("neither a JSON array nor JSON lines (first character %q)", trimmed[0])}
	}
	return nil
}

// JSONMsg words a decoding error; a cut-off record is the common case worth
// naming (an interrupted download or copy).
func JSONMsg(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) || err.Error() == "unexpected end of JSON input" {
		return "truncated JSON: " + err.Error()
	}
	return "malformed JSON: " + err.Error()
}
