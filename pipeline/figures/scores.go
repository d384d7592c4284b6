package figures

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/routerdc-go/routerdc/pipeline/data"
)

// ScoreNormalization draws one query's score per LLM next to softmax(scores),
// the target distribution of ZOOTER-style distillation: it shows how softmax
// flattens scores in [0,1] towards uniform, so a KL loss against it barely
// separates good from bad LLMs. LLM ids are shown by their paper names.
func ScoreNormalization(path string, llms []string, scores []float64, title string) error {
	if path == "" {
		return errNoPath
	}
	if len(llms) == 0 {
		return errors.New("figures: ScoreNormalization needs at least one LLM")
	}
	if err := checkLen("scores", len(scores), len(llms)); err != nil {
		return err
	}
	if err := checkFinite("scores", scores); err != nil {
		return err
	}
	names := make([]string, len(llms))
	for i, l := range llms {
		names[i] = data.ShortName(l)
	}
	p := newPlot(title, "candidate LLM", "value (unitless, 0-1)")
	addGrid(p)
	fitXTicks(p, names, 1)
	if _, err := groupedBars(p, names, []Series{
		{Name: "raw score", Mean: scores},
		{Name: "softmax(scores)", Mean: softmax(scores)},
	}); err != nil {
		return err
	}
	p.Y.Min = math.Min(0, p.Y.Min)
	return figure{w: singleW, h: singleH, panels: p1(p), legend: moveLegendOut(p)}.save(path)
}

// ExampleQuery picks, from the rows of scores (one per query, one score per
// LLM), the query that shows ScoreNormalization's point best: the most
// distinct non-zero scores (a query with one non-zero score shows only that
// softmax lifts the zeros), then the widest range, then the first. It
// returns -1 when no query has a non-zero score.
func ExampleQuery(scores [][]float64) int {
	best, bestDistinct, bestRange := -1, 0, 0.0
	for i, row := range scores {
		distinct := map[float64]bool{}
		for _, v := range row {
			if v != 0 && !math.IsNaN(v) {
				// Round so that float noise does not count as a distinct score.
				distinct[math.Round(v*1e6)] = true
			}
		}
		if len(distinct) == 0 {
			continue
		}
		lo, hi := minMax(row)
		if len(distinct) > bestDistinct || len(distinct) == bestDistinct && hi-lo > bestRange {
			best, bestDistinct, bestRange = i, len(distinct), hi-lo
		}
	}
	return best
}

func softmax(v []float64) []float64 {
	m := slices.Max(v)
	out := make([]float64, len(v))
	sum := 0.0
	for i, x := range v {
		out[i] = math.Exp(x - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// TopTwoGaps returns, for every query of every dataset, the difference
// between its highest and second-highest raw score. Queries scored for fewer
// than two LLMs have no gap and are skipped.
func TopTwoGaps(sets []*data.Dataset) []float64 {
	var gaps []float64
	for _, ds := range sets {
		if ds == nil {
			continue
		}
		for _, q := range ds.Queries {
			if len(q.Scores) < 2 {
				continue
			}
			first, second := math.Inf(-1), math.Inf(-1)
			for _, s := range q.Scores {
				if s > first {
					first, second = s, first
				} else if s > second {
					second = s
				}
			}
			gaps = append(gaps, first-second)
		}
	}
	return gaps
}

// ScoreGap draws the distribution of top-2 score gaps (percent of queries
// per bin) with a line at smallGap, and returns the share (0-1) of queries
// whose gap is strictly below smallGap, which the title also states.
func ScoreGap(path string, gaps []float64, smallGap float64) (shareSmall float64, err error) {
	if path == "" {
		return 0, errNoPath
	}
	if len(gaps) == 0 {
		return 0, errors.New("figures: ScoreGap needs at least one gap")
	}
	if err := checkFinite("gaps", gaps); err != nil {
		return 0, err
	}
	if !(smallGap > 0) || math.IsInf(smallGap, 0) {
		return 0, fmt.Errorf("figures: smallGap = %v, want a positive finite threshold", smallGap)
	}
	small := 0
	for i, g := range gaps {
		if g < 0 {
			return 0, fmt.Errorf("figures: gaps[%d] = %v is negative; a top-2 gap is best minus second best", i, g)
		}
		if g < smallGap {
			small++
		}
	}
	shareSmall = float64(small) / float64(len(gaps))

	// Bins are aligned so that smallGap is a bin edge: then the bars left of
	// the line add up to exactly the share in the title.
	hi := math.Max(slices.Max(gaps), smallGap)
	perSmall := math.Max(1, math.Round(40*smallGap/hi))
	width := smallGap / perSmall
	n := int(math.Floor(hi/width)) + 1
	h := &plotter.Histogram{Width: width, FillColor: seriesColor(0), LineStyle: plotter.DefaultLineStyle}
	h.LineStyle.Width = vg.Points(0.5)
	h.Bins = make([]plotter.HistogramBin, n)
	for i := range h.Bins {
		h.Bins[i].Min, h.Bins[i].Max = float64(i)*width, float64(i+1)*width
	}
	for _, g := range gaps {
		h.Bins[min(int(g/width), n-1)].Weight += 100 / float64(len(gaps))
	}

	title := fmt.Sprintf("Top-2 LLM score gap: %.1f%% of %d queries have gap < %g", 100*shareSmall, len(gaps), smallGap)
	p := newPlot(title, "score gap, best minus second-best LLM (score units, 0-1)", "queries (%)")
	addGrid(p)
	p.Add(h)
	_, _, _, ymax := h.DataRange()
	line, err := plotter.NewLine(plotter.XYs{{X: smallGap, Y: 0}, {X: smallGap, Y: ymax * 1.05}})
	if err != nil {
		return 0, err
	}
	line.Color = palette10[3]
	line.Width = vg.Points(2)
	line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	p.Legend.Add(fmt.Sprintf("gap = %g", smallGap), line)
	p.Legend.Add("queries per bin", h)
	p.Add(line)
	p.X.Min, p.Y.Min = 0, 0
	return shareSmall, figure{w: singleW, h: singleH, panels: p1(p)}.save(path)
}
