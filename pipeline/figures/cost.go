package figures

import (
	"cmp"
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/routerdc-go/routerdc/pipeline/evaluate"
)

// LabeledPoint is one LLM used alone: its average cost per query in dollars
// and its accuracy in percent.
type LabeledPoint struct {
	Name          string
	Cost, Quality float64
}

// CostCurve is one router's cost_rate sweep: one point per setting, Cost in
// dollars per query and Quality in percent, in any order.
type CostCurve struct {
	Name   string
	Points []evaluate.CostPoint
}

// CostQuality draws the cost-accuracy plane: each LLM alone as a labelled
// black point, each router as a line through its sweep points by cost with
// its non-decreasing hull dashed, and each router's AIQ (evaluate.AIQ over
// the range of the LLMs' costs, as RouterBench reports it) in the legend.
// The cost axis is logarithmic when the costs span 20x or more, so that
// cheap models do not pile up at the left edge.
func CostQuality(path, title string, llms []LabeledPoint, routers []CostCurve) error {
	if path == "" {
		return errNoPath
	}
	labels, err := costLegend(llms, routers)
	if err != nil {
		return err
	}
	lo, hi := llmCostRange(llms)
	all := make([]float64, 0, len(llms))
	for _, l := range llms {
		all = append(all, l.Cost)
	}
	for _, r := range routers {
		for _, pt := range r.Points {
			all = append(all, pt.Cost)
		}
	}
	cmin, cmax := minMax(all)
	logX := cmin > 0 && cmax >= 20*cmin

	p := newPlot(title, "average cost per query ($)", "accuracy (%)")
	addGrid(p)
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{}
	}
	for i, r := range routers {
		sorted := slices.Clone(r.Points)
		slices.SortStableFunc(sorted, func(a, b evaluate.CostPoint) int { return cmp.Compare(a.Cost, b.Cost) })
		xys := make(plotter.XYs, len(sorted))
		for j, pt := range sorted {
			xys[j] = plotter.XY{X: pt.Cost, Y: pt.Quality}
		}
		line, points, err := styledLine(xys, i)
		if err != nil {
			return err
		}
		hull, err := plotter.NewLine(hullPath(evaluate.NonDecreasingHull(r.Points), hi))
		if err != nil {
			return err
		}
		hull.Color = seriesColor(i)
		hull.Width = vg.Points(1)
		hull.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(hull, line, points)
		p.Legend.Add(labels[i], line, points)
	}
	hullKey, err := plotter.NewLine(plotter.XYs{{}, {}})
	if err != nil {
		return err
	}
	hullKey.Color = color.Gray{Y: 100}
	hullKey.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Legend.Add(fmt.Sprintf("dashed: hull; AIQ over $%.3g-$%.3g", lo, hi), hullKey)

	xys := make(plotter.XYs, len(llms))
	names := make([]string, len(llms))
	for i, l := range llms {
		xys[i] = plotter.XY{X: l.Cost, Y: l.Quality}
		names[i] = l.Name
	}
	dots, err := plotter.NewScatter(xys)
	if err != nil {
		return err
	}
	dots.Color = color.Black
	dots.Shape = draw.CircleGlyph{}
	dots.Radius = vg.Points(3.5)
	text, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: names})
	if err != nil {
		return err
	}
	for i := range text.TextStyle {
		text.TextStyle[i].Font.Size = vg.Points(9)
		text.TextStyle[i].YAlign = draw.YCenter
	}
	text.Offset = vg.Point{X: vg.Points(6)}
	p.Add(dots, text)
	p.Legend.Add("LLM alone", dots)
	// Headroom, so the top points' labels do not touch the title.
	p.Y.Max += 0.05 * (p.Y.Max - p.Y.Min)
	return figure{w: singleW, h: singleH, panels: p1(p), legend: moveLegendOut(p)}.save(path)
}

// costLegend checks CostQuality's input and returns each router's legend
// entry with its AIQ.
func costLegend(llms []LabeledPoint, routers []CostCurve) ([]string, error) {
	if len(llms) == 0 {
		return nil, errors.New("figures: CostQuality needs at least one LLM point (they set the AIQ's cost range)")
	}
	if len(routers) == 0 {
		return nil, errors.New("figures: CostQuality needs at least one router curve")
	}
	for i, l := range llms {
		if l.Name == "" {
			return nil, fmt.Errorf("figures: LLM point %d has no name, which its label needs", i)
		}
		if err := checkCostPoint(fmt.Sprintf("LLM %q", l.Name), l.Cost, l.Quality); err != nil {
			return nil, err
		}
	}
	lo, hi := llmCostRange(llms)
	if !(hi > lo) {
		return nil, fmt.Errorf("figures: the LLMs' costs span no range (all $%v), so AIQ, the mean over that range, is undefined", lo)
	}
	var labels []string
	for i, r := range routers {
		if r.Name == "" {
			return nil, fmt.Errorf("figures: router curve %d has no name, which the legend needs", i)
		}
		if len(r.Points) == 0 {
			return nil, fmt.Errorf("figures: router %q has no points", r.Name)
		}
		for j, pt := range r.Points {
			if err := checkCostPoint(fmt.Sprintf("router %q point %d", r.Name, j), pt.Cost, pt.Quality); err != nil {
				return nil, err
			}
		}
		aiq, err := evaluate.AIQ(r.Points, lo, hi)
		if err != nil {
			return nil, fmt.Errorf("figures: router %q: %w", r.Name, err)
		}
		labels = append(labels, fmt.Sprintf("%s (AIQ %.2f)", r.Name, aiq))
	}
	return labels, nil
}

func checkCostPoint(what string, c, q float64) error {
	if math.IsNaN(c) || math.IsInf(c, 0) || c < 0 {
		return fmt.Errorf("figures: %s cost %v is not a finite non-negative number of dollars", what, c)
	}
	if math.IsNaN(q) || math.IsInf(q, 0) {
		return fmt.Errorf("figures: %s accuracy %v is not a finite number", what, q)
	}
	return nil
}

func llmCostRange(llms []LabeledPoint) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, l := range llms {
		lo, hi = math.Min(lo, l.Cost), math.Max(hi, l.Cost)
	}
	return lo, hi
}

// hullPath is the hull's curve from its first vertex to cost hi (flat after
// the last vertex, as AIQ counts it), with each chord cut into short steps:
// a chord is straight in dollars, and drawn as two points it would come out
// straight on a log axis too, which is not the curve AIQ integrates.
func hullPath(h []evaluate.CostPoint, hi float64) plotter.XYs {
	const steps = 32
	xys := plotter.XYs{{X: h[0].Cost, Y: h[0].Quality}}
	for i := 0; i+1 < len(h); i++ {
		a, b := h[i], h[i+1]
		for s := 1; s <= steps; s++ {
			f := float64(s) / steps
			xys = append(xys, plotter.XY{X: a.Cost + f*(b.Cost-a.Cost), Y: a.Quality + f*(b.Quality-a.Quality)})
		}
	}
	if last := h[len(h)-1]; hi > last.Cost {
		xys = append(xys, plotter.XY{X: hi, Y: last.Quality})
	}
	return xys
}
