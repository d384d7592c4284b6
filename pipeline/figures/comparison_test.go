package figures

import (
	"math"
	"path/filepath"
	"testing"
)

func TestPaperComparison(t *testing.T) {
	nan := math.NaN()
	id := ComparisonPanel{Title: "In-distribution tasks", Categories: []string{"MMLU", "GSM8K", "average"}, Methods: []Comparison{
		{Name: "best single LLM", Mean: []float64{59.5, 69.8, 64.6}, Paper: []float64{59.5, 69.8, 64.6}},
		{Name: "RouterDC", Mean: []float64{60.2, 70.2, 65.2}, Std: []float64{0.2, 0.3, 0.2}, Paper: []float64{61.1, 70.3, 65.7}},
		{Name: "ours only", Mean: []float64{61, 69, 65}, Std: []float64{0.5, 0.4, 0.3}, Paper: []float64{nan, nan, nan}},
	}}
	ood := ComparisonPanel{Title: "Out-of-distribution tasks", Categories: []string{"MBPP", "average"}, Methods: []Comparison{
		{Name: "best single LLM", Mean: []float64{47.3, 47.3}, Paper: []float64{47.3, 47.3}},
		{Name: "RouterDC", Mean: []float64{44.9, 44.9}, Std: []float64{0.5, 0.5}, Paper: []float64{46.8, 46.8}},
		{Name: "ours only", Mean: []float64{45, 45}, Paper: []float64{nan, nan}},
	}}
	p := filepath.Join(outDir(t), "paper_vs_ours.png")
	if err := PaperComparison(p, "Ours beside the paper", "test accuracy (%)", []ComparisonPanel{id, ood}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 1200, 900)

	dir := t.TempDir()
	wantErr(t, "no panels", PaperComparison(filepath.Join(dir, "a.png"), "t", "y", nil), "at least one panel")
	short := ood
	short.Methods = ood.Methods[:2]
	wantErr(t, "methods differ", PaperComparison(filepath.Join(dir, "a.png"), "t", "y", []ComparisonPanel{id, short}), "same methods")
	bad := id
	bad.Methods = []Comparison{id.Methods[0], {Name: "RouterDC", Mean: id.Methods[1].Mean, Paper: []float64{1}}, id.Methods[2]}
	wantErr(t, "paper len", PaperComparison(filepath.Join(dir, "a.png"), "t", "y", []ComparisonPanel{bad}), "Paper")
}
