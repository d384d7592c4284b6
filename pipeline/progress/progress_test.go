package progress

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clockAt is a display's clock that the test moves.
type clockAt struct{ t time.Time }

func (c *clockAt) now() time.Time          { return c.t }
func (c *clockAt) advance(d time.Duration) { c.t = c.t.Add(d) }
func newTest(tty bool, plan map[string]int) (*Display, *bytes.Buffer, *clockAt) {
	var buf bytes.Buffer
	c := &clockAt{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	d := New(&buf, tty, plan)
	d.now, d.start = c.now, c.t
	return d, &buf, c
}

// unit runs one unit of secs seconds with a loop of steps.
func unit(d *Display, c *clockAt, stage, label string, secs float64, steps int) {
	d.StartUnit(stage, label)
	bar := NewBar(d, steps, "step")
	for range steps {
		c.advance(time.Duration(secs / float64(max(steps, 1)) * float64(time.Second)))
		bar.Add(1)
	}
	if steps == 0 {
		c.advance(time.Duration(secs * float64(time.Second)))
	}
	bar.Finish()
	d.EndUnit(stage, secs, true)
}

// TestLogLines: written to a file, the display prints one plain line per
// finished unit with its position and, once every stage left has a
// finished unit, the ETA; the steps of a training print nothing, and no
// line holds a carriage return.
func TestLogLines(t *testing.T) {
	d, buf, c := newTest(false, map[string]int{"train": 3, "evaluate": 3})
	unit(d, c, "train", "RouterDC, seed 1", 20, 100)
	unit(d, c, "evaluate", "RouterDC, seed 1", 1, 0)
	unit(d, c, "train", "RouterDC, seed 2", 40, 100)
	fmt.Fprintln(d, "a message")
	want := "[1/6] train RouterDC, seed 1: 20.0 s\n" +
		"[2/6] evaluate RouterDC, seed 1: 1.0 s, ETA 42s\n" + // 2 trains at 20 s, 2 evaluations at 1 s
		"[3/6] train RouterDC, seed 2: 40.0 s, ETA 32s\n" + // 1 train at 30 s, 2 evaluations at 1 s
		"a message\n"
	if got := buf.String(); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
}

// TestTerminalLine: on a terminal the display redraws one line with the
// running unit, its step, the elapsed time and the ETA.
func TestTerminalLine(t *testing.T) {
	d, buf, c := newTest(true, map[string]int{"train": 2})
	unit(d, c, "train", "RouterDC, seed 1", 10, 0)
	d.StartUnit("train", "RouterDC, seed 2")
	bar := NewBar(d, 1000, "step")
	c.advance(4 * time.Second)
	bar.Add(300)
	out := buf.String()
	last := out[strings.LastIndex(out, "\r")+1:]
	if want := "\x1b[K[1/2] train RouterDC, seed 2 (30%) · 14s elapsed · ETA 6s"; last != want {
		t.Errorf("line %q, want %q", last, want)
	}
	if strings.Contains(out, "\n") {
		t.Errorf("the terminal display wrote a newline: %q", out)
	}
	// A long label is cut, never the times.
	d.StartUnit("train", strings.Repeat("a very long method name ", 5))
	out = buf.String()
	last = out[strings.LastIndex(out, "\r")+1:]
	if n := len([]rune(last)) - len("\x1b[K"); n > 79 || !strings.Contains(last, "… · 14s elapsed · ETA ") {
		t.Errorf("long line (%d columns): %q", n, last)
	}
	buf.Reset()
	d.Close()
	if buf.String() != "\r\x1b[K" {
		t.Errorf("Close wrote %q, want the line cleared", buf.String())
	}
}

// TestBarInAFileWritesNothing: a training's bar given a log file (stderr
// redirected) writes nothing; it used to write a frame per redraw, and a
// cold reproduce left a log of several MB.
func TestBarInAFileWritesNothing(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bar := NewBar(f, 2000, "training")
	for range 2000 {
		bar.Add(1)
		time.Sleep(time.Microsecond)
	}
	bar.Finish()
	if st, _ := f.Stat(); st.Size() != 0 {
		t.Errorf("the bar wrote %d bytes into a file", st.Size())
	}
	if IsTerminal(f) {
		t.Error("a file reads as a terminal")
	}
}

func TestUnplannedUnitsRaiseTheTotal(t *testing.T) {
	d, buf, c := newTest(false, nil)
	unit(d, c, "train", "x", 1, 0)
	if got := buf.String(); got != "[1/1] train x: 1.0 s\n" {
		t.Errorf("got %q", got)
	}
}

func TestClock(t *testing.T) {
	for d, want := range map[time.Duration]string{12 * time.Second: "12s", 370 * time.Second: "6m10s", 3720 * time.Second: "1h02m"} {
		if got := clock(d); got != want {
			t.Errorf("clock(%v) = %q, want %q", d, got, want)
		}
	}
}

type liveBuffer struct{ bytes.Buffer }

func (*liveBuffer) Live() bool { return true }

// TestBarOnALiveWriter: a writer that redraws in place (a notebook's live
// line) gets a bar, as a terminal does.
func TestBarOnALiveWriter(t *testing.T) {
	var w liveBuffer
	bar := NewBar(&w, 10, "training")
	bar.Add(5)
	time.Sleep(250 * time.Millisecond) // past the bar's throttle
	bar.Add(5)
	bar.Finish()
	if !strings.Contains(w.String(), "training") {
		t.Errorf("no bar on a live writer: %q", w.String())
	}
}
