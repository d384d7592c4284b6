package questions

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/routerdc-go/routerdc/pipeline/score"
)

// Build turns one raw row of task into a score.Query. Question is the text
// stored in RouterDC datasets; Prompt is a zero-shot prompt in the style of
// the harness that scored the task (lm-eval for the multiple-choice tasks,
// GSM8K and MATH; bigcode for HumanEval and MBPP).
//
// Query.Task is the table name; Query.ID is left empty because a row does not
// know its position: callers set it (Task.ID, ReadQueries).
//
// Accepted row fields:
//
//	MMLU        question, choices []string, answer (index, digit or letter)
//	CMMLU       Question, A, B, C, D, Answer (letter)
//	C-EVAL      question, A, B, C, D, answer (letter)
//	ARC-C       question, choices {text, label}, answerKey
//	GSM8K       question, answer (full solution ending "#### N")
//	PreAlgebra  problem, solution (with \boxed{...})
//	HumanEval   prompt, test, entry_point
//	MBPP        text, test_list
//
// A missing or mistyped field is a *score.Error naming the field; its File
// says "<task> row" and Record is empty, for the caller to replace with the
// file and record it read the row from.
func Build(task string, doc map[string]any) (score.Query, error) {
	t, err := Resolve(task)
	if err != nil {
		return score.Query{}, err
	}
	if doc == nil {
		return score.Query{}, &score.Error{File: t.Name + " row", Msg: "no row (null)"}
	}
	r := row{task: t.Name, doc: doc}
	var q score.Query
	switch t.Name {
	case MMLU:
		q = r.mmlu()
	case CMMLU:
		q = r.chinese("Question", "Answer", true, "\n答案：")
	case CEval:
		q = r.chinese("question", "answer", false, "答案：")
	case ARCC:
		q = r.arc()
	case GSM8K:
		q = r.gsm8k()
	case PreAlgebra:
		q = r.math()
	case HumanEval:
		q = r.humaneval()
	case MBPP:
		q = r.mbpp()
	}
	if r.err != nil {
		return score.Query{}, r.err
	}
	q.Task = t.Name
	q.Kind = t.Kind()
	return q, nil
}

// letterOptions are the continuations lm-eval scores for letter-choice tasks
// (target_delimiter " " + choice letter).
func letterOptions(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = " " + string(rune('A'+i))
	}
	return out
}

// optionLines is "\nA. x\nB. y..." as every multiple-choice format writes it.
func optionLines(choices []string) string {
	var b strings.Builder
	for i, c := range choices {
		fmt.Fprintf(&b, "\n%c. %s", 'A'+i, c)
	}
	return b.String()
}

func (r *row) mmlu() score.Query {
	question := r.str("question")
	choices := r.strs("choices")
	if r.err == nil && (len(choices) < 2 || len(choices) > 26) {
		r.fail("choices", fmt.Sprintf("%d choices, want 2 to 26", len(choices)))
	}
	target := r.choiceIndex("answer", len(choices))
	if r.err != nil {
		return score.Query{}
	}
	// lm-eval's mmlu template: an optional subject line, the stripped
	// question, the options, "Answer:".
	var prompt strings.Builder
	if subject, ok := r.doc["subject"].(string); ok && subject != "" {
		fmt.Fprintf(&prompt, "The following are multiple choice questions (with answers) about %s.\n\n",
			strings.ReplaceAll(subject, "_", " "))
	}
	prompt.WriteString(strings.TrimSpace(question) + optionLines(choices) + "\nAnswer:")
	return score.Query{
		Question: question + optionLines(choices),
		Prompt:   prompt.String(),
		Options:  letterOptions(len(choices)),
		Target:   target,
	}
}

// chinese builds CMMLU and C-Eval, which share the A/B/C/D columns but not
// the question's field name, its stripping or the newline before 答案：.
func (r *row) chinese(qField, aField string, strip bool, suffix string) score.Query {
	question := r.str(qField)
	choices := []string{r.str("A"), r.str("B"), r.str("C"), r.str("D")}
	target := r.choiceIndex(aField, 4)
	if r.err != nil {
		return score.Query{}
	}
	if strip {
		question = strings.TrimSpace(question)
	}
	return score.Query{
		Question: question + optionLines(choices) + suffix,
		// lm-eval's cmmlu and ceval-valid templates both strip the question
		// and put 答案： on its own line.
		Prompt:  strings.TrimSpace(question) + optionLines(choices) + "\n答案：",
		Options: letterOptions(4),
		Target:  target,
	}
}

func (r *row) arc() score.Query {
	question := r.str("question")
	choices, ok := r.doc["choices"].(map[string]any)
	if r.err == nil && !ok {
		r.fail("choices", describeMissing(r.doc, "choices", "an object {text, label}"))
	}
	if r.err != nil {
		return score.Query{}
	}
	sub := row{task: r.task, doc: choices}
	texts := sub.strs("text")
	labels := sub.strs("label")
	if sub.err != nil {
		sub.err.Field = "choices." + sub.err.Field
		r.err = sub.err
		return score.Query{}
	}
	if len(texts) != len(labels) || len(texts) < 2 {
		r.fail("choices", fmt.Sprintf("%d texts and %d labels, want the same number, at least 2", len(texts), len(labels)))
		return score.Query{}
	}
	key := r.str("answerKey")
	if r.err != nil {
		return score.Query{}
	}
	target := -1
	for i, l := range labels {
		if l == key {
			target = i
			break
		}
	}
	if target < 0 {
		r.fail("answerKey", fmt.Sprintf("%q is not one of the labels %q", key, labels))
		return score.Query{}
	}
	options := make([]string, len(texts))
	for i, t := range texts {
		options[i] = " " + t
	}
	return score.Query{
		Question: "Question:" + question + "\nAnswer:",
		Prompt:   "Question: " + question + "\nAnswer:",
		Options:  options,
		Target:   target,
	}
}

func (r *row) gsm8k() score.Query {
	question := r.str("question")
	answer := r.str("answer")
	return score.Query{
		Question: question,
		Prompt:   "Question: " + question + "\nAnswer:",
		Answer:   answer,
		Stop:     []string{"Question:", "</s>", "<|im_end|>"},
	}
}

func (r *row) math() score.Query {
	problem := r.str("problem")
	solution := r.str("solution")
	return score.Query{
		Question: problem,
		// minerva_math's prompt without its four worked examples.
		Prompt: "Problem:\n" + problem + "\n\nSolution:",
		Answer: solution,
		Stop:   []string{"Problem:"},
	}
}

func (r *row) humaneval() score.Query {
	prompt := r.str("prompt")
	test := r.str("test")
	entry := r.str("entry_point")
	return score.Query{
		Question: prompt,
		// bigcode's humaneval task strips the prompt (strip_prompt=True).
		Prompt: strings.TrimSpace(prompt),
		Tests:  "\n" + test + "\ncheck(" + entry + ")",
		Stop:   []string{"\nclass", "\ndef", "\n#", "\n@", "\nprint", "\nif", "\n```"},
	}
}

func (r *row) mbpp() score.Query {
	text := r.str("text")
	tests := r.strs("test_list")
	if r.err == nil && len(tests) == 0 {
		r.fail("test_list", "empty")
	}
	if r.err != nil {
		return score.Query{}
	}
	q := "\"\"\"\n" + text + "\n" + tests[0] + "\n\"\"\"\n"
	return score.Query{
		Question: q,
		Prompt:   q,
		Tests:    strings.Join(tests, "\n"),
		Stop:     []string{"\nclass", "\nassert", "\n\"\"\"", "\nprint", "\nif", "\n<|/", "\n```"},
	}
}

// row reads typed fields from a raw row, keeping the first error so that the
// builders read straight through and check once.
type row struct {
	task string
	doc  map[string]any
	err  *score.Error
}

func (r *row) fail(field, msg string) {
	if r.err == nil {
		r.err = &score.Error{File: r.task + " row", Field: field, Msg: msg}
	}
}

func (r *row) str(field string) string {
	v, ok := r.doc[field].(string)
	if !ok {
		r.fail(field, describeMissing(r.doc, field, "a string"))
	}
	return v
}

func (r *row) strs(field string) []string {
	list, ok := r.doc[field].([]any)
	if !ok {
		if s, ok := r.doc[field].([]string); ok {
			return s
		}
		r.fail(field, describeMissing(r.doc, field, "a list of strings"))
		return nil
	}
	out := make([]string, len(list))
	for i, v := range list {
		s, ok := v.(string)
		if !ok {
			r.fail(fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("is %s, want a string", typeName(v)))
			return nil
		}
		out[i] = s
	}
	return out
}

// choiceIndex reads a gold option as an index (number or digit string) or a
// letter ("B"), checked against n options.
func (r *row) choiceIndex(field string, n int) int {
	v, present := r.doc[field]
	if !present || v == nil {
		r.fail(field, "missing")
		return -1
	}
	i, err := ChoiceIndex(v, n)
	if err != nil {
		r.fail(field, err.Error())
		return -1
	}
	return i
}

// ChoiceIndex reads a gold option given as an integer (a JSON number, a Go
// integer, or a digit string such as lm-eval's stringified "1") or as a
// capital letter ("B"), and checks it against n options.
func ChoiceIndex(v any, n int) (int, error) {
	i := -1
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) {
			return -1, fmt.Errorf("%v is not an integer", x)
		}
		i = int(x)
	case int:
		i = x
	case int64:
		i = int(x)
	case json.Number:
		n, err := strconv.Atoi(string(x))
		if err != nil {
			return -1, fmt.Errorf("%s is not an integer", x)
		}
		i = n
	case string:
		s := strings.TrimSpace(x)
		if n, err := strconv.Atoi(s); err == nil {
			i = n
		} else if len(s) == 1 && s[0] >= 'A' && s[0] <= 'Z' {
			i = int(s[0] - 'A')
		} else {
			return -1, fmt.Errorf("%q is neither an option index nor a letter", x)
		}
	default:
		return -1, fmt.Errorf("is %s, want an option index or letter", typeName(v))
	}
	if i < 0 || i >= n {
		return -1, fmt.Errorf("option %d is out of range for %d options", i, n)
	}
	return i, nil
}

func describeMissing(doc map[string]any, field, want string) string {
	v, ok := doc[field]
	if !ok || v == nil {
		return "missing"
	}
	return fmt.Sprintf("is %s, want %s", typeName(v), want)
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64, int, int64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}
