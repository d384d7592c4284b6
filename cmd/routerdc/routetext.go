package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// routeText says whether route writes text: --format text, or no --format
// and stdout a terminal. Piped output stays JSON, so scripts keep working.
func routeText(format string, stdout *os.File) (bool, error) {
	switch format {
	case "text":
		return true, nil
	case "json":
		return false, nil
	case "":
		return isTerminal(stdout), nil
	}
	return false, fmt.Errorf("--format %q: want json or text", format)
}

// isTerminal says whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// routeTextTop is how many probabilities the text format shows.
const routeTextTop = 3

// routeTextWidth bounds the query shown: the answer, not the query, is
// what the reader looks for.
const routeTextWidth = 100

// writeRouteText writes query n's answer for a reader: the query on one
// line (cut to routeTextWidth runes), the chosen LLM, and the top
// probabilities, highest first (ties in the router's LLM order).
func writeRouteText(w io.Writer, n int, query, llm string, probs []kv) {
	q := strings.Join(strings.Fields(query), " ")
	if r := []rune(q); len(r) > routeTextWidth {
		q = string(r[:routeTextWidth-1]) + "…"
	}
	top := slices.Clone(probs)
	slices.SortStableFunc(top, func(a, b kv) int {
		switch {
		case a.V > b.V:
			return -1
		case a.V < b.V:
			return 1
		}
		return 0
	})
	top = top[:min(routeTextTop, len(top))]
	var parts []string
	for _, e := range top {
		parts = append(parts, fmt.Sprintf("%s %.1f%%", e.K, 100*e.V))
	}
	fmt.Fprintf(w, "%d. %s\n   -> %s\n   top %d: %s\n", n, q, llm, len(top), strings.Join(parts, ", "))
}
