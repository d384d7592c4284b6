// Package notebook is what the Jupyter notebooks (GoNB kernel) share: where
// the project, its data, results and cache are, options that make the
// notebooks reuse the pipeline's cache, and display helpers for DataFrames,
// figures and progress. It holds no pipeline logic: notebooks call the
// pipeline packages, and this package only shows what they return.
// Outside a notebook every helper prints plain text, so a notebook's code
// also runs as an ordinary Go program.
package notebook

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
	"github.com/janpfeifer/gonb/gonbui"

	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/experiments"
)

const module = "github.com/routerdc-go/routerdc"

// Root is the project's directory: the first directory at or above the
// working directory (a notebook runs in notebooks/) whose go.mod declares
// this module.
func Root() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil {
			sc := bufio.NewScanner(bytes.NewReader(b))
			for sc.Scan() {
				if strings.TrimSpace(sc.Text()) == "module "+module {
					return d, nil
				}
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod of %s at or above %s: run the notebook from the project's notebooks/ directory", module, wd)
		}
	}
}

// Paths are the project's directories as the CLI uses them.
type Paths struct {
	Root    string
	Data    string // $ROUTERDC_DATA, else <root>/data
	Results string // <root>/results
	Cache   string // <root>/.cache/routerdc, the CLI's default cache
}

// Locate finds the project and checks that the data is there.
func Locate() (Paths, error) {
	root, err := Root()
	if err != nil {
		return Paths{}, err
	}
	p := Paths{Root: root, Results: filepath.Join(root, "results"), Cache: filepath.Join(root, ".cache", "routerdc")}
	p.Data = os.Getenv(data.EnvVar)
	if p.Data == "" {
		p.Data = filepath.Join(root, "data")
	}
	if err := data.CheckDir(p.Data); err != nil {
		return p, fmt.Errorf("%w\n(run `just data` in %s, or set %s)", err, root, data.EnvVar)
	}
	return p, nil
}

// Rel is how a notebook prints a path: relative to the project when inside
// it, $ROUTERDC_DATA/... under the data directory given there, ~/... under
// the home directory. Saved outputs then show no machine's absolute paths.
func (p Paths) Rel(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	under := func(dir string) (string, bool) {
		if dir == "" {
			return "", false
		}
		dir, err := filepath.Abs(dir)
		if err != nil {
			return "", false
		}
		rel, err := filepath.Rel(dir, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", false
		}
		return rel, true
	}
	join := func(base, rel string) string {
		if rel == "." {
			return base
		}
		return base + "/" + filepath.ToSlash(rel)
	}
	if rel, ok := under(p.Root); ok {
		return join(".", rel)
	}
	if rel, ok := under(os.Getenv(data.EnvVar)); ok {
		return join("$"+data.EnvVar, rel)
	}
	if home, err := os.UserHomeDir(); err == nil {
		if rel, ok := under(home); ok {
			return join("~", rel)
		}
	}
	return path
}

// Options are experiments.Options that read and fill the same cache as
// `just reproduce`, so a notebook reuses whatever the pipeline has already
// computed and leaves what it computes for the pipeline. Results go to a
// scratch directory, never over the committed results/.
func (p Paths) Options() (experiments.Options, error) {
	store, err := cache.Open(p.Cache, cache.DefaultWait, Progress())
	if err != nil {
		return experiments.Options{}, err
	}
	out, err := os.MkdirTemp("", "routerdc-notebook-")
	if err != nil {
		return experiments.Options{}, err
	}
	return experiments.Options{DataDir: p.Data, Out: out, Cache: store, Progress: Progress()}, nil
}

// Must stops the cell with err's message: notebooks read best without an
// error check after every call.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Check is Must for functions that only return an error.
func Check(err error) {
	if err != nil {
		panic(err)
	}
}

// Markdown shows markdown text.
func Markdown(md string) {
	if gonbui.IsNotebook {
		gonbui.DisplayMarkdown(md)
		return
	}
	fmt.Println(md)
}

// Table shows a DataFrame as an HTML table: floats with decimals digits,
// NaN as "—" (a cell that does not exist, e.g. a row the paper lacks).
func Table(df dataframe.DataFrame, caption string, decimals int) {
	if df.Err != nil {
		panic(df.Err)
	}
	if !gonbui.IsNotebook {
		fmt.Println(caption)
		fmt.Println(df)
		return
	}
	gonbui.DisplayHTML(TableHTML(df, caption, decimals))
}

// TableHTML renders df as an HTML table (numbers right-aligned).
func TableHTML(df dataframe.DataFrame, caption string, decimals int) string {
	var b strings.Builder
	b.WriteString(`<table style="border-collapse:collapse;font-size:90%">`)
	if caption != "" {
		fmt.Fprintf(&b, `<caption style="caption-side:top;text-align:left;font-weight:bold">%s</caption>`, html.EscapeString(caption))
	}
	b.WriteString("<thead><tr>")
	for _, n := range df.Names() {
		fmt.Fprintf(&b, `<th style="text-align:left;padding:2px 8px">%s</th>`, html.EscapeString(n))
	}
	b.WriteString("</tr></thead><tbody>")
	types := df.Types()
	for i := 0; i < df.Nrow(); i++ {
		b.WriteString("<tr>")
		for j := range df.Names() {
			e := df.Elem(i, j)
			align, text := "left", e.String()
			switch types[j] {
			case series.Float:
				align = "right"
				if v := e.Float(); math.IsNaN(v) {
					text = "—"
				} else {
					text = fmt.Sprintf("%.*f", decimals, v)
				}
			case series.Int:
				align = "right"
			}
			fmt.Fprintf(&b, `<td style="text-align:%s;padding:2px 8px">%s</td>`, align, html.EscapeString(text))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	return b.String()
}

// Image shows a PNG file (a figure the pipeline wrote).
func Image(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(fmt.Errorf("%w (the figure is written by `just reproduce` / `just ablate`)", err))
	}
	if !gonbui.IsNotebook {
		fmt.Printf("[figure %s, %d bytes]\n", path, len(b))
		return
	}
	gonbui.DisplayPNG(b)
}

// Figure draws with one of the figures package's functions (they write a
// PNG to a path) into a temporary file and shows it.
func Figure(draw func(path string) error) {
	dir, err := os.MkdirTemp("", "routerdc-figure-")
	Check(err)
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "figure.png")
	Check(draw(path))
	Image(path)
}

// Progress is where the pipeline's progress bars go in a notebook: each
// bar update (a carriage-return-terminated line) replaces one live line
// below the cell, and finished lines stay. Outside a notebook it is stderr.
// With ROUTERDC_QUIET set (the notebooks' first cell sets it, so that no
// half-drawn bar is saved with the outputs) bar updates are dropped and
// only finished lines are shown.
func Progress() io.Writer {
	quiet := os.Getenv("ROUTERDC_QUIET") != ""
	if !gonbui.IsNotebook {
		if quiet {
			return &liveWriter{quiet: true, plain: os.Stderr}
		}
		return os.Stderr
	}
	return &liveWriter{id: "progress_" + gonbui.UniqueID(), quiet: quiet}
}

type liveWriter struct {
	mu     sync.Mutex
	quiet  bool      // drop bar updates, keep finished lines
	plain  io.Writer // finished lines go here, not to the notebook, when set
	id     string
	line   []byte
	shown  string // what the live line shows
	latest string // the newest bar state, shown or not
	last   time.Time
}

// Live tells progress.NewBar that the writer redraws a "\r" line in place.
func (w *liveWriter) Live() bool { return true }

func (w *liveWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range p {
		switch c {
		case '\r':
			if !w.quiet {
				w.update()
			}
			w.line = w.line[:0]
		case '\n':
			if s := strings.TrimSpace(string(w.line)); s != "" {
				w.finished(s)
			}
			w.line = w.line[:0]
		default:
			w.line = append(w.line, c)
		}
	}
	return len(p), nil
}

// finished shows a finished line below the cell (or on w.plain).
func (w *liveWriter) finished(s string) {
	if w.plain != nil {
		fmt.Fprintln(w.plain, s)
		return
	}
	gonbui.DisplayHTML(pre(s))
}

// update shows the bar state just completed, at most 5 times a second: the
// bars already throttle, but several bars may share the writer. A bar that
// clears itself when done (a blank state) leaves its last state shown, so
// the saved notebook shows how the bar ended rather than a throttled
// earlier state.
func (w *liveWriter) update() {
	s := strings.TrimSpace(string(w.line))
	if s != "" {
		w.latest = s
		if time.Since(w.last) < 200*time.Millisecond {
			return
		}
	}
	if w.latest == "" || w.latest == w.shown {
		return
	}
	w.last, w.shown = time.Now(), w.latest
	gonbui.UpdateHTML(w.id, pre(w.latest))
}

func pre(s string) string { return `<pre style="margin:0">` + html.EscapeString(s) + "</pre>" }

// EnsureTables makes sure results/tables exists: the committed tables, or
// else the paper declaration is run through the pipeline (as `just
// reproduce` does, with the same cache), which writes them.
func (p Paths) EnsureTables() error {
	if _, err := os.Stat(filepath.Join(p.Results, "tables", "table1.csv")); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	d, err := experiments.Load("paper")
	if err != nil {
		return err
	}
	o, err := p.Options()
	if err != nil {
		return err
	}
	defer os.RemoveAll(o.Out)
	o.Out = p.Results
	_, err = experiments.Run(d, o)
	return err
}
