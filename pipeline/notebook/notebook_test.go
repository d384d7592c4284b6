package notebook

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
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
