package questions

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/score"
)

func TestNamesMatchDataTasks(t *testing.T) {
	if len(Names) != len(data.Tasks) {
		t.Fatalf("%d names here, %d tasks in data.Tasks", len(Names), len(data.Tasks))
	}
	for i, task := range data.Tasks {
		if Names[i] != task.Name {
			t.Errorf("Names[%d] = %q, data.Tasks[%d].Name = %q", i, Names[i], i, task.Name)
		}
		got, err := Resolve(task.Name)
		if err != nil || got.Name != task.Name || got.Subtask != "" {
			t.Errorf("Resolve(%q) = %+v, %v", task.Name, got, err)
		}
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		in       string
		name     string
		subtask  string
		idPrefix string
	}{
		{"MMLU", MMLU, "", "MMLU"},
		{"mmlu", MMLU, "", "MMLU"},
		{"mmlu_abstract_algebra", MMLU, "abstract_algebra", "MMLU/abstract_algebra"},
		{"cmmlu_agronomy", CMMLU, "agronomy", "CMMLU/agronomy"},
		{"CMMLU", CMMLU, "", "CMMLU"},
		{"ceval-valid_computer_network", CEval, "computer_network", "C-EVAL/computer_network"},
		{"c-eval", CEval, "", "C-EVAL"},
		{"ceval", CEval, "", "C-EVAL"},
		{"arc_challenge", ARCC, "", "ARC-C"},
		{"ARC-C", ARCC, "", "ARC-C"},
		{"gsm8k", GSM8K, "", "GSM8K"},
		{"gsm8k_train", GSM8K, "train", "GSM8K/train"},
		{"minerva_math_prealgebra", PreAlgebra, "", "PreAlgebra"},
		{"hendrycks_math_prealgebra", PreAlgebra, "", "PreAlgebra"},
		{"minerva_math_algebra", PreAlgebra, "algebra", "PreAlgebra/algebra"},
		{"PreAlgebra", PreAlgebra, "", "PreAlgebra"},
		{"humaneval", HumanEval, "", "HumanEval"},
		{"HumanEval", HumanEval, "", "HumanEval"},
		{"mbpp", MBPP, "", "MBPP"},
		{" MBPP ", MBPP, "", "MBPP"},
	}
	for _, tt := range tests {
		got, err := Resolve(tt.in)
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.in, err)
			continue
		}
		if got.Name != tt.name || got.Subtask != tt.subtask || got.IDPrefix() != tt.idPrefix {
			t.Errorf("Resolve(%q) = %+v (prefix %q), want %s/%s (prefix %q)", tt.in, got, got.IDPrefix(), tt.name, tt.subtask, tt.idPrefix)
		}
	}
	for _, bad := range []string{"", "arc_easy", "hellaswag", "mmlu_", "math500"} {
		if _, err := Resolve(bad); err == nil {
			t.Errorf("Resolve(%q) succeeded, want an error", bad)
		}
	}
	if got := (Task{Name: MMLU, Subtask: "anatomy"}).ID(12); got != "MMLU/anatomy/12" {
		t.Errorf("ID = %q", got)
	}
}

func TestKind(t *testing.T) {
	want := map[string]score.Kind{
		MMLU: score.MultipleChoice, CMMLU: score.MultipleChoice, CEval: score.MultipleChoice, ARCC: score.MultipleChoice,
		GSM8K: score.Generate, PreAlgebra: score.Generate, HumanEval: score.Code, MBPP: score.Code,
	}
	for _, n := range Names {
		if got := (Task{Name: n}).Kind(); got != want[n] {
			t.Errorf("%s: kind %s, want %s", n, got, want[n])
		}
	}
}

// TestBuild builds every fixture row (testdata/*.jsonl, written from the
// datasets' schemas; the question texts are taken from the released files)
// and checks every field of the query.
func TestBuild(t *testing.T) {
	he0 := "from typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n" +
		"    \"\"\" Check if in given list of numbers, are any two numbers closer to each other than\n    given threshold.\n" +
		"    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)\n    False\n" +
		"    >>> has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)\n    True\n    \"\"\"\n"
	cmmluQ := "乙公司对甲公司发价的接受通知于8月5日从乙地发出，8月9日到达甲公司所在地，8月10日下午到达甲公司传达室，" +
		"8月11日上午甲公司经理阅及此通知。依《国际货物买卖合同公约》，乙公司接受的生效时间是"
	tests := []struct {
		file string
		task string
		want []score.Query
	}{
		{"mmlu.jsonl", "mmlu_high_school_psychology", []score.Query{{
			Question: "The field of psychology arose out of which of the following?\nA. Biochemistry\nB. Physics\nC. Philosophy\nD. Cross-cultural anthropology",
			Prompt: "The following are multiple choice questions (with answers) about high school psychology.\n\n" +
				"The field of psychology arose out of which of the following?\nA. Biochemistry\nB. Physics\nC. Philosophy\nD. Cross-cultural anthropology\nAnswer:",
			Options: []string{" A", " B", " C", " D"}, Target: 2,
		}, {
			// The released file keeps MMLU's leading space: no strip.
			Question: " One common objection to utilitarianism is that the principle of utility is\nA. too complicated.\nB. too demanding.\nC. too easy to satisfy.\nD. none of the above",
			Prompt: "The following are multiple choice questions (with answers) about moral disputes.\n\n" +
				"One common objection to utilitarianism is that the principle of utility is\nA. too complicated.\nB. too demanding.\nC. too easy to satisfy.\nD. none of the above\nAnswer:",
			Options: []string{" A", " B", " C", " D"}, Target: 1,
		}}},
		{"cmmlu.jsonl", "CMMLU", []score.Query{{
			// CMMLU's Question is stripped (RouterDC's notebook calls .strip()).
			Question: cmmluQ + "\nA. 10/08\nB. 11/08\nC. 05/08\nD. 09/08\n答案：",
			Prompt:   cmmluQ + "\nA. 10/08\nB. 11/08\nC. 05/08\nD. 09/08\n答案：",
			Options:  []string{" A", " B", " C", " D"}, Target: 0,
		}}},
		{"ceval.jsonl", "ceval-valid_computer_network", []score.Query{{
			// C-Eval: no newline before 答案： in the stored question.
			Question: "在802.3标准中，发送帧之前需要____\nA. 等待冲突\nB. 等待令牌\nC. 监听介质\nD. 接受一个帧答案：",
			Prompt:   "在802.3标准中，发送帧之前需要____\nA. 等待冲突\nB. 等待令牌\nC. 监听介质\nD. 接受一个帧\n答案：",
			Options:  []string{" A", " B", " C", " D"}, Target: 2,
		}}},
		{"arc.jsonl", "arc_challenge", []score.Query{{
			Question: "Question:Which is an example of condensation?\nAnswer:",
			Prompt:   "Question: Which is an example of condensation?\nAnswer:",
			Options:  []string{" ice melting in a glass", " water drops forming on a cold can", " a puddle drying in the sun", " steam rising from a pot"},
			Target:   1,
		}, {
			Question: "Question:Which tool measures mass?\nAnswer:",
			Prompt:   "Question: Which tool measures mass?\nAnswer:",
			Options:  []string{" a balance", " a ruler", " a thermometer"},
			Target:   0,
		}}},
		{"gsm8k.jsonl", "gsm8k", []score.Query{{
			Question: "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?",
			Prompt:   "Question: Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?\nAnswer:",
			Answer:   "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 every day at the farmer’s market.\n#### 18",
			Stop:     []string{"Question:", "</s>", "<|im_end|>"},
		}}},
		{"math.jsonl", "minerva_math_prealgebra", []score.Query{{
			Question: "What is the smallest multiple of $5$ which is greater than $-32$?",
			Prompt:   "Problem:\nWhat is the smallest multiple of $5$ which is greater than $-32$?\n\nSolution:",
			Answer:   "Dividing $-32$ by $5$ gives $-6$ with a remainder of $-2$, so $-6 \\cdot 5 = \\boxed{-30}$ is the answer.",
			Stop:     []string{"Problem:"},
		}}},
		{"humaneval.jsonl", "humaneval", []score.Query{{
			Question: he0,
			Prompt:   strings.TrimSpace(he0),
			Tests: "\n\n\nMETADATA = {}\n\n\ndef check(candidate):\n    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True\n" +
				"    assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.95) == False\n\ncheck(has_close_elements)",
			Stop: []string{"\nclass", "\ndef", "\n#", "\n@", "\nprint", "\nif", "\n```"},
		}}},
		{"mbpp.json", "MBPP", []score.Query{{
			Question: "\"\"\"\nWrite a python function to remove first and last occurrence of a given character from the string.\nassert remove_Occ(\"hello\",\"l\") == \"heo\"\n\"\"\"\n",
			Prompt:   "\"\"\"\nWrite a python function to remove first and last occurrence of a given character from the string.\nassert remove_Occ(\"hello\",\"l\") == \"heo\"\n\"\"\"\n",
			Tests:    "assert remove_Occ(\"hello\",\"l\") == \"heo\"\nassert remove_Occ(\"abcda\",\"a\") == \"bcd\"\nassert remove_Occ(\"PHP\",\"P\") == \"H\"",
			Stop:     []string{"\nclass", "\nassert", "\n\"\"\"", "\nprint", "\nif", "\n<|/", "\n```"},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			task, err := Resolve(tt.task)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadQueries(tt.task, filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d queries, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				w.ID = task.ID(i)
				w.Task = task.Name
				w.Kind = task.Kind()
				if !reflect.DeepEqual(got[i], w) {
					t.Errorf("query %d:\n got %#v\nwant %#v", i, got[i], w)
				}
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		task  string
		doc   map[string]any
		field string
		msg   string
	}{
		{"MMLU", map[string]any{"choices": []any{"a", "b"}, "answer": 0.0}, "question", "missing"},
		{"MMLU", map[string]any{"question": 3.0, "choices": []any{"a", "b"}, "answer": 0.0}, "question", "is a number"},
		{"MMLU", map[string]any{"question": "q", "answer": 0.0}, "choices", "missing"},
		{"MMLU", map[string]any{"question": "q", "choices": []any{"a", 2.0}, "answer": 0.0}, "choices[1]", "want a string"},
		{"MMLU", map[string]any{"question": "q", "choices": []any{"a"}, "answer": 0.0}, "choices", "1 choices"},
		{"MMLU", map[string]any{"question": "q", "choices": []any{"a", "b"}}, "answer", "missing"},
		{"MMLU", map[string]any{"question": "q", "choices": []any{"a", "b"}, "answer": 2.0}, "answer", "out of range"},
		{"MMLU", map[string]any{"question": "q", "choices": []any{"a", "b"}, "answer": 0.5}, "answer", "not an integer"},
		{"MMLU", map[string]any{"question": "q", "choices": []any{"a", "b"}, "answer": "maybe"}, "answer", "neither"},
		{"CMMLU", map[string]any{"Question": "q", "A": "a", "B": "b", "C": "c", "Answer": "A"}, "D", "missing"},
		{"CMMLU", map[string]any{"question": "q", "A": "a", "B": "b", "C": "c", "D": "d", "Answer": "A"}, "Question", "missing"},
		{"C-EVAL", map[string]any{"question": "q", "A": "a", "B": "b", "C": "c", "D": "d", "answer": "E"}, "answer", "out of range"},
		{"ARC-C", map[string]any{"question": "q", "answerKey": "A"}, "choices", "missing"},
		{"ARC-C", map[string]any{"question": "q", "choices": map[string]any{"text": []any{"x", "y"}}, "answerKey": "A"}, "choices.label", "missing"},
		{"ARC-C", map[string]any{"question": "q", "choices": map[string]any{"text": []any{"x", "y"}, "label": []any{"A", "B"}}, "answerKey": "C"}, "answerKey", "not one of the labels"},
		{"GSM8K", map[string]any{"question": "q"}, "answer", "missing"},
		{"PreAlgebra", map[string]any{"problem": "p"}, "solution", "missing"},
		{"HumanEval", map[string]any{"prompt": "p", "test": "t"}, "entry_point", "missing"},
		{"MBPP", map[string]any{"text": "t", "test_list": []any{}}, "test_list", "empty"},
		{"MBPP", map[string]any{"text": "t", "test_list": "assert f()"}, "test_list", "want a list"},
	}
	for _, tt := range tests {
		_, err := Build(tt.task, tt.doc)
		var se *score.Error
		if !errors.As(err, &se) {
			t.Errorf("%s %v: err %v, want a *score.Error", tt.task, tt.doc, err)
			continue
		}
		if se.Field != tt.field || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("%s %v: field %q msg %q, want field %q msg containing %q", tt.task, tt.doc, se.Field, se.Msg, tt.field, tt.msg)
		}
	}
	if _, err := Build("hellaswag", map[string]any{}); err == nil {
		t.Error("Build of an unknown task succeeded")
	}
	if _, err := Build("MMLU", nil); err == nil {
		t.Error("Build of a nil row succeeded")
	}
}

func TestChoiceIndex(t *testing.T) {
	tests := []struct {
		v    any
		want int
	}{{1.0, 1}, {3, 3}, {int64(0), 0}, {"2", 2}, {" 1 ", 1}, {"B", 1}, {"D", 3}}
	for _, tt := range tests {
		got, err := ChoiceIndex(tt.v, 4)
		if err != nil || got != tt.want {
			t.Errorf("ChoiceIndex(%#v) = %d, %v; want %d", tt.v, got, err, tt.want)
		}
	}
	for _, bad := range []any{-1.0, 4.0, "E", "b", "", true, nil, []any{1.0}} {
		if got, err := ChoiceIndex(bad, 4); err == nil {
			t.Errorf("ChoiceIndex(%#v) = %d, want an error", bad, got)
		}
	}
}

func TestReadRowsLayouts(t *testing.T) {
	// The same row, as JSON lines and as a JSON array.
	lines, err := ReadRows(filepath.Join("testdata", "mmlu.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	array, err := DecodeRows("array.json", []byte(`[{"question": "The field of psychology arose out of which of the following?",
		"subject": "high_school_psychology", "choices": ["Biochemistry", "Physics", "Philosophy", "Cross-cultural anthropology"], "answer": 2}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || len(array) != 1 || !reflect.DeepEqual(lines[0], array[0]) {
		t.Errorf("JSON lines row %v and array row %v differ", lines[0], array[0])
	}
}

func TestReadRowsErrors(t *testing.T) {
	tests := []struct {
		file   string
		record string
		msg    string
	}{
		{"bad_truncated.jsonl", "line 3", "truncated"},
		{"bad_truncated_array.json", "record 1", "truncated"},
		{"bad_unclosed_array.json", "record 1", "not closed"},
		{"bad_malformed.jsonl", "line 3", "malformed"},
		{"bad_notobject.json", "record 1", "want a JSON object"},
		{"bad_empty.jsonl", "", "empty file"},
	}
	for _, tt := range tests {
		path := filepath.Join("testdata", tt.file)
		_, err := ReadRows(path)
		var se *score.Error
		if !errors.As(err, &se) {
			t.Errorf("%s: err %v, want a *score.Error", tt.file, err)
			continue
		}
		if se.File != path || se.Record != tt.record || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("%s: got %q, want record %q and a message containing %q", tt.file, err, tt.record, tt.msg)
		}
	}
}

func TestReadQueriesErrors(t *testing.T) {
	tests := []struct {
		file, record, field string
	}{
		// The blank line 2 counts: line numbers are the file's.
		{"mmlu_missing_choices.jsonl", "line 3", "choices"},
		{"mmlu_bad_choice.json", "record 1", "choices[1]"},
	}
	for _, tt := range tests {
		path := filepath.Join("testdata", tt.file)
		_, err := ReadQueries("MMLU", path)
		var se *score.Error
		if !errors.As(err, &se) {
			t.Errorf("%s: err %v, want a *score.Error", tt.file, err)
			continue
		}
		if se.File != path || se.Record != tt.record || se.Field != tt.field {
			t.Errorf("%s: got %q, want %s, %s, field %s", tt.file, err, path, tt.record, tt.field)
		}
	}
}
