package progress

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLanesShareOneLine: two units run at once on a terminal show on the
// display's one line, each with its own step; each lane ends its own unit,
// and the ETA counts the two lanes as working side by side.
func TestLanesShareOneLine(t *testing.T) {
	d, buf, c := newTest(true, map[string]int{"train": 4})
	lanes, release := Lanes(d, 2)
	a, b := lanes[0].(Tracker), lanes[1].(Tracker)
	a.StartUnit("train", "A, seed 1")
	b.StartUnit("train", "B, seed 1")
	barA, barB := NewBar(lanes[0], 100, "step"), NewBar(lanes[1], 100, "step")
	barA.Add(30)
	c.advance(time.Second) // past the 5-a-second limit on step redraws
	barB.Add(60)
	last := func() string { out := buf.String(); return out[strings.LastIndex(out, "\r")+1:] }
	if want := "\x1b[K[0/4] train A, seed 1 (30%) | train B, seed 1 (60%) · 1s elapsed"; last() != want {
		t.Errorf("line %q, want %q", last(), want)
	}
	c.advance(9 * time.Second)
	b.EndUnit("train", 10, true) // B ends; A is still running
	if want := "\x1b[K[1/4] train A, seed 1 (30%) · 10s elapsed · ETA 10s"; last() != want {
		// 3 trainings left at 10 s, A 10 s into its own, on 2 lanes: 10 s.
		t.Errorf("line %q, want %q", last(), want)
	}
	a.EndUnit("train", 10, true)
	release()
	d.StartUnit("train", "C, seed 1") // after release: the display's own lane alone
	if want := "\x1b[K[2/4] train C, seed 1 · 10s elapsed · ETA 20s"; last() != want {
		t.Errorf("line %q, want %q", last(), want)
	}
	if strings.Contains(buf.String(), "\n") {
		t.Errorf("the terminal display wrote a newline: %q", buf.String())
	}
}

// TestLanesLogWholeLines: in a log, units finishing on several lanes at
// once each print one whole numbered line.
func TestLanesLogWholeLines(t *testing.T) {
	d, buf, _ := newTest(false, map[string]int{"train": 40})
	lanes, release := Lanes(d, 4)
	var wg sync.WaitGroup
	for li, w := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 10 {
				label := fmt.Sprintf("lane %d unit %d", li, k)
				w.(Tracker).StartUnit("train", label)
				bar := NewBar(w, 10, "step")
				bar.Add(10)
				bar.Finish()
				fmt.Fprintf(w, "message of %s\n", label)
				w.(Tracker).EndUnit("train", 1, true)
			}
		}()
	}
	wg.Wait()
	release()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 80 {
		t.Fatalf("%d lines, want 80:\n%s", len(lines), buf.String())
	}
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "message of lane ") {
			continue
		}
		n++
		if !strings.HasPrefix(l, fmt.Sprintf("[%d/40] train lane ", n)) {
			t.Errorf("line %q, want unit %d of 40", l, n)
		}
	}
}

// TestLanesOfAPlainWriter: a writer that is no display is shared behind
// one lock (whole messages) and gets no bars; nil stays nil.
func TestLanesOfAPlainWriter(t *testing.T) {
	var buf liveBuffer // a live line: one bar would draw, two would fight
	lanes, release := Lanes(&buf, 2)
	defer release()
	if lanes[0] != lanes[1] || IsTerminal(lanes[0]) {
		t.Errorf("lanes %v: want one shared writer that is no terminal", lanes)
	}
	var wg sync.WaitGroup
	for _, w := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bar := NewBar(w, 10, "training")
			for range 10 {
				bar.Add(1)
				fmt.Fprintln(w, "one whole message")
			}
		}()
	}
	wg.Wait()
	if got := strings.Count(buf.String(), "one whole message\n"); got != 20 || len(buf.String()) != 20*len("one whole message\n") {
		t.Errorf("output %q", buf.String())
	}
	nils, _ := Lanes(nil, 2)
	if nils[0] != nil || nils[1] != nil {
		t.Errorf("lanes of nil: %v", nils)
	}
	var plain bytes.Buffer
	if l, _ := Lanes(&plain, 1); l[0] == nil {
		t.Error("no lane")
	}
}

// TestLanesCutLabelsNotSteps: long labels of two running units are cut to
// share the line; their steps stay in view.
func TestLanesCutLabelsNotSteps(t *testing.T) {
	d, buf, c := newTest(true, nil)
	lanes, release := Lanes(d, 2)
	defer release()
	long := strings.Repeat("a very long method name ", 3)
	var bars []Bar
	for _, w := range lanes {
		w.(Tracker).StartUnit("train", long)
		bars = append(bars, NewBar(w, 100, "step"))
	}
	for i, b := range bars {
		c.advance(time.Second) // past the limit on step redraws
		b.Add(30 * (i + 1))
	}
	out := buf.String()
	last := out[strings.LastIndex(out, "\r")+1:]
	if n := len([]rune(last)) - len("\x1b[K"); n > 79 || !strings.Contains(last, "… (30%) | train") || !strings.Contains(last, "… (60%) · ") {
		t.Errorf("line (%d columns): %q", n, last)
	}
}
