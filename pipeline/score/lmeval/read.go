package lmeval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"

	"github.com/routerdc-go/routerdc/pipeline/score"
)

// Sample is one document of a --log_samples file, after the per-filter
// copies are merged. Leaves of Resps are as in the file: native numbers and
// booleans (v0.4.0-0.4.2) or strings such as "-0.25" and "True" (v0.4.3+).
type Sample struct {
	DocID int
	Doc   map[string]any
	// Target is as in the file: a number (v0.4.0-0.4.3 multiple choice), a
	// string ("1" from v0.4.4 on, or a gold text), ...
	Target any
	// Arguments holds each request's arguments in request order: for
	// loglikelihood [context, continuation], for generate_until [context,
	// generation kwargs].
	Arguments [][]any
	// Resps holds each request's responses: loglikelihood [[ll, is_greedy]],
	// generate_until [gen_1, ..., gen_K].
	Resps [][]any
	// At is where the (first copy of the) record is: "line N" (JSON lines,
	// 1-based) or "record N" (JSON array, 0-based).
	At string
}

// ReadSamples reads a --log_samples file of either layout: one JSON array
// (v0.4.0-0.4.2, `arguments` as [[ctx, cont], ...]) or JSON lines (v0.4.3+,
// `arguments` as {"gen_args_i": {"arg_j": ...}}, leaves of resps strings),
// told apart by the first byte. Records of the same doc_id (one per filter,
// e.g. GSM8K's strict-match and flexible-extract) are merged into one
// Sample after checking that they hold the same responses.
func ReadSamples(path string) ([]Sample, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return DecodeSamples(path, b)
}

// DecodeSamples is ReadSamples on a file's content; name is used in errors.
func DecodeSamples(name string, b []byte) ([]Sample, error) {
	var samples []Sample
	byDoc := map[int]int{}
	add := func(at string, raw []byte) error {
		s, err := parseRecord(name, at, raw)
		if err != nil {
			return err
		}
		if i, seen := byDoc[s.DocID]; seen {
			first, _ := json.Marshal(samples[i].Resps)
			again, _ := json.Marshal(s.Resps)
			if !bytes.Equal(first, again) {
				return &score.Error{File: name, Record: at, Field: "resps",
					Msg: fmt.Sprintf("differs from the other record of doc_id %d (%s): filters of one run score the same responses", s.DocID, samples[i].At)}
			}
			return nil
		}
		byDoc[s.DocID] = len(samples)
		samples = append(samples, s)
		return nil
	}

	// Python's json writes NaN and Infinity for non-finite floats.
	if err := score.EachJSON(name, pythonConstants(b), add); err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return nil, &score.Error{File: name, Msg: "no samples"}
	}
	return samples, nil
}

func parseRecord(name, at string, raw []byte) (Sample, error) {
	fail := func(field, msg string) (Sample, error) {
		return Sample{}, &score.Error{File: name, Record: at, Field: field, Msg: msg}
	}
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fail("", "not a JSON object")
		}
		return fail("", score.JSONMsg(err))
	}
	for _, f := range []string{"doc_id", "doc", "target", "arguments", "resps"} {
		if rec[f] == nil {
			return fail(f, "missing")
		}
	}
	s := Sample{At: at, Target: rec["target"]}

	id, ok := docID(rec["doc_id"])
	if !ok {
		return fail("doc_id", fmt.Sprintf("%v is not a document number", rec["doc_id"]))
	}
	s.DocID = id
	if s.Doc, ok = rec["doc"].(map[string]any); !ok {
		return fail("doc", "not a JSON object")
	}

	args, field, msg := parseArguments(rec["arguments"])
	if msg != "" {
		return fail(field, msg)
	}
	s.Arguments = args

	resps, ok := rec["resps"].([]any)
	if !ok {
		return fail("resps", "not a list")
	}
	for i, r := range resps {
		list, ok := r.([]any)
		if !ok {
			return fail(fmt.Sprintf("resps[%d]", i), "not a list of responses")
		}
		s.Resps = append(s.Resps, list)
	}
	return s, nil
}

func docID(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		if x >= 0 && x == math.Trunc(x) && x < 1<<53 {
			return int(x), true
		}
	case string:
		if n, err := strconv.Atoi(x); err == nil && n >= 0 {
			return n, true
		}
	}
	return 0, false
}

var genArgsKey = regexp.MustCompile(`^gen_args_(0|[1-9][0-9]*)$`)
var argKey = regexp.MustCompile(`^arg_(0|[1-9][0-9]*)$`)

// parseArguments reads both layouts of `arguments`. In v0.4.3+ the requests
// are object keys "gen_args_<i>", which must be put back in numeric order
// (gen_args_10 sorts before gen_args_2 as text, and a decoded object has no
// order at all).
func parseArguments(v any) (args [][]any, field, msg string) {
	switch x := v.(type) {
	case []any:
		for i, a := range x {
			list, ok := a.([]any)
			if !ok {
				return nil, fmt.Sprintf("arguments[%d]", i), "not a list [context, continuation]"
			}
			args = append(args, list)
		}
		return args, "", ""
	case map[string]any:
		byIndex, field, msg := indexed(x, genArgsKey, "arguments", "gen_args_<i>")
		if msg != "" {
			return nil, field, msg
		}
		for i, a := range byIndex {
			obj, ok := a.(map[string]any)
			if !ok {
				return nil, fmt.Sprintf("arguments.gen_args_%d", i), "not an object {arg_0, arg_1}"
			}
			list, field, msg := indexed(obj, argKey, fmt.Sprintf("arguments.gen_args_%d", i), "arg_<j>")
			if msg != "" {
				return nil, field, msg
			}
			args = append(args, list)
		}
		return args, "", ""
	}
	return nil, "arguments", "neither a list nor an object of gen_args"
}

// indexed orders an object whose keys are "<prefix><i>" for i = 0..n-1
// (the key pattern rules out leading zeros, so n distinct keys in range fill
// every index).
func indexed(m map[string]any, key *regexp.Regexp, field, want string) ([]any, string, string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // only to make the error below deterministic
	out := make([]any, len(m))
	for _, k := range keys {
		sub := key.FindStringSubmatch(k)
		if sub == nil {
			return nil, field + "." + k, "unexpected key, want " + want
		}
		i, _ := strconv.Atoi(sub[1])
		if i >= len(m) {
			return nil, field + "." + k, fmt.Sprintf("index %d, but there are %d entries: indices must be 0..%d", i, len(m), len(m)-1)
		}
		out[i] = m[k]
	}
	return out, "", ""
}

// pythonConstants quotes the NaN, Infinity and -Infinity that Python's json
// module writes for non-finite floats (a loglikelihood of -inf, say), which
// are not JSON; quoted, they reach the number parser and its checks.
func pythonConstants(b []byte) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	var out bytes.Buffer
	inString, escaped := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			out.WriteByte(c)
			continue
		}
		replaced := false
		for _, tok := range []string{"NaN", "Infinity", "-Infinity"} {
			if bytes.HasPrefix(b[i:], []byte(tok)) {
				out.WriteString(`"` + tok + `"`)
				i += len(tok) - 1
				replaced = true
				break
			}
		}
		if replaced {
			continue
		}
		if c == '"' {
			inString = true
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}
