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
	return figure{w: w, h: singleH, panels: ps, legend: legend}.save(path)
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

// AblationLine draws each series' mean against x with ± std error bars,
// e.g. ID and OOD average accuracy against lambda. With logX the x axis is
// logarithmic and every x must be positive.
func AblationLine(path string, title, xLabel, yLabel string, x []float64, series []Series, logX bool) error {
	if path == "" {
		return errNoPath
	}
	if len(x) == 0 {
		return errors.New("figures: AblationLine needs at least one x value")
	}
	if err := checkFinite("x", x); err != nil {
		return err
	}
	if err := checkSeries(series, len(x)); err != nil {
		return err
	}
	p := newPlot(title, xLabel, yLabel)
	addGrid(p)
	if logX {
		for i, v := range x {
			if v <= 0 {
				return fmt.Errorf("figures: x[%d] = %v cannot go on a log axis", i, v)
			}
		}
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{}
	}
	// Ablations test a handful of settings: label exactly those, unless
	// their labels would run into each other.
	if ticksFit(x, logX) {
		var ticks plot.ConstantTicks
		for _, v := range x {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', 4, 64)})
		}
		p.X.Tick.Marker = ticks
	}
	for i, s := range series {
		xys := make(plotter.XYs, len(x))
		for j := range x {
			xys[j] = plotter.XY{X: x[j], Y: s.Mean[j]}
		}
		line, points, err := styledLine(xys, i)
		if err != nil {
			return err
		}
		p.Add(line, points)
		if s.Std != nil {
			eb, err := errorBars(x, s.Mean, s.Std)
			if err != nil {
				return err
			}
			eb.Color = seriesColor(i)
			p.Add(eb)
		}
		if len(series) > 1 {
			p.Legend.Add(s.Name, line, points)
		}
	}
	if logX { // keep the end points' markers and error bars off the axis edges
		lo, hi := minMax(x)
		p.X.Min, p.X.Max = lo/1.5, hi*1.5
	}
	return figure{w: singleW, h: singleH, panels: p1(p), legend: moveLegendOut(p)}.save(path)
}

// AblationBars draws grouped bars (one group per category, one bar per
// series) with ± std error bars, e.g. accuracy after removing each LLM.
func AblationBars(path, title, yLabel string, categories []string, series []Series) error {
	if path == "" {
		return errNoPath
	}
	if len(categories) == 0 {
		return errors.New("figures: AblationBars needs at least one category")
	}
	if err := checkSeries(series, len(categories)); err != nil {
		return err
	}
	p := newPlot(title, "", yLabel)
	addGrid(p)
	fitXTicks(p, categories)
	if err := groupedBars(p, categories, series); err != nil {
		return err
	}
	return figure{w: singleW, h: singleH, panels: p1(p), legend: moveLegendOut(p)}.save(path)
}

// Bars draws one bar per category (e.g. a router's probability for each
// LLM), without error bars.
func Bars(path, title, yLabel string, categories []string, values []float64) error {
	return AblationBars(path, title, yLabel, categories, []Series{{Name: yLabel, Mean: values}})
}

// ticksFit says whether a label at each x leaves room between labels: at
// most 12 of them and none closer than 1/15 of the axis to its neighbour.
func ticksFit(x []float64, logX bool) bool {
	if len(x) > 12 {
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
