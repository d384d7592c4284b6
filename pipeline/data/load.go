package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValidationError is what Load returns for a file whose content is not a valid
// RouterDC score file. Record is the 0-based index in the top-level array, or
// -1 when the problem is with the file as a whole.
type ValidationError struct {
	File   string
	Record int
	Field  string // e.g. "question", "scores.meta-llama/Meta-Llama-3-8B"; "" if none
	Msg    string
}

func (e *ValidationError) Error() string {
	switch {
	case e.Record < 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	case e.Field == "":
		return fmt.Sprintf("%s: record %d: %s", e.File, e.Record, e.Msg)
	default:
		return fmt.Sprintf("%s: record %d: field %q: %s", e.File, e.Record, e.Field, e.Msg)
	}
}

// Load reads and validates one RouterDC-format file: a JSON array of
// {"question": str, "scores": {llm: number, ...}, "costs"?: {llm: dollars,
// ...}, "cluster_id"?: int}. Costs are for every LLM of every record or for
// none: a router that weighs cost needs one per choice.
// Dataset.LLMs keeps the order of the first record's scores, because the
// official code indexes LLMs by that order; every record must repeat it.
//
// The file must be UTF-8 (a leading byte order mark is skipped); text that
// is not valid UTF-8 is an error, not silently turned into U+FFFD. The same
// question may appear in several records (see parser.record).
//
// The file is read into memory once and decoded token by token: live memory
// is the file's bytes plus the parsed records, linear in the file size.
func Load(path string) (*Dataset, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// LoadConsistent loads several files and checks that they all list the same
// LLMs in the same order, so that an LLM index means the same model in each.
func LoadConsistent(paths ...string) ([]*Dataset, error) {
	out := make([]*Dataset, 0, len(paths))
	for _, p := range paths {
		ds, err := Load(p)
		if err != nil {
			return nil, err
		}
		if len(out) > 0 {
			if diff := diffLLMs(out[0].LLMs, ds.LLMs); diff != "" {
				return nil, fmt.Errorf("%s and %s do not score the same LLMs in the same order: %s",
					out[0].Path, ds.Path, diff)
			}
		}
		out = append(out, ds)
	}
	return out, nil
}

// diffLLMs describes how got differs from want, or returns "" if equal.
func diffLLMs(want, got []string) string {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return fmt.Sprintf("%q is missing from the second file", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			return fmt.Sprintf("%q is only in the second file", g)
		}
	}
	for i := range want {
		if want[i] != got[i] {
			return fmt.Sprintf("position %d is %q in the first file but %q in the second (orders %v vs %v)",
				i, want[i], got[i], want, got)
		}
	}
	return ""
}

// parser walks the token stream so that the order of the "scores" keys
// survives (a Go map would lose it) and every error knows where it happened.
type parser struct {
	file  string
	data  []byte // the file after any byte order mark
	base  int    // bytes of byte order mark skipped, added to reported positions
	dec   *json.Decoder
	rec   int
	field string
	ds    *Dataset
	index map[string]int // LLM name -> position, from the first record
	// lenient lets a score or cost be null or absent, which becomes NaN:
	// dataset declarations then drop the query or name it (missing:), and
	// only for the LLMs they use. Load and Parse stay strict.
	lenient bool
	// withCosts is whether the first record has costs, which every other
	// record must then repeat.
	withCosts bool
}

// Parse is Load on a file's content; path names it in errors.
func Parse(path string, b []byte) (*Dataset, error) {
	return parse(path, b, false)
}

func parse(path string, b []byte, lenient bool) (*Dataset, error) {
	p := &parser{file: path, data: b, rec: -1, ds: &Dataset{Path: path}, lenient: lenient}
	switch {
	case bytes.HasPrefix(b, utf8BOM):
		// Windows editors and PowerShell write one; it carries no content,
		// and JSON decoders (Python's included) differ only in whether they
		// refuse it.
		p.data, p.base = b[len(utf8BOM):], len(utf8BOM)
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}), bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		return nil, p.fail("the file is UTF-16 (it starts with the byte order mark %x); save it as UTF-8", b[:2])
	}
	p.dec = json.NewDecoder(bytes.NewReader(p.data))
	p.dec.UseNumber()
	if err := p.run(); err != nil {
		return nil, err
	}
	return p.ds, nil
}

func (p *parser) fail(format string, args ...any) error {
	return &ValidationError{File: p.file, Record: p.rec, Field: p.field, Msg: fmt.Sprintf(format, args...)}
}

// token reads the next token and turns decoder errors into ValidationErrors.
func (p *parser) token() (json.Token, error) {
	start := p.dec.InputOffset()
	t, err := p.dec.Token()
	if err == nil {
		if _, ok := t.(string); ok {
			// encoding/json replaces invalid UTF-8 with U+FFFD without a
			// word, so check the raw bytes of every string.
			raw := p.data[start:p.dec.InputOffset()]
			if i := invalidUTF8(raw); i >= 0 {
				pos := p.base + int(start) + i
				return nil, p.fail("text is not valid UTF-8 (byte 0x%02x at byte %d); save the file as UTF-8", raw[i], pos)
			}
		}
		return t, nil
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, p.fail("file is truncated: it ends before the JSON is complete")
	}
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return nil, p.fail("not valid JSON: %v", err)
	}
	// SyntaxError.Offset is not a file position when decoding token by
	// token, so locate the bad token from where this one started.
	rest := bytes.TrimLeft(p.data[start:], " \t\r\n:,")
	pos := p.base + len(p.data) - len(rest)
	// Python's json.dump writes NaN and Infinity bare; name them, since
	// "invalid character 'N'" does not say what went wrong upstream.
	for _, lit := range []string{"NaN", "Infinity", "-Infinity"} {
		if bytes.HasPrefix(rest, []byte(lit)) {
			return nil, p.fail("value %s at byte %d is not a finite number (and not valid JSON)", lit, pos)
		}
	}
	return nil, p.fail("not valid JSON near byte %d: %v", pos, se)
}

func (p *parser) run() error {
	t, err := p.token()
	if err != nil {
		return err
	}
	if t != json.Delim('[') {
		return p.fail("top level is %s, want a JSON array of records", describe(t))
	}
	for p.dec.More() {
		p.rec++
		if err := p.record(); err != nil {
			return err
		}
	}
	if _, err := p.token(); err != nil { // the closing ']'
		return err
	}
	p.rec, p.field = -1, ""
	if _, err := p.dec.Token(); err != io.EOF {
		return p.fail("unexpected data after the top-level array")
	}
	if len(p.ds.Queries) == 0 {
		return p.fail("the array holds no records")
	}
	return nil
}

func (p *parser) record() error {
	p.field = ""
	t, err := p.token()
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		return p.fail("record is %s, want an object", describe(t))
	}
	q := Query{ClusterID: -1}
	seen := map[string]bool{}
	var costNames []string
	var costVals []float64
	for p.dec.More() {
		p.field = ""
		kt, err := p.token()
		if err != nil {
			return err
		}
		key := kt.(string) // object keys are always strings
		p.field = key
		if seen[key] {
			return p.fail("appears twice in the record")
		}
		seen[key] = true
		switch key {
		case "question":
			v, err := p.token()
			if err != nil {
				return err
			}
			s, ok := v.(string)
			if !ok {
				return p.fail("is %s, want a string", describe(v))
			}
			if strings.TrimSpace(s) == "" {
				return p.fail("is empty or only whitespace")
			}
			q.Question = s
		case "scores":
			if q.Scores, err = p.scores(); err != nil {
				return err
			}
		case "costs":
			if costNames, costVals, err = p.costs(); err != nil {
				return err
			}
		case "cluster_id":
			v, err := p.token()
			if err != nil {
				return err
			}
			if q.ClusterID, err = p.clusterID(v); err != nil {
				return err
			}
		default:
			return p.fail("unknown field (want only question, scores, costs, cluster_id)")
		}
	}
	if _, err := p.token(); err != nil { // the closing '}'
		return err
	}
	p.field = ""
	if !seen["question"] {
		p.field = "question"
		return p.fail("missing")
	}
	if !seen["scores"] {
		p.field = "scores"
		return p.fail("missing")
	}
	if err := p.placeCosts(&q, seen["costs"], costNames, costVals); err != nil {
		return err
	}
	p.field = ""
	// A question that is already in the file is kept, as a record of its
	// own with its own scores, deliberately: the released test sets hold
	// such records legitimately (8 MMLU questions twice, 5 of them with
	// different scores; one C-Eval and one MBPP question twice), so
	// rejecting or merging them would change the paper's test sets.
	p.ds.Queries = append(p.ds.Queries, q)
	return nil
}

// scores reads the scores object. The first record defines the LLMs and their
// order; later records must match it exactly.
func (p *parser) scores() ([]float64, error) {
	t, err := p.token()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('{') {
		return nil, p.fail("is %s, want an object of LLM name -> score", describe(t))
	}
	first := p.index == nil
	var names []string
	var vals []float64
	for p.dec.More() {
		p.field = "scores"
		kt, err := p.token()
		if err != nil {
			return nil, err
		}
		name := kt.(string)
		p.field = "scores." + name
		if slices.Contains(names, name) {
			return nil, p.fail("LLM appears twice")
		}
		if !first {
			if _, ok := p.index[name]; !ok {
				return nil, p.fail("LLM is not among the first record's LLMs %v", p.ds.LLMs)
			}
		}
		v, err := p.token()
		if err != nil {
			return nil, err
		}
		x, err := p.score(v)
		if err != nil {
			return nil, err
		}
		names = append(names, name)
		vals = append(vals, x)
	}
	if _, err := p.token(); err != nil { // the closing '}'
		return nil, err
	}
	if first {
		if len(names) == 0 {
			p.field = "scores"
			return nil, p.fail("no LLM scores in the first record")
		}
		p.ds.LLMs = names
		p.index = make(map[string]int, len(names))
		for i, n := range names {
			p.index[n] = i
		}
		return vals, nil
	}
	if p.lenient {
		// Placed by name: the declaration's loader reorders by name anyway.
		out := make([]float64, len(p.ds.LLMs))
		for i := range out {
			out[i] = math.NaN()
		}
		for i, n := range names {
			out[p.index[n]] = vals[i]
		}
		return out, nil
	}
	for _, want := range p.ds.LLMs {
		if !slices.Contains(names, want) {
			p.field = "scores." + want
			return nil, p.fail("missing (the first record scores this LLM)")
		}
	}
	for i, want := range p.ds.LLMs {
		if names[i] != want {
			p.field = "scores"
			return nil, p.fail("LLMs are in a different order than in the first record: position %d is %q, want %q",
				i, names[i], want)
		}
	}
	return vals, nil
}

func (p *parser) score(v json.Token) (float64, error) {
	if v == nil && p.lenient {
		return math.NaN(), nil
	}
	switch v := v.(type) {
	case json.Number:
		x, err := strconv.ParseFloat(string(v), 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return 0, p.fail("score %s is not a finite float64", v)
		}
		if x < 0 || x > 1 {
			return 0, p.fail("score %s is outside [0,1]", v)
		}
		return x, nil
	case string:
		if x, err := strconv.ParseFloat(v, 64); err == nil && (math.IsNaN(x) || math.IsInf(x, 0)) {
			return 0, p.fail("score is the string %q, not a finite number", v)
		}
		return 0, p.fail("score is the string %q, want a number", v)
	default:
		return 0, p.fail("score is %s, want a number", describe(v))
	}
}

// costs reads the costs object as name/value pairs: the scores, which
// define the LLMs, may come after it in the record.
func (p *parser) costs() ([]string, []float64, error) {
	t, err := p.token()
	if err != nil {
		return nil, nil, err
	}
	if t != json.Delim('{') {
		return nil, nil, p.fail("is %s, want an object of LLM name -> cost in dollars", describe(t))
	}
	var names []string
	var vals []float64
	for p.dec.More() {
		p.field = "costs"
		kt, err := p.token()
		if err != nil {
			return nil, nil, err
		}
		name := kt.(string)
		p.field = "costs." + name
		if slices.Contains(names, name) {
			return nil, nil, p.fail("LLM appears twice")
		}
		v, err := p.token()
		if err != nil {
			return nil, nil, err
		}
		x, err := p.cost(v)
		if err != nil {
			return nil, nil, err
		}
		names = append(names, name)
		vals = append(vals, x)
	}
	if _, err := p.token(); err != nil { // the closing '}'
		return nil, nil, err
	}
	return names, vals, nil
}

func (p *parser) cost(v json.Token) (float64, error) {
	if v == nil && p.lenient {
		return math.NaN(), nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, p.fail("cost is %s, want a number of dollars", describe(v))
	}
	x, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return 0, p.fail("cost %s is not a finite float64", n)
	}
	if x < 0 {
		return 0, p.fail("cost %s is negative", n)
	}
	return x, nil
}

// placeCosts puts a record's costs in the order of the LLMs, and holds every
// record to what the first one did: costs for all LLMs, or none.
func (p *parser) placeCosts(q *Query, has bool, names []string, vals []float64) error {
	p.field = "costs"
	if p.rec == 0 {
		p.withCosts = has
	}
	switch {
	case has && !p.withCosts:
		return p.fail("present, but the first record has none (costs are for every record or none)")
	case !has && p.withCosts:
		return p.fail("missing, but the first record has costs (costs are for every record or none)")
	case !has:
		return nil
	}
	q.Costs = make([]float64, len(p.ds.LLMs))
	for i := range q.Costs {
		q.Costs[i] = math.NaN()
	}
	for i, n := range names {
		j, ok := p.index[n]
		if !ok {
			p.field = "costs." + n
			return p.fail("LLM is not among the scored LLMs %v", p.ds.LLMs)
		}
		q.Costs[j] = vals[i]
	}
	if !p.lenient {
		for j, llm := range p.ds.LLMs {
			if math.IsNaN(q.Costs[j]) {
				p.field = "costs." + llm
				return p.fail("missing (costs are for every scored LLM)")
			}
		}
	}
	return nil
}

func (p *parser) clusterID(v json.Token) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, p.fail("is %s, want a non-negative integer", describe(v))
	}
	id, err := strconv.Atoi(string(n))
	if err != nil {
		return 0, p.fail("%s is not an integer", n)
	}
	if id < 0 {
		// -1 is how Query says "no cluster", so a file cannot use it.
		return 0, p.fail("%d is negative, want a non-negative integer", id)
	}
	return id, nil
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// invalidUTF8 is the index of the first byte of b that is not part of a
// valid UTF-8 sequence, or -1.
func invalidUTF8(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// describe names a JSON token's kind for error messages.
func describe(t json.Token) string {
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '[':
			return "an array"
		case '{':
			return "an object"
		}
		return fmt.Sprintf("%q", string(t))
	case string:
		if len(t) > 40 {
			t = t[:40] + "..."
		}
		return fmt.Sprintf("the string %q", t)
	case json.Number:
		return "the number " + string(t)
	case bool:
		return fmt.Sprintf("the boolean %v", t)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", t)
}
