package figures

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"gonum.org/v1/plot"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
)

// TestValueRange: means of 55-57 with a std of up to 0.6 get an axis that
// covers every error bar and starts near the data, not at 0 (an axis from 0
// drew the sweeps' 1-point effects as slivers).
func TestValueRange(t *testing.T) {
	s := Series{Name: "ID", Mean: []float64{55, 56.2, 57}, Std: []float64{0.4, 0.1, 0.6}}
	lo, hi := valueRange([]Series{s})
	if lo > 55-0.4 || hi < 57+0.6 {
		t.Errorf("range %v..%v does not cover the error bars 54.6..57.6", lo, hi)
	}
	if lo < 50 || hi > 60 {
		t.Errorf("range %v..%v is not near the data 54.6..57.6", lo, hi)
	}
	// Data near 0 keep 0 and never go below it.
	if lo, _ := valueRange([]Series{{Mean: []float64{0.5, 10}}}); lo != 0 {
		t.Errorf("non-negative data near 0: axis starts at %v, want 0", lo)
	}
	// One value: a band around it rather than an empty range.
	if lo, hi := valueRange([]Series{{Mean: []float64{56}}}); !(lo < 56 && hi > 56) {
		t.Errorf("single value 56: range %v..%v", lo, hi)
	}
}

// TestSweepPanelsStartNearData: the panels the sweep figures draw (points
// over categories and lines over values) start their value axes near the
// data, one panel per series.
func TestSweepPanelsStartNearData(t *testing.T) {
	id := Series{Name: "ID average", Mean: []float64{56.0, 55.2, 56.9}, Std: []float64{0.7, 0.3, 0.5}}
	ood := Series{Name: "OOD average", Mean: []float64{44.4, 44.0, 43.1}, Std: []float64{0.6, 0.2, 0.3}}
	cats, err := categoryPanels("a.png", "group", "accuracy (%)", []string{"cluster", "task", "ours"}, []Series{id, ood})
	if err != nil {
		t.Fatal(err)
	}
	lines, err := linePanels("a.png", "lambda", "accuracy (%)", []float64{0, 0.5, 1}, []Series{id, ood})
	if err != nil {
		t.Fatal(err)
	}
	for _, ps := range [][]*plot.Plot{cats, lines} {
		if len(ps) != 2 {
			t.Fatalf("%d panels, want one per series", len(ps))
		}
		for i, p := range ps {
			s := []Series{id, ood}[i]
			lo, hi := math.Inf(1), math.Inf(-1)
			for j := range s.Mean {
				lo, hi = math.Min(lo, s.Mean[j]-s.Std[j]), math.Max(hi, s.Mean[j]+s.Std[j])
			}
			if p.Y.Min <= 0 || p.Y.Min > lo || p.Y.Max < hi || p.Y.Max-p.Y.Min > 2*(hi-lo) {
				t.Errorf("panel %q: value axis %v..%v, want just around %v..%v", p.Title.Text, p.Y.Min, p.Y.Max, lo, hi)
			}
			if p.X.Label.Text == "" || p.Y.Label.Text == "" {
				t.Errorf("panel %q lacks an axis label", p.Title.Text)
			}
		}
	}
}

// TestXAxis: the sweeps' value lists get a linear axis when their labels
// fit, a log axis when they fit on one, else evenly spaced categories.
func TestXAxis(t *testing.T) {
	for _, c := range []struct {
		x    []float64
		want xScale
	}{
		{[]float64{0, 0.1, 0.5, 1, 2, 5, 10}, categoricalX}, // lambda: crowded near 0, and 0 has no log
		{[]float64{50, 100, 200, 500, 1000, 2000}, logX},    // steps
		{[]float64{2, 3, 5, 8, 10, 15, 20, 30}, logX},       // clusters
		{[]float64{2, 3, 4, 5, 6, 7}, linearX},              // first k LLMs
		{[]float64{0, 1}, linearX},
	} {
		pos, ticks, scale := xAxis(c.x)
		if scale != c.want {
			t.Errorf("%v: scale %d, want %d", c.x, scale, c.want)
		}
		if ticks == nil || len(ticks.Ticks(0, 1)) != len(c.x) {
			t.Errorf("%v: want one labelled tick per value", c.x)
		}
		if scale == categoricalX && !slices.Equal(pos, []float64{0, 1, 2, 3, 4, 5, 6}) {
			t.Errorf("%v: categorical positions %v", c.x, pos)
		}
	}
}

func TestValueTicks(t *testing.T) {
	ticks := valueTicks{}.Ticks(54.3, 56.6)
	var labels []string
	for _, tk := range ticks {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if want := []string{"54.5", "55", "55.5", "56", "56.5"}; !slices.Equal(labels, want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
	if s := niceStep(0.72); s != 1 {
		t.Errorf("niceStep(0.72) = %v, want 1", s)
	}
	if s := niceStep(0.21); s != 0.25 {
		t.Errorf("niceStep(0.21) = %v, want 0.25", s)
	}
}

func TestExampleQuery(t *testing.T) {
	rows := [][]float64{
		{0, 0, 1, 0},           // one non-zero score: shows nothing
		{0.2, 0.2, 0.9, 0},     // two distinct
		{0.1, 0.5, 0.9, 0.3},   // four distinct, range 0.8
		{0.05, 0.5, 0.95, 0.7}, // four distinct, range 0.9: chosen
		{0.1, 0.5, 0.9, 0.3},
	}
	if got := ExampleQuery(rows); got != 3 {
		t.Errorf("ExampleQuery = %d, want 3", got)
	}
	if got := ExampleQuery([][]float64{{0, 0}, {0, 0}}); got != -1 {
		t.Errorf("all-zero scores: ExampleQuery = %d, want -1", got)
	}
}

// TestExampleQueryRealData: on the released training data the chosen
// query has at least 3 distinct non-zero scores; the first query (the old
// choice) has one.
func TestExampleQueryRealData(t *testing.T) {
	dir := datatest.RequireDir(t)
	var paths []string
	for _, task := range data.IDTasks() {
		paths = append(paths, filepath.Join(dir, task.Train))
	}
	sets, err := data.LoadConsistent(paths...)
	if err != nil {
		t.Fatal(err)
	}
	var scores [][]float64
	for _, ds := range sets {
		for _, q := range ds.Queries {
			scores = append(scores, q.Scores)
		}
	}
	distinct := func(row []float64) int {
		m := map[float64]bool{}
		for _, v := range row {
			if v != 0 {
				m[math.Round(v*1e6)] = true
			}
		}
		return len(m)
	}
	k := ExampleQuery(scores)
	if k < 0 || distinct(scores[k]) < 3 {
		t.Fatalf("chosen query %d has scores %v: fewer than 3 distinct non-zero", k, scores[max(k, 0)])
	}
	if ExampleQuery(scores) != k {
		t.Error("ExampleQuery is not deterministic")
	}
	t.Logf("query %d: %v (the first query: %v)", k, scores[k], scores[0])
}
