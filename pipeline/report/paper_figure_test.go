package report

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// paperTables are Tables 1 and 2 with one router row over 3 seeds and two
// LLM rows, whose best differs between ID and OOD.
func paperTables() []*Table {
	var out []*Table
	for i, t := range []*Table{Table1(), Table2()} {
		llm := func(name string, v float64) []map[string]float64 {
			m := map[string]float64{}
			for _, c := range t.Tasks() {
				m[c] = v
			}
			return []map[string]float64{m}
		}
		t.Add("Mistral-7B", KindLLM, "", llm("Mistral-7B", 40+10*float64(i)))
		t.Add("MetaMath-Mistral-7B", KindLLM, "", llm("MetaMath-Mistral-7B", 45))
		var seeds []map[string]float64
		for s := range 3 {
			m := map[string]float64{}
			for j, c := range t.Tasks() {
				m[c] = 50 + float64(j) + float64(s)
			}
			seeds = append(seeds, m)
		}
		t.Add("RouterDC", KindRouterDC, "hashed", seeds)
		t.Add("kNN router", "ours", "hashed", llm("kNN router", 60)) // not in the paper: not drawn
		out = append(out, t)
	}
	return out
}

func TestPaperFigure(t *testing.T) {
	tables := paperTables()
	best, err := bestSingleLLM(tables)
	if err != nil {
		t.Fatal(err)
	}
	if best["table1"] != "MetaMath-Mistral-7B" || best["table2"] != "Mistral-7B" {
		t.Errorf("best single LLMs %v", best)
	}
	if got := bestLLMLabel(tables, best); got != "best single LLM (ID: MetaMath-Mistral-7B, OOD: Mistral-7B)" {
		t.Errorf("label %q", got)
	}
	path := filepath.Join(t.TempDir(), PaperFigure)
	if err := writePaperFigure(path, tables, []int64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 900 {
		t.Errorf("%s is %dx%d, want 1200x900 (ID and OOD panels stacked)", path, b.Dx(), b.Dy())
	}
	if _, err := bestSingleLLM([]*Table{Table1()}); err == nil || !strings.Contains(err.Error(), "candidate-LLM") {
		t.Errorf("a table without LLM rows: %v", err)
	}
}

func TestSeedList(t *testing.T) {
	for _, c := range []struct {
		seeds []int64
		want  string
	}{
		{[]int64{1}, "seed 1"},
		{[]int64{1, 2}, "seeds 1, 2"},
		{[]int64{1, 2, 3, 4, 5}, "seeds 1-5"},
		{[]int64{1, 3, 7}, "seeds 1, 3, 7"},
	} {
		if got := SeedList(c.seeds); got != c.want {
			t.Errorf("SeedList(%v) = %q, want %q", c.seeds, got, c.want)
		}
	}
}
