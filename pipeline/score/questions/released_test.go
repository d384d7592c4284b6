package questions

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
)

// releasedQuestions reads the "question" fields of a released file.
func releasedQuestions(t *testing.T, dir, file string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "split2_model7", file))
	if err != nil {
		t.Fatal(err)
	}
	var recs []struct {
		Question string `json:"question"`
	}
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Question
	}
	return out
}

// splitOptions undoes "<stem>\nA. a\nB. b\nC. c\nD. d": it looks for the
// option markers from the back, so that a stem may contain anything.
func splitOptions(s string) (stem string, options []string, ok bool) {
	rest := s
	var rev []string
	for _, letter := range []string{"D", "C", "B", "A"} {
		i := strings.LastIndex(rest, "\n"+letter+". ")
		if i < 0 {
			return "", nil, false
		}
		rev = append(rev, rest[i+len("\nA. "):])
		rest = rest[:i]
	}
	for i := len(rev) - 1; i >= 0; i-- {
		options = append(options, rev[i])
	}
	return rest, options, true
}

// TestReleasedFormats rebuilds every released question from a row made of
// its parts and requires the exact stored string back: this pins the
// separators, the suffixes and what is (not) stripped, for every record of
// every file. Skipped when the released data is not set up.
func TestReleasedFormats(t *testing.T) {
	dir := datatest.RequireDir(t)
	toRow := map[string]func(q string) (map[string]any, bool){
		MMLU: func(q string) (map[string]any, bool) {
			stem, opts, ok := splitOptions(q)
			return map[string]any{"question": stem, "choices": anys(opts), "answer": 0.0}, ok
		},
		CMMLU: func(q string) (map[string]any, bool) {
			body, found := strings.CutSuffix(q, "\n答案：")
			stem, opts, ok := splitOptions(body)
			if !found || !ok {
				return nil, false
			}
			return map[string]any{"Question": stem, "A": opts[0], "B": opts[1], "C": opts[2], "D": opts[3], "Answer": "A"}, true
		},
		CEval: func(q string) (map[string]any, bool) {
			body, found := strings.CutSuffix(q, "答案：")
			stem, opts, ok := splitOptions(body)
			if !found || !ok {
				return nil, false
			}
			return map[string]any{"question": stem, "A": opts[0], "B": opts[1], "C": opts[2], "D": opts[3], "answer": "A"}, true
		},
		ARCC: func(q string) (map[string]any, bool) {
			body, found := strings.CutPrefix(q, "Question:")
			stem, found2 := strings.CutSuffix(body, "\nAnswer:")
			return map[string]any{"question": stem, "answerKey": "A",
				"choices": map[string]any{"text": []any{"x", "y"}, "label": []any{"A", "B"}}}, found && found2
		},
		GSM8K: func(q string) (map[string]any, bool) {
			return map[string]any{"question": q, "answer": "#### 0"}, true
		},
		PreAlgebra: func(q string) (map[string]any, bool) {
			return map[string]any{"problem": q, "solution": `\boxed{0}`}, true
		},
		HumanEval: func(q string) (map[string]any, bool) {
			return map[string]any{"prompt": q, "test": "", "entry_point": "f"}, true
		},
		MBPP: func(q string) (map[string]any, bool) {
			body, found := strings.CutPrefix(q, "\"\"\"\n")
			body, found2 := strings.CutSuffix(body, "\n\"\"\"\n")
			i := strings.LastIndex(body, "\nassert")
			if !found || !found2 || i < 0 {
				return nil, false
			}
			return map[string]any{"text": body[:i], "test_list": []any{body[i+1:]}}, true
		},
	}
	for _, task := range data.Tasks {
		files := []string{task.Test}
		if task.Train != "" {
			files = append(files, task.Train)
		}
		for _, f := range files {
			name := strings.TrimPrefix(f, "split2_model7/")
			t.Run(name, func(t *testing.T) {
				qs := releasedQuestions(t, dir, name)
				for i, q := range qs {
					row, ok := toRow[task.Name](q)
					if !ok {
						t.Errorf("%s record %d does not have %s's format: %q", name, i, task.Name, q)
						continue
					}
					got, err := Build(task.Name, row)
					if err != nil {
						t.Fatalf("%s record %d: %v", name, i, err)
					}
					if got.Question != q {
						t.Errorf("%s record %d:\n built %q\nstored %q", name, i, got.Question, q)
					}
				}
			})
		}
	}
}

// TestReleasedKnownRows checks that rows written here from the datasets'
// schemas (HumanEval/0, MBPP task 11, the first GSM8K test question, the
// released first C-Eval/CMMLU/ARC/MMLU/MATH questions) produce questions that
// are in the released files, byte for byte.
func TestReleasedKnownRows(t *testing.T) {
	dir := datatest.RequireDir(t)
	tests := []struct {
		fixture, task string
		files         []string
	}{
		{"humaneval.jsonl", "HumanEval", []string{"humaneval_train.json", "humaneval_test.json"}},
		{"mbpp.json", "MBPP", []string{"mbpp.json"}},
		{"gsm8k.jsonl", "GSM8K", []string{"gsm8k-test.json"}},
		{"math.jsonl", "PreAlgebra", []string{"MATH_prealgebra.json"}},
		{"mmlu.jsonl", "MMLU", []string{"mmlu_train.json", "mmlu_test.json"}},
		{"cmmlu.jsonl", "CMMLU", []string{"cmmlu_train.json", "cmmlu_test.json"}},
		{"ceval.jsonl", "C-EVAL", []string{"ceval.json"}},
	}
	for _, tt := range tests {
		stored := map[string]bool{}
		for _, f := range tt.files {
			for _, q := range releasedQuestions(t, dir, f) {
				stored[q] = true
			}
		}
		qs, err := ReadQueries(tt.task, filepath.Join("testdata", tt.fixture))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			if !stored[q.Question] {
				t.Errorf("%s: %q is not in %v", tt.fixture, q.Question, tt.files)
			}
		}
	}
	// The first ARC fixture row; the second is made up (labels "1".."3").
	qs, err := ReadQueries("ARC-C", filepath.Join("testdata", "arc.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, q := range releasedQuestions(t, dir, "arc_challenge_test.json") {
		found = found || q == qs[0].Question
	}
	if !found {
		t.Errorf("%q is not in arc_challenge_test.json", qs[0].Question)
	}
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
