package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
	"github.com/routerdc-go/routerdc/pipeline/score"
)

// ReadQueries reads a JSON-lines file of score.Query. Blank lines are
// skipped; unknown fields, a missing id/task/question/prompt, an unknown
// kind and an out-of-range target are errors naming the line and field.
func ReadQueries(path string) ([]score.Query, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var out []score.Query
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		at := fmt.Sprintf("line %d", line)
		var q score.Query
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&q); err != nil {
			return nil, &score.Error{File: path, Record: at, Field: jsonField(err), Msg: "not a query: " + err.Error()}
		}
		if dec.More() {
			return nil, &score.Error{File: path, Record: at, Msg: "more than one JSON value on the line"}
		}
		if field, msg := checkQuery(q); msg != "" {
			return nil, &score.Error{File: path, Record: at, Field: field, Msg: msg}
		}
		out = append(out, q)
	}
	if err := sc.Err(); err != nil {
		return nil, &score.Error{File: path, Msg: err.Error()}
	}
	if len(out) == 0 {
		return nil, &score.Error{File: path, Msg: "no queries"}
	}
	return out, nil
}

// jsonField names the field a decoding error is about, if any.
func jsonField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if s, err := strconv.Unquote(name); err == nil {
			return s
		}
		return name
	}
	return ""
}

// checkQuery returns the offending field and what is wrong, or "", "".
func checkQuery(q score.Query) (field, msg string) {
	switch {
	case q.ID == "":
		return "id", "missing or empty"
	case q.Task == "":
		return "task", "missing or empty"
	case q.Question == "":
		return "question", "missing or empty"
	case q.Prompt == "":
		return "prompt", "missing or empty"
	}
	switch q.Kind {
	case score.MultipleChoice:
		if len(q.Options) < 2 {
			return "options", fmt.Sprintf("a multiple-choice query needs at least 2 options, got %d", len(q.Options))
		}
		if slices.Contains(q.Options, "") {
			return "options", "empty option"
		}
		if q.Target < 0 || q.Target >= len(q.Options) {
			return "target", fmt.Sprintf("%d is not an index into %d options", q.Target, len(q.Options))
		}
	case score.Generate, score.Code:
	case "":
		return "kind", "missing"
	default:
		return "kind", fmt.Sprintf("%q is not one of %q, %q, %q", q.Kind, score.MultipleChoice, score.Generate, score.Code)
	}
	return "", ""
}

// results is the append-only output file. Each record is one write of a
// complete line followed by fsync, so a killed run leaves at most one
// partial last line, which the next open discards.
type results struct {
	path string
	f    *os.File
	mu   sync.Mutex
	done map[string]bool
	// discarded is the partial last line found on open, if any.
	discarded string
}

// Setting is one thing that decides the scores, as text: a results file
// keeps its settings in FILE.settings as "name: value" lines, so that a
// refused rerun can say what changed.
type Setting struct{ Name, Value string }

// settingsHeader is the first line of a settings file.
const settingsHeader = "# the settings the scores in %s were made with; a rerun with other settings is refused\n"

// legacyFingerprint names the one value of a settings file written before
// they were readable: a bare fingerprint line.
const legacyFingerprint = "fingerprint"

// checkSettings refuses to resume a results file scored with other
// settings, naming each change, and records the settings of a new one.
func checkSettings(out string, now []Setting) error {
	if len(now) == 0 {
		return nil
	}
	path := out + ".settings"
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if st, err := os.Stat(out); err == nil && st.Size() > 0 {
			return fmt.Errorf("%s holds scores but no %s: they may come from other settings; use another --out or delete it", out, path)
		}
		return writeSettings(path, out, now)
	case err != nil:
		return err
	}
	old, legacy, err := parseSettings(path, b)
	if err != nil {
		return err
	}
	if legacy {
		// Only the fingerprint can be compared; when it matches, the file
		// is rewritten readable for the next time.
		fp := settingValue(now, legacyFingerprint)
		if fp == old[0].Value {
			return writeSettings(path, out, now)
		}
		return fmt.Errorf("%s was scored with other settings (%s, written by an older version, keeps only a fingerprint: %s): "+
			"its scores would be mixed with new ones; use another --out, or delete both files to start over",
			out, path, change(legacyFingerprint, old[0].Value, fp, true, fp != ""))
	}
	changes := diffSettings(old, now)
	if len(changes) == 0 {
		return nil
	}
	if len(changes) == 1 && strings.HasPrefix(changes[0], legacyFingerprint+":") {
		changes[0] += " (the settings listed are the same: the scoring code or an unlisted setting changed)"
	}
	return fmt.Errorf("%s was scored with other settings (kept in %s): %s; "+
		"its scores would be mixed with new ones; use another --out, or delete both files to start over",
		out, path, strings.Join(changes, "; "))
}

// diffSettings lists "name: old -> new" for every setting that differs,
// in the order of now, then those only old has. The fingerprint is left
// out when something else differs: it then differs too and says nothing.
func diffSettings(old, now []Setting) []string {
	var out []string
	var fp string
	note := func(name string, a, b string, inA, inB bool) {
		if inA && inB && a == b {
			return
		}
		if name == legacyFingerprint {
			fp = change(name, a, b, inA, inB)
			return
		}
		out = append(out, change(name, a, b, inA, inB))
	}
	for _, s := range now {
		v, ok := lookupSetting(old, s.Name)
		note(s.Name, v, s.Value, ok, true)
	}
	for _, s := range old {
		if _, ok := lookupSetting(now, s.Name); !ok {
			note(s.Name, s.Value, "", true, false)
		}
	}
	if len(out) == 0 && fp != "" {
		out = append(out, fp)
	}
	return out
}

func change(name, a, b string, inA, inB bool) string {
	show := func(v string, in bool) string {
		if !in {
			return "(none)"
		}
		return settingText(v)
	}
	return fmt.Sprintf("%s: %s -> %s", name, show(a, inA), show(b, inB))
}

func lookupSetting(ss []Setting, name string) (string, bool) {
	for _, s := range ss {
		if s.Name == name {
			return s.Value, true
		}
	}
	return "", false
}

func settingValue(ss []Setting, name string) string {
	v, _ := lookupSetting(ss, name)
	return v
}

// settingText is v as written in a settings file: bare when that reads
// back the same, else Go-quoted.
func settingText(v string) string {
	if q := strconv.Quote(v); v == "" || v != strings.TrimSpace(v) || strings.HasPrefix(v, `"`) || q != `"`+v+`"` {
		return q
	}
	return v
}

func writeSettings(path, out string, ss []Setting) error {
	var b strings.Builder
	fmt.Fprintf(&b, settingsHeader, filepath.Base(out))
	for _, s := range ss {
		fmt.Fprintf(&b, "%s: %s\n", s.Name, settingText(s.Value))
	}
	return atomicfile.Write(path, []byte(b.String()))
}

// parseSettings reads a settings file; legacy is a file of one bare
// fingerprint line, returned as the one setting "fingerprint".
func parseSettings(path string, b []byte) (ss []Setting, legacy bool, err error) {
	if t := strings.TrimSpace(string(b)); t != "" && !strings.ContainsAny(t, ":\n") {
		return []Setting{{legacyFingerprint, t}}, true, nil
	}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		at := fmt.Sprintf("line %d", i+1)
		name, v, ok := strings.Cut(line, ":")
		name, v = strings.TrimSpace(name), strings.TrimSpace(v)
		if !ok || name == "" {
			return nil, false, &score.Error{File: path, Record: at, Msg: `not a "name: value" line; delete the file and its results to start over`}
		}
		if strings.HasPrefix(v, `"`) {
			if v, err = strconv.Unquote(v); err != nil {
				return nil, false, &score.Error{File: path, Record: at, Field: name, Msg: "bad quoted value: " + err.Error()}
			}
		}
		if _, dup := lookupSetting(ss, name); dup {
			return nil, false, &score.Error{File: path, Record: at, Field: name, Msg: "given twice"}
		}
		ss = append(ss, Setting{name, v})
	}
	return ss, false, nil
}

// openResults opens (or creates) path and checks that the records already
// there are this LLM's answers to these queries: same LLM, and for ids in
// the input the same task and question; ids not in the input (an earlier,
// larger run) must at least be of one of the input's tasks. The file is
// only repaired after those checks pass.
func openResults(path, llm string, byID map[string]score.Query) (*results, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	r, err := resume(f, path, llm, byID)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func resume(f *os.File, path, llm string, byID map[string]score.Query) (*results, error) {
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	r := &results{path: path, f: f, done: map[string]bool{}}
	nl := bytes.LastIndexByte(data, '\n')
	tail := data[nl+1:]
	keep, addNewline := len(data), false
	if len(bytes.TrimSpace(tail)) > 0 {
		if _, err := score.DecodeRecords(path, bytes.NewReader(tail)); err == nil {
			// Complete but unterminated (written by hand): keep it.
			addNewline = true
		} else {
			keep = nl + 1
			r.discarded = string(tail)
		}
	}
	if body := data[:keep]; len(bytes.TrimSpace(body)) > 0 {
		recs, err := score.DecodeRecords(path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		tasks := map[string]bool{}
		for _, q := range byID {
			tasks[q.Task] = true
		}
		for _, rec := range recs {
			bad := func(field, format string, args ...any) error {
				return &score.Error{File: path, Record: "id " + rec.ID, Field: field, Msg: fmt.Sprintf(format, args...)}
			}
			if rec.LLM != llm {
				return nil, bad("llm", "the file holds scores of LLM %q, not %q; use another output file", rec.LLM, llm)
			}
			if r.done[rec.ID] {
				return nil, bad("id", "appears twice in the results file")
			}
			if q, ok := byID[rec.ID]; ok {
				if rec.Task != q.Task {
					return nil, bad("task", "is %q in the file but %q in the input", rec.Task, q.Task)
				}
				if rec.Question != q.Question {
					return nil, bad("question", "differs from the input's: the file was scored from other queries")
				}
			} else if !tasks[rec.Task] {
				return nil, bad("task", "%q is not a task of the input; use another output file", rec.Task)
			}
			r.done[rec.ID] = true
		}
	}
	if keep < len(data) {
		if err := f.Truncate(int64(keep)); err != nil {
			return nil, err
		}
	}
	if addNewline {
		if _, err := f.Write([]byte("\n")); err != nil {
			return nil, err
		}
	}
	if keep < len(data) || addNewline {
		if err := f.Sync(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// append writes one record as a line and syncs it. A second record for an
// id is refused: it would be a bug, and merge would see two scores.
func (r *results) append(rec score.Record) error {
	if err := rec.Check(); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done[rec.ID] {
		return fmt.Errorf("%s: query %s scored twice (internal error)", r.path, rec.ID)
	}
	if _, err := r.f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("%s: %w", r.path, err)
	}
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("%s: %w", r.path, err)
	}
	r.done[rec.ID] = true
	return nil
}

func (r *results) close() error { return r.f.Close() }

// SortResults rewrites the results file at path atomically with records in
// the order of ids; records whose id is not in ids follow in file order.
// Run does this itself once every query is scored, because workers finish
// in any order.
func SortResults(path string, ids []string) error {
	recs, err := score.ReadRecords(path)
	if err != nil {
		return err
	}
	rank := make(map[string]int, len(ids))
	for i, id := range ids {
		if _, dup := rank[id]; !dup {
			rank[id] = i
		}
	}
	pos := func(r score.Record) int {
		if i, ok := rank[r.ID]; ok {
			return i
		}
		return len(ids)
	}
	sorted := slices.Clone(recs)
	slices.SortStableFunc(sorted, func(a, b score.Record) int { return pos(a) - pos(b) })
	if slices.Equal(sorted, recs) {
		return nil
	}
	var buf bytes.Buffer
	if err := score.WriteRecords(&buf, sorted); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes())
}
