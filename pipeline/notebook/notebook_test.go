package notebook

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

func TestRoot(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "notebooks")); err != nil {
		t.Errorf("root %s has no notebooks/: %v", root, err)
	}
	t.Chdir(t.TempDir())
	if _, err := Root(); err == nil || !strings.Contains(err.Error(), "notebooks/") {
		t.Errorf("outside the project: %v, want an error saying where to run", err)
	}
}

func TestTableHTML(t *testing.T) {
	df := dataframe.New(
		series.New([]string{"a<b", "c"}, series.String, "method"),
		series.New([]float64{1.234, math.NaN()}, series.Float, "acc"),
		series.New([]int{3, 4}, series.Int, "n"),
	)
	got := TableHTML(df, "cap & tion", 1)
	for _, want := range []string{"a&lt;b", "cap &amp; tion", ">1.2<", ">—<", `text-align:right;padding:2px 8px">3<`} {
		if !strings.Contains(got, want) {
			t.Errorf("HTML lacks %q:\n%s", want, got)
		}
	}
}

// The liveWriter is exercised without a notebook: only its line splitting is
// checked here (gonbui does nothing outside GoNB).
func TestLiveWriterSplitsLines(t *testing.T) {
	w := &liveWriter{id: "x"}
	in := []byte("\r 10% bar\r 20% bar\rdone\npartial")
	n, err := w.Write(in)
	if err != nil || n != len(in) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if string(w.line) != "partial" {
		t.Errorf("pending line %q, want %q", w.line, "partial")
	}
}

// The committed notebooks are the executed ones (`just notebooks`): every
// code cell ran, in order, and none ended in an error. CI executes them
// again with `just notebooks --check`.
func TestCommittedNotebooksAreExecuted(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(root, "notebooks", "[0-9]*.ipynb"))
	if len(paths) != 7 {
		t.Fatalf("%d notebooks, want 7: %v", len(paths), paths)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var nb struct {
			Metadata struct {
				Kernelspec struct{ Name string } `json:"kernelspec"`
			} `json:"metadata"`
			Cells []struct {
				Type    string          `json:"cell_type"`
				Count   *int            `json:"execution_count"`
				Source  json.RawMessage `json:"source"`
				Outputs []struct {
					Type  string `json:"output_type"`
					Ename string `json:"ename"`
				} `json:"outputs"`
			} `json:"cells"`
		}
		if err := json.Unmarshal(b, &nb); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		name := filepath.Base(p)
		if nb.Metadata.Kernelspec.Name != "gonb" {
			t.Errorf("%s: kernel %q, want gonb", name, nb.Metadata.Kernelspec.Name)
		}
		if len(nb.Cells) == 0 || nb.Cells[0].Type != "markdown" {
			t.Errorf("%s: must open with a markdown cell saying what it shows", name)
		}
		last := 0
		for i, c := range nb.Cells {
			if c.Type != "code" {
				continue
			}
			if c.Count == nil || *c.Count <= last {
				t.Errorf("%s: cell %d not executed in order (run `just notebooks`)", name, i)
				continue
			}
			last = *c.Count
			for _, o := range c.Outputs {
				if o.Type == "error" {
					t.Errorf("%s: cell %d ended with %s", name, i, o.Ename)
				}
			}
		}
		if last == 0 {
			t.Errorf("%s: no executed cell", name)
		}
	}
}

func TestRel(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	dataDir := filepath.Join(t.TempDir(), "routerdc-data")
	t.Setenv("ROUTERDC_DATA", dataDir)
	p := Paths{Root: filepath.Join(home, "src", "routerdc")}
	for in, want := range map[string]string{
		filepath.Join(p.Root, ".cache", "notebooks", "routerdc"): "./.cache/notebooks/routerdc",
		p.Root:                           ".",
		dataDir:                          "$ROUTERDC_DATA",
		filepath.Join(dataDir, "a.json"): "$ROUTERDC_DATA/a.json",
		filepath.Join(home, "data"):      "~/data",
		p.Root + "-other":                "~/src/routerdc-other",
		"/elsewhere/x":                   "/elsewhere/x",
	} {
		if got := p.Rel(in); got != want {
			t.Errorf("Rel(%s) = %s, want %s", in, got, want)
		}
	}
}

// With ROUTERDC_QUIET a progress writer drops bar updates (the
// carriage-return frames a saved notebook would freeze half-drawn) and keeps
// finished lines.
func TestProgressQuietDropsBars(t *testing.T) {
	var out strings.Builder
	w := &liveWriter{quiet: true, plain: &out}
	if _, err := w.Write([]byte("RouterDC, seed 1\r 10% |#  |\r 97% |## |\r          \rdone: 2 units\n")); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "RouterDC, seed 1\ndone: 2 units\n" && got != "done: 2 units\n" {
		t.Errorf("quiet progress wrote %q, want only the finished line", got)
	}
	t.Setenv("ROUTERDC_QUIET", "1")
	if lw, ok := Progress().(*liveWriter); !ok || !lw.quiet {
		t.Errorf("Progress() with ROUTERDC_QUIET = %#v, want a quiet writer", Progress())
	}
}

type notebookFile struct {
	Cells []struct {
		Type    string            `json:"cell_type"`
		Source  json.RawMessage   `json:"source"`
		Outputs []json.RawMessage `json:"outputs"`
	} `json:"cells"`
}

// readNotebooks reads every committed notebook, by file name.
func readNotebooks(t *testing.T) map[string]notebookFile {
	t.Helper()
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(root, "notebooks", "[0-9]*.ipynb"))
	if len(paths) == 0 {
		t.Fatal("no notebooks")
	}
	out := map[string]notebookFile{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var nb notebookFile
		if err := json.Unmarshal(b, &nb); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[filepath.Base(p)] = nb
	}
	return out
}

// text is a cell's source or an output's text: a string or a list of lines.
func text(t *testing.T, raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		t.Fatalf("cell source %.60s: %v", raw, err)
	}
	return strings.Join(lines, "")
}

// The committed outputs read the same on every machine: no absolute path
// of the machine that ran them, no progress bar frozen mid-draw.
func TestCommittedNotebookOutputsArePortable(t *testing.T) {
	bar := regexp.MustCompile(`\d+% ?\|`)
	for name, nb := range readNotebooks(t) {
		for i, c := range nb.Cells {
			for j, o := range c.Outputs {
				var out struct {
					Text json.RawMessage            `json:"text"`
					Data map[string]json.RawMessage `json:"data"`
				}
				if err := json.Unmarshal(o, &out); err != nil {
					t.Fatalf("%s cell %d output %d: %v", name, i, j, err)
				}
				parts := []json.RawMessage{out.Text}
				for mime, v := range out.Data {
					if strings.HasPrefix(mime, "text/") {
						parts = append(parts, v)
					}
				}
				for _, raw := range parts {
					if len(raw) == 0 {
						continue
					}
					s := text(t, raw)
					for _, abs := range []string{"/work/", "/home/", "/tmp/"} {
						if k := strings.Index(s, abs); k >= 0 {
							t.Errorf("%s cell %d output %d shows an absolute path: %q", name, i, j, s[max(0, k-40):min(len(s), k+40)])
						}
					}
					if strings.Contains(s, "\r") || bar.MatchString(s) {
						t.Errorf("%s cell %d output %d holds a progress bar frame: %.120q", name, i, j, s)
					}
				}
			}
		}
	}
}

// A measured number in a notebook's prose goes stale when the results are
// rerun: notebooks print such numbers from the data in a code cell.
func TestNotebookMarkdownQuotesNoMeasuredNumbers(t *testing.T) {
	// 56.47, 56.5 and +0.35 are measured; 0.5 (a setting) and 64% are not.
	measured := regexp.MustCompile(`\b(\d{2}\.\d{1,2}|\d\.\d{2})\b`)
	for name, nb := range readNotebooks(t) {
		for i, c := range nb.Cells {
			if c.Type != "markdown" {
				continue
			}
			if m := measured.FindAllString(text(t, c.Source), -1); len(m) > 0 {
				t.Errorf("%s markdown cell %d quotes %v: print them from the data in a code cell", name, i, m)
			}
		}
	}
}
