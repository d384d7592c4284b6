package bigcode

import (
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/score"
	"github.com/routerdc-go/routerdc/pipeline/score/questions"
)

func td(name string) string { return filepath.Join("testdata", name) }

// problemQuestions are the stored question texts of the fixture problems,
// built from the fixture rows.
func problemQuestions(t *testing.T, task, file string) []string {
	t.Helper()
	qs, err := questions.ReadQueries(task, td(file))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = q.Question
	}
	return out
}

func checkRecords(t *testing.T, label string, got, want []score.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d: %+v", label, len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Question != w.Question || g.LLM != w.LLM || g.Task != w.Task || math.Abs(g.Score-w.Score) > 1e-12 {
			t.Errorf("%s record %d:\n got %+v\nwant %+v", label, i, g, w)
		}
		if err := g.Check(); err != nil {
			t.Errorf("%s record %d: %v", label, i, err)
		}
	}
}

// TestSpecExample imports the spec's example: problem 0 passes 1 of 3
// completions ("passed", "failed: ", "timed out"), problem 1 all 3.
func TestSpecExample(t *testing.T) {
	he := problemQuestions(t, "HumanEval", "humaneval_problems.jsonl")
	if !strings.Contains(he[0], "def has_close_elements(") {
		t.Fatalf("fixture row 0 is not HumanEval/0: %q", he[0])
	}
	want := []score.Record{
		{ID: "HumanEval/0", Question: he[0], Score: 1.0 / 3, LLM: "org/m", Task: "HumanEval"},
		{ID: "HumanEval/1", Question: he[1], Score: 1, LLM: "org/m", Task: "HumanEval"},
	}
	for _, opts := range []Options{{LLM: "org/m"}, {Task: "humaneval", LLM: "org/m"}, {Task: "HumanEval", LLM: "org/m", Key: KeyIndex},
		{Task: "HumanEval", LLM: "org/m", Key: KeyTaskID}} {
		recs, err := Import(td("log_samples.json"), td("humaneval_problems.jsonl"), opts)
		if err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		checkRecords(t, "spec example", recs, want)
	}
}

func TestImportKeys(t *testing.T) {
	mb := problemQuestions(t, "MBPP", "mbpp_problems.json")
	he := problemQuestions(t, "HumanEval", "humaneval_problems.jsonl")
	// MBPP rows 0 and 2 (task_ids 11 and 13): 1 of 2 and 3 of 4 passed.
	mbppWant := []score.Record{
		{ID: "MBPP/0", Question: mb[0], Score: 0.5, Task: "MBPP"},
		{ID: "MBPP/2", Question: mb[2], Score: 0.75, Task: "MBPP"},
	}
	tests := []struct {
		results, problems string
		opts              Options
		want              []score.Record
	}{
		// Keys 0 and 2 index the 3 rows: positions.
		{"mbpp_results_index.json", "mbpp_problems.json", Options{}, mbppWant},
		// Key 13 cannot index 3 rows: task ids.
		{"mbpp_results_taskid.json", "mbpp_problems.json", Options{}, mbppWant},
		{"mbpp_results_taskid.json", "mbpp_problems.json", Options{Key: KeyTaskID}, mbppWant},
		// "HumanEval/N" keys are task ids; 1 of 1 and 1 of 5 passed.
		{"humaneval_results_prefixed.json", "humaneval_problems.jsonl", Options{}, []score.Record{
			{ID: "HumanEval/0", Question: he[0], Score: 1, Task: "HumanEval"},
			{ID: "HumanEval/2", Question: he[2], Score: 0.2, Task: "HumanEval"},
		}},
		// Two tasks in one file: pick one.
		{"two_tasks.json", "mbpp_problems.json", Options{Task: "mbpp"}, []score.Record{
			{ID: "MBPP/1", Question: mb[1], Score: 0, Task: "MBPP"},
		}},
		// --limit_start 1: position 1 is row 2.
		{"two_tasks.json", "mbpp_problems.json", Options{Task: "MBPP", Offset: 1}, []score.Record{
			{ID: "MBPP/2", Question: mb[2], Score: 0, Task: "MBPP"},
		}},
	}
	for _, tt := range tests {
		recs, err := Import(td(tt.results), td(tt.problems), tt.opts)
		if err != nil {
			t.Errorf("%s %+v: %v", tt.results, tt.opts, err)
			continue
		}
		checkRecords(t, tt.results, recs, tt.want)
	}
}

func TestImportErrors(t *testing.T) {
	tests := []struct {
		results, problems string
		opts              Options
		file              string // "" means the results file
		record, field     string
		msg               string
	}{
		{"err_missing_task.json", "humaneval_problems.jsonl", Options{}, "", "task_id 7", "", "no problem row with this task_id"},
		{"err_missing_task.json", "humaneval_problems.jsonl", Options{Key: KeyIndex}, "", "task_id 7", "", "no problem row at index 7"},
		// Forcing task ids on positions: MBPP has no task 0.
		{"mbpp_results_index.json", "mbpp_problems.json", Options{Key: KeyTaskID}, "", "task_id 0", "", "no problem row with this task_id"},
		{"mbpp_results_taskid.json", "mbpp_problems.json", Options{Key: KeyIndex}, "", "task_id 11", "", "no problem row at index 11"},
		{"humaneval_results_prefixed.json", "humaneval_problems.jsonl", Options{Key: KeyIndex}, "", "task_id HumanEval/0", "", "not a problem index"},
		{"err_missing_passed.json", "humaneval_problems.jsonl", Options{}, "", "task_id 0", "[0].passed", "missing"},
		{"err_taskid_mismatch.json", "humaneval_problems.jsonl", Options{}, "", "task_id 1", "[0].task_id", `0 under the key "1"`},
		{"err_empty_list.json", "humaneval_problems.jsonl", Options{}, "", "task_id 0", "", "no completions"},
		{"err_dup_completion.json", "humaneval_problems.jsonl", Options{}, "", "task_id 0", "[1]", "completion 0 appears twice"},
		{"err_completion_mismatch.json", "humaneval_problems.jsonl", Options{}, "", "task_id 0", "[0].completion_id", "the pair says 1"},
		{"err_bad_pair.json", "humaneval_problems.jsonl", Options{}, "", "task_id 0", "[0]", "pair"},
		{"err_same_problem.json", "humaneval_problems.jsonl", Options{}, "", "task_id HumanEval/0", "", "same problem (row 0) as task_id 0"},
		{"err_truncated.json", "humaneval_problems.jsonl", Options{}, "", "", "", "truncated JSON"},
		{"two_tasks.json", "humaneval_problems.jsonl", Options{}, "", "", "", "2 tasks (humaneval, mbpp): set the task"},
		{"err_not_code.json", "humaneval_problems.jsonl", Options{}, "", "", "", "not a code task"},
		{"log_samples.json", "humaneval_problems.jsonl", Options{Task: "mbpp"}, "", "", "", "0 result sets for MBPP"},
		// Problems of the wrong task: the rows lack MBPP's fields.
		{"mbpp_results_index.json", "humaneval_problems.jsonl", Options{}, "humaneval_problems.jsonl", "line 1", "text", "missing"},
	}
	for _, tt := range tests {
		_, err := Import(td(tt.results), td(tt.problems), tt.opts)
		var se *score.Error
		if !errors.As(err, &se) {
			t.Errorf("%s %+v: err %v, want a *score.Error", tt.results, tt.opts, err)
			continue
		}
		file := td(tt.results)
		if tt.file != "" {
			file = td(tt.file)
		}
		if se.File != file || se.Record != tt.record || se.Field != tt.field || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("%s %+v: got %q\nwant file %s, record %q, field %q, message containing %q", tt.results, tt.opts, err, file, tt.record, tt.field, tt.msg)
		}
	}
	for _, opts := range []Options{{Task: "gsm8k"}, {Task: "nope"}, {Key: "position"}, {Offset: -1}} {
		if _, err := Import(td("log_samples.json"), td("humaneval_problems.jsonl"), opts); err == nil {
			t.Errorf("%+v accepted", opts)
		}
	}
}

func TestLoadPrograms(t *testing.T) {
	he := problemQuestions(t, "HumanEval", "humaneval_problems.jsonl")
	progs, err := LoadPrograms(td("generations_humaneval.json"), td("references_humaneval.json"), td("humaneval_problems.jsonl"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(progs) != 3 {
		t.Fatalf("%d programs, want 3", len(progs))
	}
	wantSamples := []int{2, 1, 2}
	for i, p := range progs {
		if p.ID != (questions.Task{Name: "HumanEval"}).ID(i) || p.Question != he[i] || len(p.Samples) != wantSamples[i] {
			t.Errorf("program %d: %s, %d samples", i, p.ID, len(p.Samples))
		}
		if !strings.HasPrefix(p.Samples[0], strings.TrimSpace(he[i])) {
			t.Errorf("program %d: sample does not start with its prompt", i)
		}
	}
	// The reference of problem 0 is "\n" + test + "\ncheck(has_close_elements)".
	if !strings.HasPrefix(progs[0].Reference, "\n\n\nMETADATA") || !strings.HasSuffix(progs[0].Reference, "\ncheck(has_close_elements)") {
		t.Errorf("reference 0 = %q", progs[0].Reference)
	}

	// MBPP from --limit_start 1: rows 1 and 2; references are test_list lines.
	progs, err = LoadPrograms(td("generations_mbpp.json"), td("references_mbpp.json"), td("mbpp_problems.json"), Options{Offset: 1})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range progs {
		ids = append(ids, p.ID)
	}
	if !reflect.DeepEqual(ids, []string{"MBPP/1", "MBPP/2"}) || len(progs[1].Samples) != 2 ||
		progs[0].Reference != "assert sort_matrix([[1, 2, 3], [2, 4, 5], [1, 1, 1]])==[[1, 1, 1], [1, 2, 3], [2, 4, 5]]" {
		t.Errorf("MBPP programs %v, %+v", ids, progs)
	}
}

func TestLoadProgramsErrors(t *testing.T) {
	tests := []struct {
		gens, refs, problems string
		opts                 Options
		file, record         string
		msg                  string
	}{
		{"generations_humaneval.json", "references_humaneval_swapped.json", "humaneval_problems.jsonl", Options{},
			"references_humaneval_swapped.json", "record 1", "not the tests of problem row 1"},
		{"generations_humaneval.json", "references_short.json", "humaneval_problems.jsonl", Options{},
			"references_short.json", "", "1 references for 3 problems"},
		{"generations_humaneval.json", "references_humaneval.json", "humaneval_problems.jsonl", Options{Offset: 1},
			"generations_humaneval.json", "record 2", "no problem row 3"},
		{"generations_mbpp.json", "references_mbpp.json", "mbpp_problems.json", Options{Offset: 2},
			"generations_mbpp.json", "record 1", "no problem row 3"},
		{"generations_mbpp.json", "references_mbpp.json", "mbpp_problems.json", Options{},
			"references_mbpp.json", "record 0", "not the tests"},
		{"generations_bad.json", "references_mbpp.json", "mbpp_problems.json", Options{Task: "mbpp"},
			"generations_bad.json", "", "not a list per problem of lists of generated programs"},
		{"generations_empty_humaneval.json", "references_humaneval.json", "humaneval_problems.jsonl", Options{},
			"generations_empty_humaneval.json", "record 1", "no generations"},
		{"err_truncated.json", "references_humaneval.json", "humaneval_problems.jsonl", Options{Task: "humaneval"},
			"err_truncated.json", "", "truncated JSON"},
	}
	for _, tt := range tests {
		_, err := LoadPrograms(td(tt.gens), td(tt.refs), td(tt.problems), tt.opts)
		var se *score.Error
		if !errors.As(err, &se) {
			t.Errorf("%s %s: err %v, want a *score.Error", tt.gens, tt.refs, err)
			continue
		}
		if se.File != td(tt.file) || se.Record != tt.record || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("%s %s: got %q\nwant file %s, record %q, message containing %q", tt.gens, tt.refs, err, tt.file, tt.record, tt.msg)
		}
	}
	// No task in the name of generations_bad.json.
	if _, err := LoadPrograms(td("generations_bad.json"), td("references_mbpp.json"), td("mbpp_problems.json"), Options{}); err == nil ||
		!strings.Contains(err.Error(), "set the task") {
		t.Errorf("task inference: %v", err)
	}
	if _, err := LoadPrograms(td("generations_mbpp.json"), td("references_mbpp.json"), td("mbpp_problems.json"), Options{Task: "gsm8k"}); err == nil {
		t.Error("a non-code task accepted")
	}
}
