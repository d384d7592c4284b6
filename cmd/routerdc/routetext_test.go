package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteRouteText: the text format shows the query on one line, the
// chosen LLM and the top 3 probabilities, highest first, ties in the
// router's order.
func TestWriteRouteText(t *testing.T) {
	var b strings.Builder
	probs := []kv{{"a", 0.1}, {"b", 0.4}, {"c", 0.1}, {"d", 0.05}, {"e", 0.35}}
	writeRouteText(&b, 2, "what is\n 2 + 2?", "b", probs)
	want := "2. what is 2 + 2?\n   -> b\n   top 3: b 40.0%, e 35.0%, a 10.0%\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if probs[0].K != "a" || probs[1].K != "b" {
		t.Error("writeRouteText reordered the caller's probabilities")
	}

	b.Reset()
	writeRouteText(&b, 1, strings.Repeat("é", 300), "x", []kv{{"x", 1}})
	if first := strings.SplitN(b.String(), "\n", 2)[0]; len([]rune(first)) != len("1. ")+routeTextWidth || !strings.HasSuffix(first, "…") {
		t.Errorf("a long query is not cut to %d runes: %q", routeTextWidth, first)
	}
	if !strings.Contains(b.String(), "top 1: x 100.0%") {
		t.Errorf("one LLM: %q", b.String())
	}
}

// TestRouteFormat: piped output is JSON unless --format text; a file is
// not a terminal.
func TestRouteFormat(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, c := range []struct {
		format string
		text   bool
	}{{"", false}, {"json", false}, {"text", true}} {
		if text, err := routeText(c.format, f); err != nil || text != c.text {
			t.Errorf("--format %q to a file: text %v, %v; want %v", c.format, text, err, c.text)
		}
	}
	if _, err := routeText("xml", f); err == nil || !strings.Contains(err.Error(), "want json or text") {
		t.Errorf("--format xml: %v", err)
	}
	bin := binary(t)
	rdir := toyRouter(t)
	stdout, stderr, err := run(t, bin, "", "route", "--router", rdir, "--format", "text", "solve the equation 5 x + 3 = 7")
	if err != nil || !strings.HasPrefix(stdout, "1. solve the equation 5 x + 3 = 7\n   -> m\n   top 2: m ") {
		t.Errorf("route --format text: %v %q %q", err, stdout, stderr)
	}
}
