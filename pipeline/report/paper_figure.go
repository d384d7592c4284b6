package report

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/routerdc-go/routerdc/pipeline/figures"
)

// PaperFigure is the file name of the chart of Tables 1 and 2: ours beside
// the paper's published numbers, per task.
const PaperFigure = "paper-vs-ours.png"

// writePaperFigure draws tables (Tables 1 and 2, computed, with the paper's
// rows) as one panel each: per task, a bar per router present in both ours
// and the paper and for the best single LLM, ours as the bar (mean ± std
// over seeds) and the paper's published value as a line across it.
func writePaperFigure(path string, tables []*Table, seeds []int64) error {
	best, err := bestSingleLLM(tables)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var panels []figures.ComparisonPanel
	for _, t := range tables {
		var cats []string
		for _, c := range t.Columns {
			if c == CostColumn {
				continue
			}
			if c == AvgColumn {
				c = "average"
			}
			cats = append(cats, c)
		}
		pn := figures.ComparisonPanel{Categories: cats, Title: "In-distribution tasks (Table 1)"}
		if t.Part() == "OOD" {
			pn.Title = "Out-of-distribution tasks (Table 2)"
		}
		for _, r := range t.Rows {
			name := r.Method
			if r.Kind == KindLLM && r.Method == best[t.Name] {
				name = bestLLMLabel(tables, best)
			} else if r.Kind != KindBaseline && r.Kind != KindRouterDC {
				continue
			}
			if _, ok := t.Paper.Row(r.Method); !ok {
				continue
			}
			m := figures.Comparison{Name: name}
			for _, c := range t.Columns {
				if c == CostColumn {
					continue
				}
				m.Mean = append(m.Mean, r.Mean[c])
				if r.Seeds > 1 {
					m.Std = append(m.Std, r.Std[c])
				}
				pv, ok := t.Paper.Value(r.Method, c)
				if !ok {
					pv = math.NaN()
				}
				m.Paper = append(m.Paper, pv)
			}
			pn.Methods = append(pn.Methods, m)
		}
		panels = append(panels, pn)
	}
	title := fmt.Sprintf("Ours (offline hashed n-gram encoder, mean ± std over %s) beside the paper's published numbers (mDeBERTa encoder)",
		SeedList(seeds))
	return figures.PaperComparison(path, title, "test accuracy (%)", panels)
}

// bestSingleLLM is, per table, the candidate LLM with the highest average.
func bestSingleLLM(tables []*Table) (map[string]string, error) {
	best := map[string]string{}
	for _, t := range tables {
		hi := math.Inf(-1)
		for _, r := range t.Rows {
			if r.Kind == KindLLM && r.Mean[AvgColumn] > hi {
				best[t.Name], hi = r.Method, r.Mean[AvgColumn]
			}
		}
		if best[t.Name] == "" {
			return nil, errors.New("no candidate-LLM row to show as the best single LLM")
		}
	}
	return best, nil
}

// bestLLMLabel names the best single LLM row the same in every panel, so
// that it keeps one colour, even when ID and OOD have different best LLMs.
func bestLLMLabel(tables []*Table, best map[string]string) string {
	var parts []string
	same := true
	for _, t := range tables {
		parts = append(parts, t.Part()+": "+best[t.Name])
		same = same && best[t.Name] == best[tables[0].Name]
	}
	if same {
		return "best single LLM (" + best[tables[0].Name] + ")"
	}
	return "best single LLM (" + strings.Join(parts, ", ") + ")"
}

// SeedList says which seeds a mean is over: "seed 1", "seeds 1-5" for a
// run of consecutive seeds, else "seeds 1, 3, 7".
func SeedList(seeds []int64) string {
	if len(seeds) == 1 {
		return "seed " + strconv.FormatInt(seeds[0], 10)
	}
	consecutive := len(seeds) > 2
	for i := 1; i < len(seeds); i++ {
		consecutive = consecutive && seeds[i] == seeds[i-1]+1
	}
	if consecutive {
		return fmt.Sprintf("seeds %d-%d", seeds[0], seeds[len(seeds)-1])
	}
	s := make([]string, len(seeds))
	for i, v := range seeds {
		s[i] = strconv.FormatInt(v, 10)
	}
	return "seeds " + strings.Join(s, ", ")
}
