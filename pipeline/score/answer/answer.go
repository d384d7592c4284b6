// Package answer checks LLM answers: GSM8K and MATH generations against the
// reference solution, and the multiple-choice score from option
// log-likelihoods.
package answer

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/routerdc-go/routerdc/pipeline/score/questions"
)

// Mode picks how strictly generated answers are compared.
type Mode string

const (
	// Normalized is the default (also the zero Mode). GSM8K: lm-eval's
	// strict-match extraction ("#### N") and its exact_match normalisation
	// (ignore case, drop "," and "$", a trailing "."). MATH: minerva's
	// answer extraction, falling back to the last \boxed{} of the output.
	Normalized Mode = "normalized"
	// RouterDC reproduces the released data. GSM8K: the regex
	// `#### (\-?[0-9\.\,]+)` on generation and reference, compared as
	// strings with no normalisation. MATH: minerva's extraction only ("Final
	// Answer: The final answer is ... I hope it is correct."), as lm-eval's
	// exact_match that RouterDC copied.
	RouterDC Mode = "routerdc"
	// Flexible is lm-eval's flexible-extract for GSM8K: the last number in
	// the output, then exact_match normalisation. MATH: as Normalized.
	Flexible Mode = "flexible"
)

// ParseMode reads a mode name; "" is Normalized.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return Normalized, nil
	case Normalized, RouterDC, Flexible:
		return m, nil
	}
	return "", fmt.Errorf("unknown answer mode %q (known: normalized, routerdc, flexible)", s)
}

// Checker scores one generation against the reference answer (a
// score.Query's Answer: GSM8K's full solution ending "#### N", MATH's
// solution with \boxed{}): 1 when correct, else 0. The error is for a
// reference it cannot read, never for a wrong or unreadable generation.
type Checker func(generation, reference string) (float64, error)

// Mean is the score of M sampled generations: the mean of the per-sample
// checks (RouterDC's score for open-ended queries).
func (c Checker) Mean(generations []string, reference string) (float64, error) {
	if len(generations) == 0 {
		return 0, errors.New("no generations to score")
	}
	sum := 0.0
	for _, g := range generations {
		s, err := c(g, reference)
		if err != nil {
			return 0, err
		}
		sum += s
	}
	return sum / float64(len(generations)), nil
}

// For returns the checker of a task (any name questions.Resolve knows).
// Multiple-choice tasks have none (use MCScore) and code tasks need
// execution (package execute).
func For(task string, mode Mode) (Checker, error) {
	t, err := questions.Resolve(task)
	if err != nil {
		return nil, err
	}
	if mode == "" {
		mode = Normalized
	}
	if _, err := ParseMode(string(mode)); err != nil {
		return nil, err
	}
	switch t.Name {
	case questions.GSM8K:
		return GSM8K(mode), nil
	case questions.PreAlgebra:
		return MATH(mode), nil
	case questions.HumanEval, questions.MBPP:
		return nil, fmt.Errorf("%s answers are programs: they are scored by running tests (package execute), not by a checker", t.Name)
	}
	return nil, fmt.Errorf("%s is multiple choice: score it with MCScore on the options' log-likelihoods", t.Name)
}

// MCScore is RouterDC's multiple-choice score: softmax(ll)[target] when the
// argmax of ll is the target, else 0. The softmax subtracts the maximum
// first, so very negative log-likelihoods do not underflow to 0/0. Ties go
// to the first maximum, as numpy.argmax (and so lm-eval's acc) does: a
// target tied with an earlier option scores 0.
//
// An option may be -Inf (probability 0, e.g. a letter missing from an API's
// top logprobs). The result is NaN, which score.Record.Check rejects, when
// ll is empty, target is out of range, or ll holds NaN, +Inf or only -Inf.
func MCScore(ll []float64, target int) float64 {
	if len(ll) == 0 || target < 0 || target >= len(ll) {
		return math.NaN()
	}
	best := Argmax(ll)
	m := ll[best]
	if math.IsInf(m, -1) || math.IsInf(m, 1) {
		return math.NaN()
	}
	for _, x := range ll {
		if math.IsNaN(x) {
			return math.NaN()
		}
	}
	if best != target {
		return 0
	}
	sum := 0.0
	for _, x := range ll {
		sum += math.Exp(x - m)
	}
	return math.Exp(ll[target]-m) / sum
}

// Argmax is the index of the first largest value (numpy.argmax's tie rule);
// NaNs are skipped; -1 for an empty slice.
func Argmax(xs []float64) int {
	best := -1
	for i, x := range xs {
		if math.IsNaN(x) {
			continue
		}
		if best < 0 || x > xs[best] {
			best = i
		}
	}
	if best < 0 && len(xs) > 0 {
		return 0
	}
	return best
}
