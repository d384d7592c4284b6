// Package questions builds, from a benchmark's raw row (a Hugging Face
// dataset row, or the `doc` of an lm-evaluation-harness log), the question
// text exactly as the released RouterDC datasets store it, plus a score.Query
// with what is needed to ask an LLM and check its answer.
//
// The stored formats come from RouterDC's conversion notebook
// (convert_dataset_7_model.ipynb) and are checked against the released files
// by the tests:
//
//	MMLU       question + "\nA. " + choices[0] + "\nB. " + ...   (question not stripped)
//	CMMLU      strip(Question) + "\nA. " + A + ... + "\nD. " + D + "\n答案："
//	C-EVAL     question + "\nA. " + A + ... + "\nD. " + D + "答案："  (no newline, not stripped)
//	ARC-C      "Question:" + question + "\nAnswer:"                 (no space after the colon)
//	GSM8K      question
//	PreAlgebra problem
//	HumanEval  prompt
//	MBPP       "\"\"\"\n" + text + "\n" + test_list[0] + "\n\"\"\"\n"
package questions

import (
	"fmt"
	"strings"

	"github.com/routerdc-go/routerdc/pipeline/score"
)

// The task names of the paper's tables, spelled as in pipeline/data's
// data.Tasks (a test keeps the two in step).
const (
	MMLU       = "MMLU"
	GSM8K      = "GSM8K"
	CMMLU      = "CMMLU"
	ARCC       = "ARC-C"
	HumanEval  = "HumanEval"
	PreAlgebra = "PreAlgebra"
	MBPP       = "MBPP"
	CEval      = "C-EVAL"
)

// Names lists the task names in the tables' column order.
var Names = []string{MMLU, GSM8K, CMMLU, ARCC, HumanEval, PreAlgebra, MBPP, CEval}

// Task is a resolved task name: the table name plus, for an lm-eval subtask
// such as mmlu_anatomy, the subtask ("anatomy"). Subtasks matter for ids:
// lm-eval numbers documents from 0 in every subtask, so "MMLU/0" alone would
// name 57 different questions.
type Task struct {
	Name    string
	Subtask string
}

// IDPrefix is what record ids start with: "MMLU/anatomy" or "GSM8K".
func (t Task) IDPrefix() string {
	if t.Subtask == "" {
		return t.Name
	}
	return t.Name + "/" + t.Subtask
}

// ID is the record id of document docID of this task: "<IDPrefix>/<docID>".
func (t Task) ID(docID int) string { return fmt.Sprintf("%s/%d", t.IDPrefix(), docID) }

// Kind says how the task's queries are scored.
func (t Task) Kind() score.Kind {
	switch t.Name {
	case GSM8K, PreAlgebra:
		return score.Generate
	case HumanEval, MBPP:
		return score.Code
	}
	return score.MultipleChoice
}

// aliases maps whole lower-case names (table names, lm-eval and bigcode task
// names) to table names.
var aliases = map[string]string{
	"mmlu":             MMLU,
	"gsm8k":            GSM8K,
	"cmmlu":            CMMLU,
	"arc-c":            ARCC,
	"arc_c":            ARCC,
	"arc_challenge":    ARCC,
	"arc-challenge":    ARCC,
	"humaneval":        HumanEval,
	"openai_humaneval": HumanEval,
	"prealgebra":       PreAlgebra,
	"math":             PreAlgebra,
	"minerva_math":     PreAlgebra,
	"hendrycks_math":   PreAlgebra,
	"mbpp":             MBPP,
	"c-eval":           CEval,
	"ceval":            CEval,
	"ceval-valid":      CEval,
}

// prefixes maps lm-eval subtask name prefixes to table names; the rest of the
// name is the subtask. Longer prefixes come first so that "cmmlu_" is not
// read as "c" + "mmlu_".
var prefixes = []struct{ prefix, name string }{
	{"minerva_math_", PreAlgebra},
	{"hendrycks_math_", PreAlgebra},
	{"ceval-valid_", CEval},
	{"cmmlu_", CMMLU},
	{"mmlu_", MMLU},
	{"gsm8k_", GSM8K},
	{"gsm8k-", GSM8K},
}

// Resolve maps a task name to its table name, ignoring case: the table names
// (MMLU, GSM8K, CMMLU, ARC-C, HumanEval, PreAlgebra, MBPP, C-EVAL), lm-eval
// names (mmlu_<subject>, cmmlu_<subject>, ceval-valid_<subject>,
// arc_challenge, gsm8k, gsm8k_<variant>, minerva_math_<subject>,
// hendrycks_math_<subject>, humaneval, mbpp) and bigcode names (humaneval,
// mbpp). Every MATH subject maps to PreAlgebra, the only MATH column of the
// tables; subjects other than prealgebra keep their subject as Subtask so
// that their ids stay apart.
func Resolve(name string) (Task, error) {
	low := strings.ToLower(strings.TrimSpace(name))
	if n, ok := aliases[low]; ok {
		return Task{Name: n}, nil
	}
	for _, p := range prefixes {
		if sub, ok := strings.CutPrefix(low, p.prefix); ok && sub != "" {
			if p.name == PreAlgebra && sub == "prealgebra" {
				sub = ""
			}
			return Task{Name: p.name, Subtask: sub}, nil
		}
	}
	return Task{}, fmt.Errorf("unknown task %q (known: %s, or lm-eval names such as mmlu_<subject>, "+
		"cmmlu_<subject>, ceval-valid_<subject>, arc_challenge, gsm8k, minerva_math_prealgebra, humaneval, mbpp)",
		name, strings.Join(Names, ", "))
}
