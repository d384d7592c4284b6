package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeStages encode a query "qN" as [N] and score it as [2N]; a query
// named in fail fails the stage named with it.
func fakeStages(fail map[string]string) (func([]string) ([][]float32, error), func([][]float32) ([][]float64, error)) {
	encode := func(q []string) ([][]float32, error) {
		x := make([][]float32, len(q))
		for i, s := range q {
			if fail[s] == "encode" {
				return nil, fmt.Errorf("encoding %s failed", s)
			}
			n, _ := strconv.Atoi(strings.TrimPrefix(s, "q"))
			x[i] = []float32{float32(n)}
		}
		time.Sleep(time.Millisecond) // let the stages interleave
		return x, nil
	}
	score := func(x [][]float32) ([][]float64, error) {
		s := make([][]float64, len(x))
		for i, v := range x {
			if fail[fmt.Sprintf("q%d", int(v[0]))] == "score" {
				return nil, fmt.Errorf("scoring q%d failed", int(v[0]))
			}
			s[i] = []float64{2 * float64(v[0])}
		}
		return s, nil
	}
	return encode, score
}

func queryLines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "q%d\n", i)
	}
	return b.String()
}

// TestRoutePipelinedKeepsOrder: every query is written once, in input
// order, with its own score, across batches in flight at once.
func TestRoutePipelinedKeepsOrder(t *testing.T) {
	encode, score := fakeStages(nil)
	var got []string
	write := func(q []string, s [][]float64) error {
		for i := range q {
			got = append(got, fmt.Sprintf("%s=%g", q[i], s[i][0]))
		}
		return nil
	}
	if err := routePipelined(strings.NewReader(queryLines(1000)), 7, encode, score, write); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1000 {
		t.Fatalf("%d answers, want 1000", len(got))
	}
	for i, g := range got {
		if want := fmt.Sprintf("q%d=%d", i, 2*i); g != want {
			t.Fatalf("answer %d is %q, want %q", i, g, want)
		}
	}
}

// TestRoutePipelinedErrors: a failing stage's error comes back, after the
// answers to every batch before the failing one and none after it; a
// read error comes after every line read before it.
func TestRoutePipelinedErrors(t *testing.T) {
	for _, stage := range []string{"encode", "score", "write"} {
		encode, score := fakeStages(map[string]string{"q53": stage})
		var written atomic.Int64
		write := func(q []string, _ [][]float64) error {
			for _, s := range q {
				if s == "q53" && stage == "write" {
					return errors.New("writing q53 failed")
				}
			}
			written.Add(int64(len(q)))
			return nil
		}
		err := routePipelined(strings.NewReader(queryLines(1000)), 10, encode, score, write)
		if err == nil || !strings.Contains(err.Error(), "q53 failed") {
			t.Errorf("%s failing: error %v, want the stage's", stage, err)
		}
		if n := written.Load(); n != 50 {
			t.Errorf("%s failing at q53 (batch 50..59): %d answers written, want 50", stage, n)
		}
	}

	encode, score := fakeStages(nil)
	var written []string
	write := func(q []string, _ [][]float64) error { written = append(written, q...); return nil }
	err := routePipelined(failingReader{strings.NewReader(queryLines(25))}, 10, encode, score, write)
	if err == nil || !strings.Contains(err.Error(), "line 26") || len(written) != 25 {
		t.Errorf("read error after 25 lines: error %v, %d answers; want the error with line 26 after 25 answers", err, len(written))
	}
}
