package routers

import (
	"fmt"
	"slices"
	"strings"
)

// Origin says where a setting's default comes from.
type Origin string

const (
	// Paper: the RouterDC paper's (or its released code's) setting.
	Paper Origin = "paper"
	// Ours: chosen here (the paper has none, or our offline encoder needs
	// another value); the setting's Doc says why.
	Ours Origin = "ours"
)

// Setting declares one hyperparameter, once: every default, listing and
// check derives from it.
type Setting struct {
	Key     string
	Default any // int, float64 or string: every value is read as this type
	Doc     string
	Origin  Origin
	// Want describes the valid values ("want >= 1"); empty: any value.
	Want  string
	check func(v any) string
}

// Int declares an int setting valid in r.
func Int(key string, def int, origin Origin, doc string, r Range[int]) Setting {
	return typed(key, def, origin, doc, r.want, r.ok)
}

// Float declares a float64 setting valid in r.
func Float(key string, def float64, origin Origin, doc string, r Range[float64]) Setting {
	return typed(key, def, origin, doc, r.want, r.ok)
}

// String declares a string setting; allowed lists its values (none: any).
func String(key, def string, origin Origin, doc string, allowed ...string) Setting {
	want := ""
	if len(allowed) > 0 {
		want = "want one of " + strings.Join(allowed, ", ")
	}
	return typed(key, def, origin, doc, want, func(v string) bool { return len(allowed) == 0 || slices.Contains(allowed, v) })
}

// StringCheck declares a string setting with its own check; want says
// what is allowed, evaluated when the check fails (the allowed values may
// be known only once every kind is registered).
func StringCheck(key, def string, origin Origin, doc string, want func() string, ok func(string) bool) Setting {
	s := typed(key, def, origin, doc, "", ok)
	s.check = func(v any) string {
		if ok(v.(string)) {
			return ""
		}
		return want()
	}
	return s
}

func typed[T any](key string, def T, origin Origin, doc, want string, ok func(T) bool) Setting {
	return Setting{Key: key, Default: def, Doc: doc, Origin: origin, Want: want, check: func(v any) string {
		if ok(v.(T)) {
			return ""
		}
		return want
	}}
}

// Range is the allowed interval of a numeric setting.
type Range[T int | float64] struct {
	want string
	ok   func(T) bool
}

// Any allows every value.
func Any[T int | float64]() Range[T] { return Range[T]{ok: func(T) bool { return true }} }

// AtLeast allows v >= lo.
func AtLeast[T int | float64](lo T) Range[T] {
	return Range[T]{fmt.Sprintf("want >= %v", lo), func(v T) bool { return v >= lo }}
}

// Above allows v > lo.
func Above[T int | float64](lo T) Range[T] {
	return Range[T]{fmt.Sprintf("want > %v", lo), func(v T) bool { return v > lo }}
}

// Between allows lo <= v <= hi; why, if given, is added to the message.
func Between[T int | float64](lo, hi T, why string) Range[T] {
	want := fmt.Sprintf("want %v..%v", lo, hi)
	if why != "" {
		want += " (" + why + ")"
	}
	return Range[T]{want, func(v T) bool { return v >= lo && v <= hi }}
}

// Fraction allows 0 <= v < 1.
func Fraction() Range[float64] {
	return Range[float64]{"want [0, 1)", func(v float64) bool { return v >= 0 && v < 1 }}
}

// ZeroOrAtLeast allows 0 (an "off" or "all" value) or v >= lo; zero says
// what 0 means.
func ZeroOrAtLeast(lo int, zero string) Range[int] {
	return Range[int]{fmt.Sprintf("want 0 (%s) or >= %d", zero, lo), func(v int) bool { return v == 0 || v >= lo }}
}
