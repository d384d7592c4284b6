package answer

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// MATH returns the MATH (minerva_math) checker of a mode (see Mode). The
// reference is the dataset's solution; its gold answer is the normalised
// content of its last \boxed{}. lm-eval decides equivalence with sympy
// (simplify(a - b) == 0); this port compares normalised strings, then the
// values of plain numbers and fractions. Answers sympy would prove equal in
// other ways (2\sqrt{2} vs \sqrt{8}) are counted wrong.
func MATH(mode Mode) Checker {
	fallback := mode != RouterDC
	return func(gen, ref string) (float64, error) {
		gold, err := MATHGold(ref)
		if err != nil {
			return 0, err
		}
		got, ok := MATHAnswer(gen, fallback)
		if ok && EquivalentMATH(got, gold) {
			return 1, nil
		}
		return 0, nil
	}
}

// MATHGold is the normalised gold answer of a MATH solution: its last
// \boxed{...} (braces balanced), normalised.
func MATHGold(solution string) (string, error) {
	boxed, ok := LastBoxed(solution)
	if !ok {
		return "", fmt.Errorf("MATH solution has no \\boxed{...} answer: %q", clip(solution))
	}
	return NormalizeMATH(boxed), nil
}

var finalAnswer = regexp.MustCompile(`Final Answer: The final answer is(.*?). I hope it is correct.`)

// MATHAnswer is the normalised answer of a generation: minerva's "Final
// Answer: The final answer is X. I hope it is correct." (the closing
// sentence may be missing, as a stop sequence can cut it), else, with
// fallback, the last \boxed{} of the output. ok is false when neither is
// there.
func MATHAnswer(generation string, fallback bool) (answer string, ok bool) {
	// lm-eval appends the closing sentence before matching, for the same
	// reason.
	if m := finalAnswer.FindStringSubmatch(generation + "I hope it is correct."); m != nil {
		return NormalizeMATH(strings.TrimSpace(m[1])), true
	}
	if fallback {
		if boxed, ok := LastBoxed(generation); ok {
			return NormalizeMATH(boxed), true
		}
	}
	return "", false
}

// LastBoxed is the content of the last \boxed{...} (or "\boxed x", or
// \fbox{...}) in s, as minerva's last_boxed_only_string + remove_boxed.
func LastBoxed(s string) (string, bool) {
	// minerva checks the "\boxed " form first, wherever it is.
	if strings.Contains(s, `\boxed `) {
		parts := strings.Split(s, `\boxed `)
		last := parts[len(parts)-1]
		content, _, _ := strings.Cut(last, "$")
		return content, true
	}
	idx := strings.LastIndex(s, `\boxed`)
	if idx < 0 {
		idx = strings.LastIndex(s, `\fbox`)
		if idx < 0 {
			return "", false
		}
	}
	depth := 0
	for i := idx; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				whole := s[idx : i+1]
				open := strings.IndexByte(whole, '{')
				// "\boxed{" or "\fbox{": anything between the command and
				// its brace is not an argument.
				if open != len(`\boxed`) && open != len(`\fbox`) {
					return "", false
				}
				return whole[open+1 : len(whole)-1], true
			}
		}
	}
	return "", false
}

// minerva's normalize_final_answer tables (Lewkowycz et al. 2022, app. D),
// applied in order.
var (
	mathSubstitutions = [][2]string{
		{"an ", ""}, {"a ", ""}, {".$", "$"}, {`\$`, ""}, {`\ `, ""}, {" ", ""},
		{"mbox", "text"}, {`,\text{and}`, ","}, {`\text{and}`, ","}, {`\text{m}`, `\text{}`},
	}
	mathRemoved = []string{
		"square", "ways", "integers", "dollars", "mph", "inches", "ft", "hours", "km", "units",
		`\ldots`, "sue", "points", "feet", "minutes", "digits", "cents", "degrees", "cm", "gm",
		"pounds", "meters", "meals", "edges", "students", "childrentickets", "multiples",
		`\text{s}`, `\text{.}`, "\\text{\ns}", `\text{}^2`, `\text{}^3`, "\\text{\n}", `\text{}`,
		`\mathrm{th}`, `^\circ`, `^{\circ}`, `\;`, `,\!`, "{,}", `"`, `\dots`,
	}
	mathInDollars = regexp.MustCompile(`(.*?)(\$)(.*?)(\$)(.*)`)
	mathText      = regexp.MustCompile(`\\text\{(.*?)\}`)
	mathTextbf    = regexp.MustCompile(`\\textbf\{(.*?)\}`)
	mathOverline  = regexp.MustCompile(`\\overline\{(.*?)\}`)
	mathBoxed     = regexp.MustCompile(`\\boxed\{(.*)\}`)
	mathFracShort = regexp.MustCompile(`frac([^{])(.)`)
	mathSqrtShort = regexp.MustCompile(`sqrt([^{])`)
	mathPointZero = regexp.MustCompile(`^(-?[0-9]+)\.0+$`)
)

// NormalizeMATH is minerva's normalize_final_answer plus a few rewrites that
// sympy's parser would make equal anyway: \left and \right (removed first,
// as minerva's unit list would turn "\left" into "\le" by dropping "ft"),
// then after minerva \!, \,, percent signs, \dfrac and \tfrac as \frac,
// and a trailing ".0". minerva's own quirks stay: "3\text{ and }4" becomes
// "3,4" and then, being digits once commas go, "34".
func NormalizeMATH(s string) string {
	s = strings.ReplaceAll(s, `\left`, "")
	s = strings.ReplaceAll(s, `\right`, "")
	if i := strings.LastIndex(s, "="); i >= 0 {
		s = s[i+1:]
	}
	for _, sub := range mathSubstitutions {
		s = strings.ReplaceAll(s, sub[0], sub[1])
	}
	for _, r := range mathRemoved {
		s = strings.ReplaceAll(s, r, "")
	}
	s = mathInDollars.ReplaceAllString(s, "$$${3}$$")
	s = mathText.ReplaceAllString(s, "${1}")
	s = mathTextbf.ReplaceAllString(s, "${1}")
	s = mathOverline.ReplaceAllString(s, "${1}")
	s = mathBoxed.ReplaceAllString(s, "${1}")
	s = mathFracShort.ReplaceAllString(s, "frac{${1}}{${2}}")
	s = mathSqrtShort.ReplaceAllString(s, "sqrt{${1}}")
	s = strings.ReplaceAll(s, "$", "")
	if digits := strings.ReplaceAll(s, ",", ""); isDigits(digits) {
		s = digits
	}

	// Beyond minerva.
	for _, r := range []string{`\!`, `\,`, `\%`, "%"} {
		s = strings.ReplaceAll(s, r, "")
	}
	s = strings.ReplaceAll(s, `\dfrac`, `\frac`)
	s = strings.ReplaceAll(s, `\tfrac`, `\frac`)
	s = mathPointZero.ReplaceAllString(s, "${1}")
	return s
}

// isDigits is Python's str.isdigit: non-empty, all digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// EquivalentMATH reports whether two normalised answers are equal: the same
// non-empty string, or numbers (integers, decimals, a/b, \frac{a}{b}, with an
// optional leading minus) within a relative 1e-9.
func EquivalentMATH(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	x, okx := MATHValue(a)
	y, oky := MATHValue(b)
	if !okx || !oky {
		return false
	}
	return math.Abs(x-y) <= 1e-9*math.Max(1, math.Max(math.Abs(x), math.Abs(y)))
}

var (
	plainNumber = regexp.MustCompile(`^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$`)
	texFraction = regexp.MustCompile(`^\\frac\{([^{}]+)\}\{([^{}]+)\}$`)
)

// MATHValue is the value of a normalised answer that is a plain number or a
// fraction; ok is false for anything else (expressions, intervals, text).
func MATHValue(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		v, ok := MATHValue(rest)
		return -v, ok
	}
	if m := texFraction.FindStringSubmatch(s); m != nil {
		return ratio(m[1], m[2])
	}
	if num, den, ok := strings.Cut(s, "/"); ok {
		return ratio(num, den)
	}
	if !plainNumber.MatchString(s) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

func ratio(num, den string) (float64, bool) {
	n, ok1 := signedPlain(num)
	d, ok2 := signedPlain(den)
	if !ok1 || !ok2 || d == 0 {
		return 0, false
	}
	return n / d, true
}

func signedPlain(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	neg := false
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		neg, s = true, rest
	}
	if !plainNumber.MatchString(s) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if neg {
		v = -v
	}
	return v, err == nil
}
