package figures

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Curve is one training-time series. Axis picks its panel: "loss" (nats) or
// "accuracy" (routing accuracy in percent, 0-100).
type Curve struct {
	Name   string
	Steps  []int
	Values []float64
	Axis   string
}

// Series is one line or bar group of an ablation: the mean over seeds and,
// optionally (nil), the standard deviation drawn as ± error bars.
type Series struct {
	Name      string
	Mean, Std []float64
}

// TrainingCurves draws loss and accuracy against training step, one panel
// per axis kind present (loss left, accuracy right), with one legend for
// all curves beside the panels.
func TrainingCurves(path string, series []Curve) error {
	if path == "" {
		return errNoPath
	}
	if len(series) == 0 {
		return errors.New("figures: TrainingCurves needs at least one curve")
	}
	panels := map[string]*plot.Plot{}
	legend := newLegend()
	for i, c := range series {
		if c.Name == "" {
			return fmt.Errorf("figures: curve %d has no name", i)
		}
		if len(c.Steps) == 0 {
			return fmt.Errorf("figures: curve %q has no points", c.Name)
		}
		if err := checkLen(fmt.Sprintf("curve %q Values", c.Name), len(c.Values), len(c.Steps)); err != nil {
			return err
		}
		if err := checkFinite(c.Name, c.Values); err != nil {
			return err
		}
		p := panels[c.Axis]
		if p == nil {
			switch c.Axis {
			case "loss":
				p = newPlot("Training loss", "training step", "loss (nats)")
			case "accuracy":
				p = newPlot("Routing accuracy", "training step", "accuracy (%)")
			default:
				return fmt.Errorf("figures: curve %q has Axis %q, want \"loss\" or \"accuracy\"", c.Name, c.Axis)
			}
			addGrid(p)
			panels[c.Axis] = p
		}
		xys := make(plotter.XYs, len(c.Steps))
		for j := range c.Steps {
			xys[j] = plotter.XY{X: float64(c.Steps[j]), Y: c.Values[j]}
		}
		line, points, err := styledLine(xys, i)
		if err != nil {
			return err
		}
		p.Add(line)
		thumbs := []plot.Thumbnailer{line}
		// Markers only where points are few enough to tell apart.
		if len(xys) <= 40 {
			p.Add(points)
			thumbs = append(thumbs, points)
		}
		legend.Add(c.Name, thumbs...)
	}
	var ps []*plot.Plot
	for _, axis := range []string{"loss", "accuracy"} {
		if p := panels[axis]; p != nil {
			ps = append(ps, p)
		}
	}
	w := singleW
	if len(ps) == 2 {
		w = doubleW
	}
	// Below the panels: beside them the long labels took a third of the width.
	return figure{w: w, h: singleH, panels: ps, legend: legend, legendBelow: true}.save(path)
}

// styledLine makes the i-th series' line and point markers.
func styledLine(xys plotter.XYs, i int) (*plotter.Line, *plotter.Scatter, error) {
	line, points, err := plotter.NewLinePoints(xys)
	if err != nil {
		return nil, nil, err
	}
	line.Color = seriesColor(i)
	line.Width = vg.Points(1.5)
	points.Color = seriesColor(i)
	points.Shape = seriesShape(i)
	points.Radius = vg.Points(2.5)
	return line, points, nil
}

func checkSeries(series []Series, n int) error {
	if len(series) == 0 {
		return errors.New("figures: need at least one series")
	}
	for i, s := range series {
		if s.Name == "" && len(series) > 1 {
			return fmt.Errorf("figures: series %d has no name, which the legend needs", i)
		}
		if err := checkLen(fmt.Sprintf("series %q Mean", s.Name), len(s.Mean), n); err != nil {
			return err
		}
		if err := checkFinite(s.Name+" Mean", s.Mean); err != nil {
			return err
		}
		if s.Std == nil {
			continue
		}
		if err := checkLen(fmt.Sprintf("series %q Std", s.Name), len(s.Std), n); err != nil {
			return err
		}
		if err := checkFinite(s.Name+" Std", s.Std); err != nil {
			return err
		}
		for j, v := range s.Std {
			if v < 0 {
				return fmt.Errorf("figures: series %q Std[%d] = %v is negative", s.Name, j, v)
			}
		}
	}
	return nil
}

// AblationLine draws a one-setting sweep: one panel per series (e.g. ID
// average, OOD average), each the mean against x with ± std error bars on
// its own value axis. Separate panels because ID and OOD averages lie ~10
// points apart: on one axis the space between them is empty and each
// series' own differences of a point or two are squeezed flat. The x axis
// is linear when the values' labels fit, else logarithmic (all values > 0),
// else the values are evenly spaced categories (e.g. lambda 0, 0.1, 0.5, 1,
// 2, 5, 10: 0 has no place on a log axis).
func AblationLine(path string, title, xLabel, yLabel string, x []float64, series []Series) error {
	panels, err := linePanels(path, xLabel, yLabel, x, series)
	if err != nil {
		return err
	}
	return sweepFigure(path, title, panels)
}

func linePanels(path, xLabel, yLabel string, x []float64, series []Series) ([]*plot.Plot, error) {
	if path == "" {
		return nil, errNoPath
	}
	if len(x) == 0 {
		return nil, errors.New("figures: AblationLine needs at least one x value")
	}
	if err := checkFinite("x", x); err != nil {
		return nil, err
	}
	if err := checkSeries(series, len(x)); err != nil {
		return nil, err
	}
	pos, ticks, scale := xAxis(x)
	var panels []*plot.Plot
	for i, s := range series {
		p := newPlot(s.Name, xLabel, yLabel)
		addGrid(p)
		if scale == logX {
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = plot.LogTicks{}
		}
		if ticks != nil {
			p.X.Tick.Marker = ticks
		}
		if scale == categoricalX { // say so: the spacing is not the values'
			p.X.Label.Text += "; values evenly spaced"
		}
		p.X.Min, p.X.Max = xPadded(pos, scale)
		xys := make(plotter.XYs, len(x))
		for j := range x {
			xys[j] = plotter.XY{X: pos[j], Y: s.Mean[j]}
		}
		line, points, err := styledLine(xys, i)
		if err != nil {
			return nil, err
		}
		p.Add(line, points)
		if err := addSpread(p, pos, s, i); err != nil {
			return nil, err
		}
		panels = append(panels, p)
	}
	return panels, nil
}

// AblationCategories draws a sweep over unordered settings (e.g. which LLM
// is removed): one panel per series, a point with ± std error bars per
// category. Points rather than bars because the value axis starts near the
// data, not at 0, and a bar's length would then misstate its value.
func AblationCategories(path, title, xLabel, yLabel string, categories []string, series []Series) error {
	panels, err := categoryPanels(path, xLabel, yLabel, categories, series)
	if err != nil {
		return err
	}
	return sweepFigure(path, title, panels)
}

func categoryPanels(path, xLabel, yLabel string, categories []string, series []Series) ([]*plot.Plot, error) {
	if path == "" {
		return nil, errNoPath
	}
	if len(categories) == 0 {
		return nil, errors.New("figures: AblationCategories needs at least one category")
	}
	if err := checkSeries(series, len(categories)); err != nil {
		return nil, err
	}
	pos := make([]float64, len(categories))
	for i := range pos {
		pos[i] = float64(i)
	}
	var panels []*plot.Plot
	for i, s := range series {
		p := newPlot(s.Name, xLabel, yLabel)
		addGrid(p)
		p.NominalX(categories...)
		fitXTicks(p, categories, len(series))
		p.X.Min, p.X.Max = -0.5, float64(len(categories))-0.5
		xys := make(plotter.XYs, len(categories))
		for j := range categories {
			xys[j] = plotter.XY{X: pos[j], Y: s.Mean[j]}
		}
		_, points, err := styledLine(xys, i)
		if err != nil {
			return nil, err
		}
		points.Radius = vg.Points(4)
		p.Add(points)
		if err := addSpread(p, pos, s, i); err != nil {
			return nil, err
		}
		panels = append(panels, p)
	}
	return panels, nil
}

// addSpread adds the series' ± std error bars in its colour and sets the
// value axis to valueRange.
func addSpread(p *plot.Plot, pos []float64, s Series, i int) error {
	if s.Std != nil {
		eb, err := errorBars(pos, s.Mean, s.Std)
		if err != nil {
			return err
		}
		eb.Color = seriesColor(i)
		p.Add(eb)
	}
	p.Y.Min, p.Y.Max = valueRange([]Series{s})
	p.Y.Tick.Marker = valueTicks{}
	return nil
}

// valueTicks label about five round values of a value axis that starts
// near the data (gonum's default labels two or three there). Values within
// 4% of the axis ends get a mark but no label: a label sticking out past
// the axis end makes gonum pad that panel differently, and side-by-side
// panels then end up out of line.
type valueTicks struct{}

func (valueTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return nil
	}
	step := niceStep((hi - lo) / 5)
	margin := 0.04 * (hi - lo)
	var ticks []plot.Tick
	for k := math.Ceil(lo / step); k*step <= hi; k++ {
		v := k * step
		t := plot.Tick{Value: v}
		if v >= lo+margin && v <= hi-margin {
			t.Label = strconv.FormatFloat(v, 'g', 6, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// niceStep is the smallest of 1, 2, 2.5 and 5 times a power of ten that is
// at least x (x > 0).
func niceStep(x float64) float64 {
	pow := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*pow >= x*(1-1e-9) {
			return m * pow
		}
	}
	return 10 * pow
}

// sweepFigure lays a sweep's panels side by side under one title.
func sweepFigure(path, title string, panels []*plot.Plot) error {
	w := singleW
	if len(panels) > 1 {
		w = doubleW
	}
	return figure{w: w, h: singleH, title: title, panels: panels}.save(path)
}

// valueRange is the value axis of a figure of means: it covers every mean ±
// std with a margin, and starts at 0 only when the data come that close to
// it, so that effects of a point or two stay visible (an axis from 0 to 57
// draws a 1-point difference as 2% of its height).
func valueRange(series []Series) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for i, m := range s.Mean {
			sd := 0.0
			if s.Std != nil {
				sd = s.Std[i]
			}
			lo, hi = math.Min(lo, m-sd), math.Max(hi, m+sd)
		}
	}
	pad := 0.12 * (hi - lo)
	if pad == 0 { // one value, or all equal: show a band around it
		pad = math.Max(0.5, 0.02*math.Abs(hi))
	}
	nonNegative := lo >= 0
	lo, hi = lo-pad, hi+pad
	if nonNegative && lo < 0 { // accuracies and shares are never negative
		lo = 0
	}
	return lo, hi
}

type xScale int

const (
	linearX xScale = iota
	logX
	categoricalX
)

// xAxis places a sweep's values on the x axis (see AblationLine) and labels
// each of them; ticks is nil when there are too many values to label each.
func xAxis(x []float64) (pos []float64, ticks plot.Ticker, scale xScale) {
	positive := slices.Min(x) > 0
	label := func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
	var ct plot.ConstantTicks
	switch {
	case len(x) > maxLabels: // too many to label each: gonum's ticks
		lo, hi := minMax(x)
		if positive && hi/lo >= 20 {
			return x, nil, logX
		}
		return x, nil, linearX
	case ticksFit(x, false):
		scale = linearX
	case positive && ticksFit(x, true):
		scale = logX
	default:
		pos = make([]float64, len(x))
		for i, v := range x {
			pos[i] = float64(i)
			ct = append(ct, plot.Tick{Value: float64(i), Label: label(v)})
		}
		return pos, ct, categoricalX
	}
	for _, v := range x {
		ct = append(ct, plot.Tick{Value: v, Label: label(v)})
	}
	return x, ct, scale
}

// xPadded keeps the end points' markers and error bars off the axis edges.
func xPadded(pos []float64, scale xScale) (lo, hi float64) {
	lo, hi = minMax(pos)
	switch {
	case scale == logX:
		return lo / 1.5, hi * 1.5
	case scale == categoricalX:
		return lo - 0.5, hi + 0.5
	case hi == lo:
		return lo - 1, hi + 1
	}
	pad := 0.05 * (hi - lo)
	return lo - pad, hi + pad
}

// Bars draws one bar per category (e.g. a router's probability for each
// LLM), from 0, without error bars.
func Bars(path, title, yLabel string, categories []string, values []float64) error {
	if path == "" {
		return errNoPath
	}
	if len(categories) == 0 {
		return errors.New("figures: Bars needs at least one category")
	}
	series := []Series{{Name: yLabel, Mean: values}}
	if err := checkSeries(series, len(categories)); err != nil {
		return err
	}
	p := newPlot(title, "", yLabel)
	addGrid(p)
	fitXTicks(p, categories, 1)
	if _, err := groupedBars(p, categories, series); err != nil {
		return err
	}
	return figure{w: singleW, h: singleH, panels: p1(p)}.save(path)
}

// maxLabels is the most sweep values labelled one by one.
const maxLabels = 12

// ticksFit says whether a label at each x leaves room between labels: at
// most maxLabels of them and none closer than 1/15 of the axis to its neighbour.
func ticksFit(x []float64, logX bool) bool {
	if len(x) > maxLabels {
		return false
	}
	v := slices.Clone(x)
	if logX {
		for i := range v {
			v[i] = math.Log(v[i])
		}
	}
	slices.Sort(v)
	span := v[len(v)-1] - v[0]
	for i := 1; i < len(v); i++ {
		if v[i]-v[i-1] < span/15 {
			return false
		}
	}
	return true
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}
