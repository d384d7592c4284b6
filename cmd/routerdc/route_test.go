package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/routerdir/routerdirtest"
)

// toyRouter saves a small kNN router (no released data needed): maths
// questions go to LLM "m", code questions to "c".
func toyRouter(t *testing.T) string { return routerdirtest.ToyKNN(t) }

// A stdin line over the limit used to fail with "bufio.Scanner: token too
// long" and lose the answers to the lines read before it (up to 255).
func TestRouteLongLine(t *testing.T) {
	rdir := toyRouter(t)
	bin := binary(t)
	long := strings.Repeat("x", maxRouteLine+1)
	in := "solve the equation 5 x + 3 = 7\r\n\nwrite a python function number 8\n" + long + "\nsolve 1 + 1\n"
	stdout, stderr, err := run(t, bin, in, "route", "--router", rdir)
	if err == nil {
		t.Fatalf("route accepted a %d-byte line", len(long))
	}
	if !strings.Contains(stderr, "line 4") || !strings.Contains(stderr, "16 MiB") || strings.Contains(stderr, "goroutine") {
		t.Errorf("stderr %q: want one error naming line 4 and the 16 MiB limit", stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	want := []struct{ query, llm string }{{"solve the equation 5 x + 3 = 7", "m"}, {"write a python function number 8", "c"}}
	if len(lines) != len(want) {
		t.Fatalf("stdout has %d lines, want the answers to the %d queries before the long line: %q", len(lines), len(want), stdout)
	}
	for i, l := range lines {
		var got struct {
			Query string `json:"query"`
			LLM   string `json:"llm"`
		}
		if err := json.Unmarshal([]byte(l), &got); err != nil || got.Query != want[i].query || got.LLM != want[i].llm {
			t.Errorf("line %d = %q (%v), want query %q routed to %q", i, l, err, want[i].query, want[i].llm)
		}
	}

	// A line right at the limit, and a last line without a newline, are routed.
	stdout, stderr, err = run(t, bin, long[1:]+"\nwrite a python function number 8", "route", "--router", rdir)
	if err != nil || strings.Count(stdout, "\n") != 2 {
		t.Errorf("line of exactly %d bytes: err %v, %d answers, stderr %q", maxRouteLine, err, strings.Count(stdout, "\n"), stderr)
	}

	help, _, _ := run(t, bin, "", "route", "--help")
	if !strings.Contains(help, "16 MiB") || !strings.Contains(help, "line number") {
		t.Errorf("route --help does not document the line limit: %q", help)
	}
}

// failingReader gives its data, then a read error.
type failingReader struct{ data *strings.Reader }

func (f failingReader) Read(p []byte) (int, error) {
	if f.data.Len() == 0 {
		return 0, fmt.Errorf("disk on fire")
	}
	return f.data.Read(p)
}

func TestRouteLinesBatchesAndErrors(t *testing.T) {
	var in strings.Builder
	for i := range routeBatch + 3 {
		fmt.Fprintf(&in, "q%d\n", i)
		if i == 7 {
			in.WriteString("  \t\r\n") // blank: skipped
		}
	}
	var got [][]string
	emit := func(b []string) error { got = append(got, append([]string(nil), b...)); return nil }
	if err := routeLines(strings.NewReader(in.String()), routeBatch, emit); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0]) != routeBatch || len(got[1]) != 3 || got[0][8] != "q8" || got[1][2] != fmt.Sprintf("q%d", routeBatch+2) {
		t.Errorf("batches of %d and %d, want %d and 3", len(got[0]), len(got[len(got)-1]), routeBatch)
	}

	got = nil
	err := routeLines(failingReader{strings.NewReader("a\nb\nc")}, routeBatch, emit)
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("read error: %v, want it with line 3", err)
	}
	// "c" may be incomplete, so only the whole lines before it are routed.
	if len(got) != 1 || strings.Join(got[0], ",") != "a,b" {
		t.Errorf("before a read error, emitted %v, want [[a b]]", got)
	}
}
