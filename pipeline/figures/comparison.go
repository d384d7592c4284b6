package figures

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Comparison is one method of a PaperComparison panel: ours per category
// (mean and std over seeds; Std nil for a deterministic row) and the
// paper's published value (NaN where the paper has none).
type Comparison struct {
	Name             string
	Mean, Std, Paper []float64
}

// ComparisonPanel is one panel of a PaperComparison: a group of bars per
// category (task), one bar per method.
type ComparisonPanel struct {
	Title      string
	Categories []string
	Methods    []Comparison
}

// PaperComparison draws the panels stacked, each a group of bars per
// category with one bar per method: ours as the bar (mean ± std), the
// paper's published value as a black line across it. Bars start at 0 here:
// tasks differ by tens of points, so the axis has to span them anyway. The
// methods must be the same, in the same order, in every panel, so that a
// colour means one method throughout.
func PaperComparison(path, title, yLabel string, panels []ComparisonPanel) error {
	if path == "" {
		return errNoPath
	}
	if len(panels) == 0 {
		return errors.New("figures: PaperComparison needs at least one panel")
	}
	var plots []*plot.Plot
	var legend *plot.Legend
	for pi, pn := range panels {
		if len(pn.Categories) == 0 {
			return fmt.Errorf("figures: panel %q has no categories", pn.Title)
		}
		if len(pn.Methods) != len(panels[0].Methods) {
			return fmt.Errorf("figures: panel %q has %d methods, panel %q %d; every panel needs the same methods",
				pn.Title, len(pn.Methods), panels[0].Title, len(panels[0].Methods))
		}
		series := make([]Series, len(pn.Methods))
		for i, m := range pn.Methods {
			if m.Name != panels[0].Methods[i].Name {
				return fmt.Errorf("figures: panel %q method %d is %q, panel %q has %q there", pn.Title, i, m.Name, panels[0].Title, panels[0].Methods[i].Name)
			}
			if err := checkLen(fmt.Sprintf("method %q Paper", m.Name), len(m.Paper), len(pn.Categories)); err != nil {
				return err
			}
			for j, v := range m.Paper {
				if math.IsInf(v, 0) {
					return fmt.Errorf("figures: method %q Paper[%d] = %v is not a number or NaN", m.Name, j, v)
				}
			}
			series[i] = Series{Name: m.Name, Mean: m.Mean, Std: m.Std}
		}
		if err := checkSeries(series, len(pn.Categories)); err != nil {
			return err
		}
		p := newPlot(pn.Title, "", yLabel)
		addGrid(p)
		fitXTicks(p, pn.Categories, 1)
		bs, err := groupedBars(p, pn.Categories, series)
		if err != nil {
			return err
		}
		var paper *marks
		for i, b := range bs {
			paper = &marks{x: b.x, y: pn.Methods[i].Paper, width: b.width}
			p.Add(paper)
		}
		if len(series) == 1 {
			p.Legend.Add(series[0].Name, bs[0])
		}
		p.Legend.Add("paper (published)", paper)
		p.Y.Min = 0
		p.Y.Max += 0.03 * p.Y.Max // the paper's lines may top the bars
		if pi == 0 {
			legend = moveLegendOut(p)
		} else {
			p.Legend = plot.NewLegend()
		}
		plots = append(plots, p)
	}
	h := singleH
	if len(plots) > 1 {
		h = vg.Length(len(plots)) * 4.5 * vg.Inch
	}
	return figure{w: doubleW, h: h, title: title, panels: plots, cols: 1, legend: legend}.save(path)
}

// marks draws a short horizontal line per point across a bar of width
// (data units): a reference value on each bar. NaN: no line.
type marks struct {
	x, y  []float64
	width float64
}

var (
	markLine = draw.LineStyle{Color: color.Black, Width: vg.Points(2.5)}
	// A white halo keeps the line visible over dark bars and error bars.
	markHalo = draw.LineStyle{Color: color.White, Width: vg.Points(5)}
)

func (m *marks) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i := range m.x {
		if math.IsNaN(m.y[i]) {
			continue
		}
		y := trY(m.y[i])
		line := []vg.Point{{X: trX(m.x[i] - m.width/2), Y: y}, {X: trX(m.x[i] + m.width/2), Y: y}}
		c.StrokeLines(markHalo, c.ClipLinesXY(line)...)
		c.StrokeLines(markLine, c.ClipLinesXY(line)...)
	}
}

func (m *marks) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i := range m.x {
		xmin, xmax = math.Min(xmin, m.x[i]-m.width/2), math.Max(xmax, m.x[i]+m.width/2)
		if !math.IsNaN(m.y[i]) {
			ymin, ymax = math.Min(ymin, m.y[i]), math.Max(ymax, m.y[i])
		}
	}
	if math.IsInf(ymin, 1) { // no paper value at all: no say in the range
		ymin, ymax = 0, 0
	}
	return xmin, xmax, ymin, ymax
}

func (m *marks) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	line := []vg.Point{{X: c.Min.X, Y: y}, {X: c.Max.X, Y: y}}
	c.StrokeLines(markLine, line)
}
