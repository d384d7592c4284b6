// Package progress is the one progress display of a pipeline run: units
// done out of the units the plan says will run, the units now running (one
// per lane when several run at once: Lanes) and the step within each, the
// elapsed time and an ETA.
//
// On a terminal it redraws one line. Written to anything else (a log file,
// a pipe) it prints one plain line per finished unit and never a carriage
// return, so a log stays small and readable. ROUTERDC_QUIET silences it:
// the commands then pass no writer at all.
//
// The display travels down the pipeline as the io.Writer the stages already
// take for their messages; the engine and the long loops find it there
// (Tracker, Stepper) without new parameters.
package progress

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Quiet says whether the user asked for no progress output.
func Quiet() bool { return os.Getenv("ROUTERDC_QUIET") != "" }

// Live is a writer that shows a "\r"-redrawn line in place, as a
// terminal does (a notebook's live output line).
type Live interface{ Live() bool }

// IsTerminal says whether w is a terminal (or Live), where a redrawn line
// reads well; in a file every redraw would stay as one more frame.
func IsTerminal(w io.Writer) bool {
	if l, ok := w.(Live); ok {
		return l.Live()
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Tracker hears of each unit the engine computes (not the ones it loads
// from the cache). seconds is the unit's own time, without the units it
// pulled in.
type Tracker interface {
	StartUnit(stage, label string)
	EndUnit(stage string, seconds float64, ok bool)
}

// Stepper shows the steps of a long loop inside the running unit.
type Stepper interface {
	Steps(n int, what string) Bar
}

// Bar counts a loop's steps.
type Bar interface {
	Add(n int)
	Finish()
}

type nopBar struct{}

func (nopBar) Add(int) {}
func (nopBar) Finish() {}

// NewBar is the step counter of a loop of n steps that reports to w: the
// display's when w is one, a bar of its own on a terminal, and nothing
// otherwise (a file would collect every redraw).
func NewBar(w io.Writer, n int, what string) Bar {
	switch {
	case w == nil:
		return nopBar{}
	case isStepper(w):
		return w.(Stepper).Steps(n, what)
	case IsTerminal(w):
		return termBar{progressbar.NewOptions(n, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())}
	}
	return nopBar{}
}

func isStepper(w io.Writer) bool { _, ok := w.(Stepper); return ok }

type termBar struct{ b *progressbar.ProgressBar }

func (t termBar) Add(n int) { _ = t.b.Add(n) }
func (t termBar) Finish()   { _ = t.b.Finish() }

// StartUnit and EndUnit tell w of a unit when w tracks units; validate
// runs, which train outside the engine, report through them.
func StartUnit(w io.Writer, stage, label string) {
	if t, ok := w.(Tracker); ok {
		t.StartUnit(stage, label)
	}
}

func EndUnit(w io.Writer, stage string, seconds float64, ok bool) {
	if t, isT := w.(Tracker); isT {
		t.EndUnit(stage, seconds, ok)
	}
}

type running struct {
	stage, label string
	start        time.Time
	step, steps  int
	what         string
}

// Display is the progress of a whole run.
type Display struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	now   func() time.Time
	start time.Time
	// plan is the number of units to run per stage; done and secs what
	// has finished.
	plan   map[string]int
	stages []string // plan's stages in a fixed order, for the ETA sum
	done   map[string]int
	secs   map[string]float64
	nDone  int
	// lanes are the units running at once (Lanes), each a stack of
	// running units, innermost last; lanes[0] is the display's own.
	lanes    []*lane
	lastDraw time.Time
	drawn    bool
}

// lane is one line of work: the units one goroutine runs, nested as the
// engine pulls stages in.
type lane struct {
	d     *Display
	stack []*running
}

// New is a display writing to w; tty chooses the redrawn line. plan is
// the number of units that will run per stage (the dry run's count).
func New(w io.Writer, tty bool, plan map[string]int) *Display {
	d := &Display{w: w, tty: tty, now: time.Now, plan: map[string]int{}, done: map[string]int{}, secs: map[string]float64{}}
	d.lanes = []*lane{{d: d}}
	d.start = d.now()
	for st, n := range plan {
		if n > 0 {
			d.plan[st] = n
			d.stages = append(d.stages, st)
		}
	}
	slices.Sort(d.stages)
	return d
}

// total is the planned units, or more when more ran than planned (a unit
// the plan could not foresee).
func (d *Display) total() int {
	t := 0
	for _, n := range d.plan {
		t += n
	}
	return max(t, d.nDone+d.running())
}

// running counts the units started and not finished, in every lane.
func (d *Display) running() int {
	n := 0
	for _, l := range d.lanes {
		n += len(l.stack)
	}
	return n
}

// Write passes a message through, on a terminal above the progress line.
func (d *Display) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	shown := d.drawn
	d.clear()
	n, err := d.w.Write(p)
	if shown {
		d.draw(true)
	}
	return n, err
}

// StartUnit is Tracker's.
func (d *Display) StartUnit(stage, label string) { d.lanes[0].StartUnit(stage, label) }

// EndUnit is Tracker's.
func (d *Display) EndUnit(stage string, seconds float64, ok bool) {
	d.lanes[0].EndUnit(stage, seconds, ok)
}

// Steps is Stepper's: the running unit's loop.
func (d *Display) Steps(n int, what string) Bar { return d.lanes[0].Steps(n, what) }

func (l *lane) Write(p []byte) (int, error) { return l.d.Write(p) }

func (l *lane) StartUnit(stage, label string) {
	d := l.d
	d.mu.Lock()
	defer d.mu.Unlock()
	l.stack = append(l.stack, &running{stage: stage, label: label, start: d.now()})
	d.draw(true)
}

func (l *lane) EndUnit(stage string, seconds float64, ok bool) {
	d := l.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(l.stack) == 0 {
		return
	}
	u := l.stack[len(l.stack)-1]
	l.stack = l.stack[:len(l.stack)-1]
	if !ok {
		d.draw(true)
		return
	}
	d.nDone++
	d.done[stage]++
	d.secs[stage] += seconds
	if d.tty {
		d.draw(true)
		return
	}
	line := fmt.Sprintf("[%d/%d] %s %s: %s", d.nDone, d.total(), u.stage, u.label, seconds1(seconds))
	if eta, ok := d.eta(); ok && d.nDone < d.total() {
		line += ", ETA " + clock(eta)
	}
	fmt.Fprintln(d.w, line)
}

func (l *lane) Steps(n int, what string) Bar {
	d := l.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(l.stack) == 0 {
		return nopBar{}
	}
	u := l.stack[len(l.stack)-1]
	u.step, u.steps, u.what = 0, n, what
	return &stepBar{d: d, u: u}
}

// Lanes returns the writers of n units run at once, one per goroutine,
// and release, to call once they have all finished. A display gives each
// a lane of its one line: the line shows every lane's running unit, and
// the ETA counts the lanes as working side by side. Any other writer is
// shared behind one lock, so that concurrent messages stay whole, and is
// no terminal to NewBar: two bars redrawing one line would scramble it.
// nil stays nil.
func Lanes(w io.Writer, n int) (lanes []io.Writer, release func()) {
	lanes = make([]io.Writer, n)
	if l, ok := w.(*lane); ok { // units run at once inside a lane's unit
		w = l.d
	}
	switch d := w.(type) {
	case nil:
		return lanes, func() {}
	case *Display:
		d.mu.Lock()
		defer d.mu.Unlock()
		var mine []*lane
		for i := range lanes {
			l := &lane{d: d}
			mine, lanes[i] = append(mine, l), l
		}
		d.lanes = append(d.lanes, mine...)
		return lanes, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			d.lanes = slices.DeleteFunc(d.lanes, func(l *lane) bool { return slices.Contains(mine, l) })
		}
	}
	shared := &lockedWriter{w: w}
	for i := range lanes {
		lanes[i] = shared
	}
	return lanes, func() {}
}

// lockedWriter serialises the writes of concurrent units.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type stepBar struct {
	d *Display
	u *running
}

func (b *stepBar) Add(n int) {
	b.d.mu.Lock()
	defer b.d.mu.Unlock()
	b.u.step += n
	b.d.draw(false)
}

func (b *stepBar) Finish() {
	b.d.mu.Lock()
	defer b.d.mu.Unlock()
	b.u.steps = 0
}

// Close clears the progress line; what follows (the outputs, an error)
// starts on a clean line. A nil display has nothing to clear.
func (d *Display) Close() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clear()
}

// eta is the time the units left will take: each stage's units left at the
// mean time of its finished units, less the time the running unit has had.
// It is unknown until every stage with units left has finished one: the
// stages' times differ by orders of magnitude (an embedding takes 0.1 s, a
// training minutes), so no stage stands in for another.
func (d *Display) eta() (time.Duration, bool) {
	var left float64
	for _, st := range d.stages {
		n := d.plan[st] - d.done[st]
		if n <= 0 {
			continue
		}
		if d.done[st] == 0 {
			return 0, false
		}
		left += float64(n) * d.secs[st] / float64(d.done[st])
	}
	for _, u := range d.current() {
		if d.done[u.stage] > 0 {
			left -= min(d.now().Sub(u.start).Seconds(), d.secs[u.stage]/float64(d.done[u.stage]))
		}
	}
	// Lanes work side by side: the units left share them, as long as
	// there are units enough to fill them.
	if par := min(len(d.lanes)-1, d.total()-d.nDone); par > 1 {
		left /= float64(par)
	}
	return time.Duration(max(left, 0) * float64(time.Second)), true
}

// current is each lane's innermost running unit, in the lanes' order.
func (d *Display) current() []*running {
	var out []*running
	for _, l := range d.lanes {
		if len(l.stack) > 0 {
			out = append(out, l.stack[len(l.stack)-1])
		}
	}
	return out
}

// line is the terminal's progress line; the running unit's label is cut
// to keep the position, times and ETA in view.
func (d *Display) line() string {
	head := fmt.Sprintf("[%d/%d]", d.nDone, d.total())
	tail := fmt.Sprintf(" · %s elapsed", clock(d.now().Sub(d.start)))
	if eta, ok := d.eta(); ok {
		tail += " · ETA " + clock(eta)
	}
	// A line longer than the terminal wraps, and "\r" then redraws only
	// its last part: keep it within the usual 80 columns, each running
	// unit's part cut to its share.
	room := 79 - len([]rune(head)) - len([]rune(tail))
	cur := d.current()
	var unit string
	for i, u := range cur {
		part, step := " "+u.stage+" "+u.label, ""
		if i > 0 {
			part = " |" + part
		}
		if u.steps > 0 {
			step = fmt.Sprintf(" (%d%%)", 100*min(u.step, u.steps)/u.steps)
		}
		// The label is cut, not the step: that is what moves.
		if r, share := []rune(part), room/len(cur)-len(step); len(r) > share {
			part = string(r[:max(share-1, 0)]) + "…"
		}
		unit += part + step
	}
	return head + unit + tail
}

// draw redraws the terminal line; step updates at most 5 times a second.
func (d *Display) draw(force bool) {
	if !d.tty {
		return
	}
	now := d.now()
	if !force && now.Sub(d.lastDraw) < 200*time.Millisecond {
		return
	}
	d.lastDraw = now
	fmt.Fprint(d.w, "\r\x1b[K"+d.line())
	d.drawn = true
}

func (d *Display) clear() {
	if d.tty && d.drawn {
		fmt.Fprint(d.w, "\r\x1b[K")
		d.drawn = false
	}
}

func seconds1(s float64) string { return fmt.Sprintf("%.1f s", s) }

// clock prints a duration as 6m10s, 1h02m or 12s.
func clock(t time.Duration) string {
	t = t.Round(time.Second)
	h, m, s := int(t.Hours()), int(t.Minutes())%60, int(t.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}
