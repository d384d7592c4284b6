package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// KindSettings splits the settings a router kind reads (its own and the
// common ones) by where their defaults come from, each sorted by key.
func KindSettings(kind string) (paper, ours []routers.Setting) {
	for _, s := range routers.Settings() {
		if used := routers.UsedBy(s.Key); len(used) > 0 && !slices.Contains(used, kind) {
			continue
		}
		if s.Origin == routers.Ours {
			ours = append(ours, s)
		} else {
			paper = append(paper, s)
		}
	}
	return paper, ours
}

// SettingsNote is the sentence written under the tables and printed by the
// notebooks: which of RouterDC's default settings are ours rather than the
// paper's. It is built from the setting specs, so it cannot drift from
// `routerdc settings`.
func SettingsNote() string {
	_, ours := KindSettings("routerdc")
	var kv []string
	for _, s := range ours {
		// Settings of the encoders a default run does not use would only
		// blur which settings made the numbers.
		if encode.OnlyOtherKinds(s.Key) {
			continue
		}
		kv = append(kv, fmt.Sprintf("%s=%v", s.Key, s.Default))
	}
	return "RouterDC's settings are the paper's except these of ours: " + strings.Join(kv, ", ") +
		" (`routerdc settings` says why); each router's own settings are in the manifest."
}

// SettingsMarkdown is the README's settings list (between the settings
// markers), generated from the setting specs: RouterDC's settings that are
// ours, with why, then the paper's.
func SettingsMarkdown() string {
	paper, ours := KindSettings("routerdc")
	var b strings.Builder
	b.WriteString("Ours (the paper has no such setting, or our encoder needs another value):\n\n")
	b.WriteString("| setting | default | what it is, and why ours |\n|---|---|---|\n")
	for _, s := range ours {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", s.Key, defaultText(s.Default), s.Doc)
	}
	b.WriteString("\nThe paper's (its text or its released code): ")
	var kv []string
	for _, s := range paper {
		kv = append(kv, fmt.Sprintf("`%s`=%s", s.Key, defaultText(s.Default)))
	}
	b.WriteString(strings.Join(kv, ", ") + ".\n")
	return b.String()
}

func defaultText(v any) string {
	if s, ok := v.(string); ok && s == "" {
		return "(none)"
	}
	return fmt.Sprint(v)
}
