package figures

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/evaluate"
)

func costPts(xy ...float64) []evaluate.CostPoint {
	var out []evaluate.CostPoint
	for i := 0; i < len(xy); i += 2 {
		out = append(out, evaluate.CostPoint{Cost: xy[i], Quality: xy[i+1]})
	}
	return out
}

var costLLMs = []LabeledPoint{
	{"Mistral-7B", 2e-5, 52}, {"Llama-3-8B", 5e-5, 61}, {"GPT-3.5", 4e-4, 68}, {"GPT-4", 8e-3, 81},
}

func TestCostQuality(t *testing.T) {
	dir := outDir(t)
	routers := []CostCurve{
		// Unsorted sweep, with a dominated setting the hull skips.
		{"RouterDC", costPts(3e-3, 80, 3e-5, 58, 4e-4, 70, 1e-3, 69, 6e-3, 82)},
		{"kNN", costPts(2e-5, 52, 2e-4, 62, 5e-3, 79)},
	}
	logPath := filepath.Join(dir, "cost_quality_log.png")
	if err := CostQuality(logPath, "Cost vs accuracy (log cost axis)", costLLMs, routers); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, logPath, 800, 500)

	// Costs within 20x: a linear axis, and a free LLM (cost 0) is allowed.
	linLLMs := []LabeledPoint{{"local", 0, 40}, {"a", 1e-3, 60}, {"b", 3e-3, 75}}
	linPath := filepath.Join(dir, "cost_quality_linear.png")
	if err := CostQuality(linPath, "Cost vs accuracy", linLLMs, []CostCurve{{"R", costPts(0, 40, 2e-3, 72)}}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, linPath, 800, 500)
}

// The legend's AIQ is evaluate.AIQ over the LLMs' cost range, checked on a
// case computed by hand: LLMs at costs 1 and 3 set the range [1, 3]; R's
// hull is the line from (1, 10) to (3, 30) (the point (2, 15) is under it),
// whose mean over [1, 3] is 20. S has one point at cost 2: 0 on [1, 2),
// 60 on [2, 3], so 30.
func TestCostQualityLegendAIQ(t *testing.T) {
	llms := []LabeledPoint{{"cheap", 1, 10}, {"dear", 3, 30}}
	routers := []CostCurve{{"R", costPts(3, 30, 1, 10, 2, 15)}, {"S", costPts(2, 60)}}
	got, err := costLegend(llms, routers)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"R (AIQ 20.00)", "S (AIQ 30.00)"}; !slices.Equal(got, want) {
		t.Errorf("legend %q, want %q", got, want)
	}
	if err := CostQuality(filepath.Join(t.TempDir(), "c.png"), "t", llms, routers); err != nil {
		t.Fatal(err)
	}
}

func TestCostQualityErrors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.png")
	nan := math.NaN()
	r := []CostCurve{{"R", costPts(1e-3, 50)}}
	wantErr(t, "no path", CostQuality("", "t", costLLMs, r), "path")
	wantErr(t, "no LLMs", CostQuality(p, "t", nil, r), "at least one LLM")
	wantErr(t, "no routers", CostQuality(p, "t", costLLMs, nil), "at least one router")
	wantErr(t, "router without points", CostQuality(p, "t", costLLMs, []CostCurve{{"R", nil}}), `router "R" has no points`)
	wantErr(t, "unnamed LLM", CostQuality(p, "t", []LabeledPoint{{"", 1, 2}, {"b", 2, 3}}, r), "no name")
	wantErr(t, "unnamed router", CostQuality(p, "t", costLLMs, []CostCurve{{"", costPts(1, 2)}}), "no name")
	wantErr(t, "NaN LLM cost", CostQuality(p, "t", []LabeledPoint{{"a", nan, 2}, {"b", 2, 3}}, r), `LLM "a" cost NaN`)
	wantErr(t, "negative LLM cost", CostQuality(p, "t", []LabeledPoint{{"a", -1, 2}, {"b", 2, 3}}, r), "non-negative")
	wantErr(t, "NaN router accuracy", CostQuality(p, "t", costLLMs, []CostCurve{{"R", costPts(1e-3, 50, 2e-3, nan)}}),
		`router "R" point 1 accuracy NaN`)
	wantErr(t, "Inf router cost", CostQuality(p, "t", costLLMs, []CostCurve{{"R", costPts(math.Inf(1), 50)}}), "finite")
	wantErr(t, "one LLM cost", CostQuality(p, "t", []LabeledPoint{{"a", 1, 2}, {"b", 1, 3}}, r), "span no range")
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(p), "*")); len(m) > 0 {
		t.Errorf("refused input still wrote %v", m)
	}
}
