// Package bigcode imports bigcode-evaluation-harness output for the code
// tasks (HumanEval, MBPP): the per-sample results RouterDC's patched harness
// dumps, scored as passed / n per problem, and the saved generations and
// references, for running the programs elsewhere (package execute).
package bigcode

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/routerdc-go/routerdc/pipeline/score"
	"github.com/routerdc-go/routerdc/pipeline/score/questions"
)

// KeyMode says what the results' task_id keys are.
type KeyMode string

const (
	// KeyAuto (the zero value): positions when every key is an integer that
	// indexes the problems (what the harness writes: its task_id is the
	// position in the evaluated split, 0-based), else task ids.
	KeyAuto KeyMode = ""
	// KeyIndex: key k is problem row Offset+k.
	KeyIndex KeyMode = "index"
	// KeyTaskID: key k is the problem row whose task_id is k, compared after
	// the last "/" ("0" matches "HumanEval/0", "11" matches MBPP's 11).
	KeyTaskID KeyMode = "task_id"
)

// Options say how to read the harness's files.
type Options struct {
	// Task is humaneval or mbpp (or the table names HumanEval, MBPP). Empty:
	// the results file's only task; for LoadPrograms, the generations file
	// name's "_<task>.json" suffix.
	Task string
	// LLM is written into every record.
	LLM string
	// Key says how results' keys find their problem rows.
	Key KeyMode
	// Offset is the harness's --limit_start: position 0 of its output is
	// problem row Offset.
	Offset int
}

// Import reads per-sample results, {task: {"<task_id>": [[completion_id,
// {"task_id", "passed", "result", "completion_id"}], ...]}}, and the problems
// the harness evaluated (a rows file, see questions.ReadRows: HumanEval
// task_id, prompt, test, entry_point; MBPP task_id, text, test_list), in the
// harness's order: HumanEval's test split (164 rows) or MBPP's test split
// (500 rows, task_ids 11-510). Each problem's score is passed / n; records
// come in problem order, with id "<task>/<row position>" and the question
// text as RouterDC stores it.
func Import(resultsPath, problemsPath string, opts Options) ([]score.Record, error) {
	taskName, results, err := readResults(resultsPath, opts.Task)
	if err != nil {
		return nil, err
	}
	task, err := questions.Resolve(taskName)
	if err != nil {
		return nil, err
	}
	rows, err := questions.ReadRows(problemsPath)
	if err != nil {
		return nil, err
	}
	queries, err := questions.ReadQueries(taskName, problemsPath)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(results))
	for i, r := range results {
		keys[i] = r.key
	}
	rowOf, err := matchRows(resultsPath, problemsPath, keys, rows, opts)
	if err != nil {
		return nil, err
	}
	order := make([]int, len(results))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return rowOf[order[a]] < rowOf[order[b]] })
	out := make([]score.Record, len(results))
	for i, j := range order {
		r, q := results[j], queries[rowOf[j]]
		out[i] = score.Record{ID: q.ID, Question: q.Question, Score: float64(r.passed) / float64(r.n), LLM: opts.LLM, Task: task.Name}
	}
	return out, nil
}

type result struct {
	key       string
	passed, n int
}

// readResults reads the per-sample results of one task, in key order.
func readResults(path, wantTask string) (string, []result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return "", nil, &score.Error{File: path, Msg: score.JSONMsg(err) + ` (want {task: {"<task_id>": [[completion_id, {...}], ...]}})`}
	}
	taskKey, err := pickTask(path, top, wantTask)
	if err != nil {
		return "", nil, err
	}
	var byKey map[string]json.RawMessage
	if err := json.Unmarshal(top[taskKey], &byKey); err != nil {
		return "", nil, &score.Error{File: path, Field: taskKey, Msg: "not an object of task_id: [[completion_id, result], ...]"}
	}
	if len(byKey) == 0 {
		return "", nil, &score.Error{File: path, Field: taskKey, Msg: "no results"}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]result, 0, len(keys))
	for _, k := range keys {
		r, err := readEntries(path, k, byKey[k])
		if err != nil {
			return "", nil, err
		}
		out = append(out, r)
	}
	return taskKey, out, nil
}

func pickTask(path string, top map[string]json.RawMessage, wantTask string) (string, error) {
	var keys []string
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if wantTask == "" {
		if len(keys) != 1 {
			return "", &score.Error{File: path, Msg: fmt.Sprintf("%d tasks (%s): set the task", len(keys), strings.Join(keys, ", "))}
		}
		t, err := questions.Resolve(keys[0])
		if err != nil || t.Kind() != score.Code {
			return "", &score.Error{File: path, Msg: fmt.Sprintf("task %q is not a code task this importer knows (humaneval, mbpp)", keys[0])}
		}
		return keys[0], nil
	}
	want, err := questions.Resolve(wantTask)
	if err != nil {
		return "", err
	}
	if want.Kind() != score.Code {
		return "", fmt.Errorf("%s is not a code task (humaneval, mbpp)", want.Name)
	}
	var found []string
	for _, k := range keys {
		if t, err := questions.Resolve(k); err == nil && t == want {
			found = append(found, k)
		}
	}
	if len(found) != 1 {
		return "", &score.Error{File: path, Msg: fmt.Sprintf("%d result sets for %s among the tasks %s", len(found), want.Name, strings.Join(keys, ", "))}
	}
	return found[0], nil
}

// readEntries counts one problem's passed completions, checking that each
// completion appears once and that the result names the same task_id.
func readEntries(path, key string, raw json.RawMessage) (result, error) {
	at := "task_id " + key
	fail := func(field, msg string) (result, error) {
		return result{}, &score.Error{File: path, Record: at, Field: field, Msg: msg}
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return fail("", "not a list of [completion_id, result]")
	}
	if len(entries) == 0 {
		return fail("", "no completions")
	}
	r := result{key: key, n: len(entries)}
	seen := map[int]bool{}
	for j, e := range entries {
		field := fmt.Sprintf("[%d]", j)
		var pair []json.RawMessage
		if err := json.Unmarshal(e, &pair); err != nil || len(pair) != 2 {
			return fail(field, "not a [completion_id, result] pair")
		}
		var cid int
		if err := json.Unmarshal(pair[0], &cid); err != nil {
			return fail(field+"[0]", "completion_id is not an integer")
		}
		var res struct {
			TaskID       any   `json:"task_id"`
			Passed       *bool `json:"passed"`
			CompletionID *int  `json:"completion_id"`
		}
		if err := json.Unmarshal(pair[1], &res); err != nil {
			return fail(field+"[1]", "not a result object: "+err.Error())
		}
		switch {
		case res.Passed == nil:
			return fail(field+".passed", "missing")
		case res.CompletionID != nil && *res.CompletionID != cid:
			return fail(field+".completion_id", fmt.Sprintf("%d, but the pair says %d", *res.CompletionID, cid))
		case res.TaskID != nil && shortID(idString(res.TaskID)) != shortID(key):
			return fail(field+".task_id", fmt.Sprintf("%s under the key %q", idString(res.TaskID), key))
		case seen[cid]:
			return fail(field, fmt.Sprintf("completion %d appears twice", cid))
		}
		seen[cid] = true
		if *res.Passed {
			r.passed++
		}
	}
	return r, nil
}

func idString(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// shortID is a task id after its last "/": "HumanEval/7" -> "7".
func shortID(id string) string {
	return id[strings.LastIndex(id, "/")+1:]
}

// matchRows finds each key's problem row (see KeyMode).
func matchRows(resultsPath, problemsPath string, keys []string, rows []map[string]any, opts Options) ([]int, error) {
	if opts.Offset < 0 {
		return nil, fmt.Errorf("negative offset %d", opts.Offset)
	}
	mode := opts.Key
	if mode == KeyAuto {
		mode = KeyIndex
		for _, k := range keys {
			n, err := strconv.Atoi(k)
			if err != nil || n < 0 || opts.Offset+n >= len(rows) {
				mode = KeyTaskID
				break
			}
		}
	}
	out := make([]int, len(keys))
	switch mode {
	case KeyIndex:
		for i, k := range keys {
			n, err := strconv.Atoi(k)
			if err != nil || n < 0 {
				return nil, &score.Error{File: resultsPath, Record: "task_id " + k, Msg: "not a problem index"}
			}
			if opts.Offset+n >= len(rows) {
				return nil, &score.Error{File: resultsPath, Record: "task_id " + k, Msg: fmt.Sprintf(
					"no problem row at index %d: %s has %d rows", opts.Offset+n, problemsPath, len(rows))}
			}
			out[i] = opts.Offset + n
		}
	case KeyTaskID:
		byID := map[string]int{}
		for i, row := range rows {
			v, ok := row["task_id"]
			if !ok || v == nil {
				return nil, &score.Error{File: problemsPath, Record: fmt.Sprintf("row %d", i), Field: "task_id",
					Msg: "missing: results keyed by task id need it"}
			}
			id := shortID(idString(v))
			if j, dup := byID[id]; dup {
				return nil, &score.Error{File: problemsPath, Record: fmt.Sprintf("row %d", i), Field: "task_id",
					Msg: fmt.Sprintf("%s is also row %d's", idString(v), j)}
			}
			byID[id] = i
		}
		for i, k := range keys {
			row, ok := byID[shortID(k)]
			if !ok {
				return nil, &score.Error{File: resultsPath, Record: "task_id " + k, Msg: fmt.Sprintf(
					"no problem row with this task_id in %s (%d rows)", problemsPath, len(rows))}
			}
			out[i] = row
		}
	default:
		return nil, fmt.Errorf("unknown key mode %q (known: index, task_id, or empty for auto)", opts.Key)
	}
	first := map[int]string{}
	for i, row := range out {
		if k, dup := first[row]; dup {
			return nil, &score.Error{File: resultsPath, Record: "task_id " + keys[i], Msg: fmt.Sprintf(
				"names the same problem (row %d) as task_id %s", row, k)}
		}
		first[row] = keys[i]
	}
	return out, nil
}

// Program is one problem's saved generations with its test code, for
// execution: run Samples[m] + "\n" + Reference for each m.
type Program struct {
	ID        string
	Question  string
	Samples   []string
	Reference string
}

// LoadPrograms reads bigcode's --save_generations file (list per problem of
// n program strings, prompt included) and --save_references file (list of
// test code), and the problems rows (as for Import). Position i of both files
// is problem row Offset+i. Each reference must be the problem's test code as
// questions.Build makes it (HumanEval "\n"+test+"\ncheck(entry_point)", MBPP
// the test_list lines), which catches files from another split or run.
func LoadPrograms(generationsPath, referencesPath, problemsPath string, opts Options) ([]Program, error) {
	taskName := opts.Task
	if taskName == "" {
		stem := strings.TrimSuffix(filepath.Base(generationsPath), ".json")
		taskName = stem[strings.LastIndex(stem, "_")+1:]
		if t, err := questions.Resolve(taskName); err != nil || t.Kind() != score.Code {
			return nil, fmt.Errorf("%s: no code task at the end of the file name (want ..._humaneval.json or ..._mbpp.json): set the task", generationsPath)
		}
	}
	if t, err := questions.Resolve(taskName); err != nil {
		return nil, err
	} else if t.Kind() != score.Code {
		return nil, fmt.Errorf("%s is not a code task (humaneval, mbpp)", t.Name)
	}
	if opts.Offset < 0 {
		return nil, fmt.Errorf("negative offset %d", opts.Offset)
	}
	var gens [][]string
	if err := readJSON(generationsPath, &gens, "a list per problem of lists of generated programs"); err != nil {
		return nil, err
	}
	var refs []string
	if err := readJSON(referencesPath, &refs, "a list of test code strings"); err != nil {
		return nil, err
	}
	if len(gens) != len(refs) {
		return nil, &score.Error{File: referencesPath, Msg: fmt.Sprintf("%d references for %d problems in %s", len(refs), len(gens), generationsPath)}
	}
	queries, err := questions.ReadQueries(taskName, problemsPath)
	if err != nil {
		return nil, err
	}
	if extra := opts.Offset + len(gens) - len(queries); extra > 0 {
		first := len(gens) - extra
		return nil, &score.Error{File: generationsPath, Record: fmt.Sprintf("record %d", first), Msg: fmt.Sprintf(
			"no problem row %d: %s has %d rows", opts.Offset+first, problemsPath, len(queries))}
	}
	out := make([]Program, len(gens))
	for i := range gens {
		at := fmt.Sprintf("record %d", i)
		row := opts.Offset + i
		if len(gens[i]) == 0 {
			return nil, &score.Error{File: generationsPath, Record: at, Msg: "no generations"}
		}
		q := queries[row]
		if refs[i] != q.Tests {
			return nil, &score.Error{File: referencesPath, Record: at, Msg: fmt.Sprintf(
				"not the tests of problem row %d of %s (%s): are the files from the same run, split and --limit_start?", row, problemsPath, q.ID)}
		}
		out[i] = Program{ID: q.ID, Question: q.Question, Samples: gens[i], Reference: refs[i]}
	}
	return out, nil
}

func readJSON(path string, v any, want string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return &score.Error{File: path, Msg: "not " + want + ": " + err.Error()}
		}
		return &score.Error{File: path, Msg: score.JSONMsg(err)}
	}
	return nil
}
