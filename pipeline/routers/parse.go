package routers

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Assignment is one parsed "key=value" setting.
type Assignment struct {
	Key   string
	Value any // of the setting's default's type
}

// Parse reads "key=value" settings separated by ';' (empty parts are
// skipped). Each key must be declared; each value must read as its
// default's type and lie in its range. The error names the setting as
// written, what was wrong and what is wanted, in the user's terms: the
// settings are ours, not GoMLX's scopes and paths.
func Parse(settings string) ([]Assignment, error) {
	var out []Assignment
	for _, part := range strings.Split(settings, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		a, err := parseOne(part)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", strings.TrimSpace(part), err)
		}
		out = append(out, a)
	}
	return out, nil
}

func parseOne(part string) (Assignment, error) {
	key, raw, ok := strings.Cut(part, "=")
	key, raw = strings.TrimSpace(key), strings.TrimSpace(raw)
	if !ok || key == "" {
		return Assignment{}, errors.New(`want key=value, e.g. lambda=0.5 ("routerdc settings" lists the keys)`)
	}
	s, ok := settings[key]
	if !ok {
		return Assignment{}, unknownSetting(key)
	}
	var v any
	switch s.Default.(type) {
	case int:
		n, err := strconv.ParseInt(strings.ReplaceAll(raw, "_", ""), 10, 0)
		if err != nil {
			return Assignment{}, s.wantError("an integer", s.Want, raw)
		}
		v = int(n)
	case float64:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return Assignment{}, s.wantError("a number", s.Want, raw)
		}
		v = f
	default:
		v = raw
	}
	if s.check == nil {
		return Assignment{key, v}, nil
	}
	if want := s.check(v); want != "" {
		what := ""
		switch v.(type) {
		case int:
			what = "an integer"
		case float64:
			what = "a number"
		}
		return Assignment{}, s.wantError(what, want, raw)
	}
	return Assignment{key, v}, nil
}

// wantError says what the setting wants (what: its type; want: its range,
// "want >= 0") and what it is, and gives the value as written.
func (s Setting) wantError(what, want, raw string) error {
	msg := "want"
	if what != "" {
		msg += " " + what
	}
	want = strings.TrimPrefix(want, "want ")
	if strings.HasPrefix(want, "[") || strings.Contains(want, "..") {
		want = "in " + want // an interval: "a number in [0, 1)"
	}
	if want != "" {
		msg += " " + want
	}
	return fmt.Errorf("%s (%s), got %q", msg, s.Doc, raw)
}

// unknownSetting names the key and, when one is close, the key meant.
func unknownSetting(key string) error {
	if near := closest(key); near != "" {
		return fmt.Errorf("unknown setting %q (did you mean %q? \"routerdc settings\" lists them all)", key, near)
	}
	return fmt.Errorf("unknown setting %q (\"routerdc settings\" lists them all)", key)
}

// closest is the declared key nearest to key by edit distance, if it is
// close enough to be a typo: at most 1 edit for keys up to 4 letters, 2
// beyond, and never more than a third of the key.
func closest(key string) string {
	var keys []string
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys) // ties go to the first key in order, every run
	best, bestD := "", -1
	for _, k := range keys {
		d := editDistance(strings.ToLower(key), k)
		if bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	limit := 2
	if len(key) <= 4 {
		limit = 1
	}
	if bestD < 0 || bestD > limit || 3*bestD > len(key) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes (the keys
// are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
