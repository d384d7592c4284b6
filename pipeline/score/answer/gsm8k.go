package answer

import (
	"fmt"
	"regexp"
	"strings"
)

// gsm8kStrict is both RouterDC's conversion regex and lm-eval's strict-match
// filter; the first match counts (Python's re.search).
var gsm8kStrict = regexp.MustCompile(`#### (\-?[0-9\.\,]+)`)

// gsm8kFlexible is lm-eval's flexible-extract filter; the last match counts.
var gsm8kFlexible = regexp.MustCompile(`(-?[$0-9.,]{2,})|(-?[0-9]+)`)

// invalid is what lm-eval's filters return when nothing matches; no
// reference normalises to it.
const invalid = "[invalid]"

// GSM8K returns the GSM8K checker of a mode (see Mode).
func GSM8K(mode Mode) Checker {
	switch mode {
	case RouterDC:
		return gsm8kRouterDC
	case Flexible:
		return func(gen, ref string) (float64, error) { return gsm8kNormalized(gsm8kLast(gen), ref) }
	}
	return func(gen, ref string) (float64, error) { return gsm8kNormalized(gsm8kFirst(gen), ref) }
}

var gsm8kNumber = regexp.MustCompile(`^-?[0-9.]+$`)

// gsm8kRouterDC compares the captured "#### N" strings as they are, so
// "1,000" and "1000" differ; a reference without "#### N" is an error (the
// Python notebook crashes on it).
func gsm8kRouterDC(gen, ref string) (float64, error) {
	want := gsm8kStrict.FindStringSubmatch(ref)
	if want == nil {
		return 0, fmt.Errorf("GSM8K reference has no \"#### <number>\": %q", clip(ref))
	}
	got := gsm8kStrict.FindStringSubmatch(gen)
	if got != nil && got[1] == want[1] {
		return 1, nil
	}
	return 0, nil
}

func gsm8kFirst(gen string) string {
	if m := gsm8kStrict.FindStringSubmatch(gen); m != nil {
		return m[1]
	}
	return invalid
}

// gsm8kLast follows lm-eval's RegexFilter with group_select -1: the last
// match, and of its groups the first non-empty one.
func gsm8kLast(gen string) string {
	all := gsm8kFlexible.FindAllStringSubmatch(gen, -1)
	if len(all) == 0 {
		return invalid
	}
	last := all[len(all)-1]
	for _, g := range last[1:] {
		if g != "" {
			return strings.TrimSpace(g)
		}
	}
	return invalid
}

// gsm8kNormalized is lm-eval's exact_match with gsm8k's regexes_to_ignore
// applied to the extracted answer and to the whole reference; the reference
// loses everything up to its last "#### ".
// A reference that is not a number once normalised has lost its "#### N"
// (a wrong field or a truncated row): every answer would score 0 silently,
// so it is an error.
func gsm8kNormalized(extracted, ref string) (float64, error) {
	want := NormalizeGSM8K(ref)
	if !gsm8kNumber.MatchString(strings.TrimSpace(want)) {
		return 0, fmt.Errorf("GSM8K reference has no \"#### <number>\" and is not a number: %q", clip(ref))
	}
	if extracted == invalid {
		return 0, nil
	}
	if NormalizeGSM8K(extracted) == want {
		return 1, nil
	}
	return 0, nil
}

var (
	gsm8kPrefix   = regexp.MustCompile(`(?s).*#### `)
	gsm8kTrailDot = regexp.MustCompile(`\.(\n?)$`)
)

// NormalizeGSM8K applies lm-eval gsm8k's exact_match settings, in their
// order: remove ",", "$", everything through the last "#### ", a final ".",
// then lower-case.
func NormalizeGSM8K(s string) string {
	s = strings.ReplaceAll(s, ",", "")
	s = strings.ReplaceAll(s, "$", "")
	s = gsm8kPrefix.ReplaceAllString(s, "")
	// Python's `\.$` also matches a "." just before a final newline.
	s = gsm8kTrailDot.ReplaceAllString(s, "$1")
	return strings.ToLower(s)
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
