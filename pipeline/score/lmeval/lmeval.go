// Package lmeval imports EleutherAI lm-evaluation-harness `--log_samples`
// output as per-query scores: RouterDC's softmax score for multiple-choice
// tasks (MMLU, CMMLU, C-Eval, ARC-C) and the mean answer check over the K
// sampled generations for GSM8K and MATH.
package lmeval

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/routerdc-go/routerdc/pipeline/score"
	"github.com/routerdc-go/routerdc/pipeline/score/answer"
	"github.com/routerdc-go/routerdc/pipeline/score/questions"
)

// Options say how to read a log.
type Options struct {
	// Task is the task's table name or lm-eval name (mmlu_anatomy, gsm8k,
	// ...; see questions.Resolve). A subtask name keeps ids apart: lm-eval
	// numbers documents from 0 in every subtask. Empty: inferred from the
	// file name (InferTask).
	Task string
	// LLM is written into every record.
	LLM string
	// Mode is the answer checking of generated answers (GSM8K, MATH);
	// empty is answer.Normalized.
	Mode answer.Mode
}

// Import reads one --log_samples file (either layout) and scores every
// document. Records come in file order with id "<task>/<doc_id>"
// (questions.Task.ID), the question text as RouterDC stores it, and the
// score. Any problem is a *score.Error naming the file, the record ("line N"
// or "record N") and the field.
func Import(path string, opts Options) ([]score.Record, error) {
	samples, err := ReadSamples(path)
	if err != nil {
		return nil, err
	}
	return Score(path, samples, opts)
}

// ImportFiles imports several files (e.g. the 57 MMLU subjects of one LLM)
// and concatenates the records, refusing an id seen twice. With several
// files and a task without subtask ("MMLU"), each file's subtask comes from
// its name (InferTask: samples_mmlu_anatomy_<date>.jsonl), because lm-eval
// numbers documents from 0 in every subtask.
func ImportFiles(paths []string, opts Options) ([]score.Record, error) {
	var out []score.Record
	seen := map[string]string{}
	umbrella, err := questions.Resolve(opts.Task)
	perFile := len(paths) > 1 && opts.Task != "" && err == nil && umbrella.Subtask == ""
	for _, p := range paths {
		o := opts
		if perFile {
			if name, err := InferTask(p); err == nil {
				if t, _ := questions.Resolve(name); t.Name == umbrella.Name && t.Subtask != "" {
					o.Task = name
				}
			}
		}
		recs, err := Import(p, o)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if first, dup := seen[r.ID]; dup {
				return nil, &score.Error{File: p, Msg: fmt.Sprintf("id %s is also in %s: pass each subtask's file once, "+
					"with its own task name", r.ID, first)}
			}
			seen[r.ID] = p
		}
		out = append(out, recs...)
	}
	return out, nil
}

var (
	// v0.4.3+: samples_<task>_<ISO date with - for :>.jsonl
	samplesName = regexp.MustCompile(`^samples_(.+)_\d{4}-\d{2}-\d{2}T[0-9.\-]+\.jsonl$`)
)

// InferTask finds the lm-eval task name in a log's file name:
// "samples_<task>_<date>.jsonl" (v0.4.3+) or "<model args>_<task>.jsonl"
// (v0.4.0-0.4.2), where the task is the shortest "_"-separated suffix that
// questions.Resolve knows (shortest, so that a model name such as
// "gsm8k-tuned" before the task is not read as part of it).
func InferTask(path string) (string, error) {
	base := filepath.Base(path)
	if m := samplesName.FindStringSubmatch(base); m != nil {
		if _, err := questions.Resolve(m[1]); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		return m[1], nil
	}
	stem := strings.TrimSuffix(strings.TrimSuffix(base, ".jsonl"), ".json")
	parts := strings.Split(stem, "_")
	for i := len(parts) - 1; i >= 0; i-- {
		cand := strings.Join(parts[i:], "_")
		if _, err := questions.Resolve(cand); err == nil {
			return cand, nil
		}
	}
	return "", fmt.Errorf("%s: no known task name at the end of the file name: set the task", path)
}

// Score scores samples read from file name (used in errors).
func Score(name string, samples []Sample, opts Options) ([]score.Record, error) {
	taskName := opts.Task
	if taskName == "" {
		var err error
		if taskName, err = InferTask(name); err != nil {
			return nil, err
		}
	}
	task, err := questions.Resolve(taskName)
	if err != nil {
		return nil, err
	}
	var check answer.Checker
	switch task.Kind() {
	case score.Generate:
		if check, err = answer.For(task.Name, opts.Mode); err != nil {
			return nil, err
		}
	case score.Code:
		return nil, fmt.Errorf("%s: %s is a code task: lm-eval logs hold no test results; "+
			"import bigcode-evaluation-harness results (package bigcode) or execute the programs", name, task.Name)
	}

	out := make([]score.Record, 0, len(samples))
	for _, s := range samples {
		q, err := questions.Build(taskName, s.Doc)
		if err != nil {
			var se *score.Error
			if errors.As(err, &se) {
				return nil, &score.Error{File: name, Record: s.At, Field: "doc." + se.Field, Msg: se.Msg}
			}
			return nil, err
		}
		var v float64
		var serr *score.Error
		if task.Kind() == score.MultipleChoice {
			v, serr = multipleChoice(s, q)
		} else {
			v, serr = generated(s, q, task.Name, check)
		}
		if serr != nil {
			serr.File, serr.Record = name, s.At
			return nil, serr
		}
		out = append(out, score.Record{ID: task.ID(s.DocID), Question: q.Question, Score: v, LLM: opts.LLM, Task: task.Name})
	}
	return out, nil
}

// multipleChoice is RouterDC's score: softmax over the options'
// loglikelihoods resps[i][0][0], taken at the target when it is the argmax.
func multipleChoice(s Sample, q score.Query) (float64, *score.Error) {
	n := len(s.Arguments)
	if len(s.Resps) != n {
		return 0, &score.Error{Field: "resps", Msg: fmt.Sprintf("%d responses for %d requests in arguments", len(s.Resps), n)}
	}
	if n != len(q.Options) {
		return 0, &score.Error{Field: "resps", Msg: fmt.Sprintf("%d loglikelihood requests, but the doc has %d options", n, len(q.Options))}
	}
	ll := make([]float64, n)
	for i, r := range s.Resps {
		if len(r) == 0 {
			return 0, &score.Error{Field: fmt.Sprintf("resps[%d]", i), Msg: "no response"}
		}
		pair, ok := r[0].([]any)
		if !ok || len(pair) == 0 {
			return 0, &score.Error{Field: fmt.Sprintf("resps[%d][0]", i), Msg: "not a [loglikelihood, is_greedy] pair"}
		}
		x, err := number(pair[0])
		if err == nil && (math.IsNaN(x) || math.IsInf(x, 1)) {
			err = fmt.Errorf("%v loglikelihood", x)
		}
		if err != nil {
			return 0, &score.Error{Field: fmt.Sprintf("resps[%d][0][0]", i), Msg: err.Error()}
		}
		ll[i] = x
	}
	target, err := mcTarget(s.Target, s.Arguments, n)
	if err != nil {
		return 0, &score.Error{Field: "target", Msg: err.Error()}
	}
	v := answer.MCScore(ll, target)
	if math.IsNaN(v) {
		return 0, &score.Error{Field: "resps", Msg: "every option's loglikelihood is -Inf"}
	}
	return v, nil
}

// number reads a loglikelihood: a JSON number (v0.4.0-0.4.2) or its Python
// str() (v0.4.3+: "-0.25", "-inf", "nan").
func number(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("%v is not a number", v)
}

// mcTarget reads the gold option: an index (number, or the digit string
// lm-eval writes from v0.4.4 on), a letter, or, for tasks whose target is
// the gold text, the option whose continuation is that text (with or
// without the leading target delimiter). Digit strings are read as indices
// first.
func mcTarget(t any, args [][]any, n int) (int, error) {
	switch x := t.(type) {
	case float64:
		return questions.ChoiceIndex(x, n)
	case string:
		i, indexErr := questions.ChoiceIndex(x, n)
		if indexErr == nil {
			return i, nil
		}
		found := -1
		for i, a := range args {
			if len(a) < 2 {
				continue
			}
			cont, ok := a[1].(string)
			if !ok || (cont != x && strings.TrimSpace(cont) != strings.TrimSpace(x)) {
				continue
			}
			if found >= 0 {
				return -1, fmt.Errorf("%q matches options %d and %d", x, found, i)
			}
			found = i
		}
		if found < 0 {
			return -1, fmt.Errorf("%v; nor is it one of the continuations", indexErr)
		}
		return found, nil
	case []any:
		return -1, errors.New("a list of gold options is not supported")
	}
	return -1, fmt.Errorf("%v is not an option index", t)
}

// generated scores the K generations of the one generate_until request: the
// mean of the per-sample checks (lm-eval's own metric scores only the
// first).
func generated(s Sample, q score.Query, task string, check answer.Checker) (float64, *score.Error) {
	if len(s.Resps) != 1 {
		return 0, &score.Error{Field: "resps", Msg: fmt.Sprintf("%d requests, want the one generate_until request", len(s.Resps))}
	}
	gens := make([]string, len(s.Resps[0]))
	for j, g := range s.Resps[0] {
		str, ok := g.(string)
		if !ok {
			return 0, &score.Error{Field: fmt.Sprintf("resps[0][%d]", j), Msg: "not a generated string"}
		}
		gens[j] = str
	}
	if len(gens) == 0 {
		return 0, &score.Error{Field: "resps[0]", Msg: "no generations"}
	}
	v, err := check.Mean(gens, q.Answer)
	if err != nil {
		field := "doc.answer"
		if task == questions.PreAlgebra {
			field = "doc.solution"
		}
		return 0, &score.Error{Field: field, Msg: err.Error()}
	}
	return v, nil
}
