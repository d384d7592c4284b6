package figures

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"

	"github.com/routerdc-go/routerdc/pipeline/data"
)

// RoutingHeatmap draws, for each task (row), the share (0-1) of its test
// queries that the router sent to each LLM (column), as percentages.
func RoutingHeatmap(path string, tasks []string, llms []string, share [][]float64, title string) error {
	if path == "" {
		return errNoPath
	}
	if err := checkMatrix("share", share, len(tasks), len(llms), "task", "LLM"); err != nil {
		return err
	}
	pct := make([][]float64, len(share))
	for i, row := range share {
		if err := checkFinite(fmt.Sprintf("share[%d]", i), row); err != nil {
			return err
		}
		pct[i] = make([]float64, len(row))
		for j, v := range row {
			// A little slack for shares summed in floating point.
			if v < 0 || v > 1+1e-9 {
				return fmt.Errorf("figures: share[%d][%d] = %v, want a fraction in [0, 1]", i, j, v)
			}
			pct[i][j] = 100 * v
		}
	}
	names := make([]string, len(llms))
	for i, l := range llms {
		names[i] = data.ShortName(l)
	}
	return heatmap(path, title, "LLM the query was routed to", "task", names, tasks, pct,
		0, 100, "%.0f%%", "queries routed (%)")
}

// AblationHeatmap draws values[row][col] over two categorical settings, e.g.
// accuracy (%) over K- (columns, xs) and K+ (rows, ys); NaN marks a cell that
// was not run.
func AblationHeatmap(path, title, xLabel, yLabel string, xs, ys []string, values [][]float64) error {
	if path == "" {
		return errNoPath
	}
	if err := checkMatrix("values", values, len(ys), len(xs), "y category", "x category"); err != nil {
		return err
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, row := range values {
		for j, v := range row {
			if math.IsInf(v, 0) {
				return fmt.Errorf("figures: values[%d][%d] is infinite", i, j)
			}
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		return errors.New("figures: AblationHeatmap: every value is NaN")
	}
	if lo == hi { // the colour scale needs a non-empty range
		lo, hi = lo-0.5, hi+0.5
	}
	// The title says what the cells measure; the scale only needs numbers.
	return heatmap(path, title, xLabel, yLabel, xs, ys, values, lo, hi, "%.1f", "cell value")
}

// heatCells adapts a row-major matrix to plotter.GridXYZ with row 0 at the
// top, the way tables are read.
type heatCells [][]float64

func (h heatCells) Dims() (c, r int)   { return len(h[0]), len(h) }
func (h heatCells) Z(c, r int) float64 { return h[len(h)-1-r][c] }
func (h heatCells) X(c int) float64    { return float64(c) }
func (h heatCells) Y(r int) float64    { return float64(r) }

// heatmap draws an annotated cell grid with a colour scale beside it.
func heatmap(path, title, xLabel, yLabel string, xs, ys []string, values [][]float64,
	lo, hi float64, cellFormat, scaleLabel string) error {
	cmap, err := sequentialMap()
	if err != nil {
		return err
	}
	cmap.SetMin(lo)
	cmap.SetMax(hi)

	p := newPlot(title, xLabel, yLabel)
	hm := plotter.NewHeatMap(heatCells(values), cmap.Palette(256))
	hm.Min, hm.Max = lo, hi
	hm.NaN = color.Gray{Y: 235}
	p.Add(hm)

	var xys plotter.XYs
	var texts []string
	var dark []bool
	for i, row := range values {
		for j, v := range row {
			xys = append(xys, plotter.XY{X: float64(j), Y: float64(len(values) - 1 - i)})
			if math.IsNaN(v) {
				texts, dark = append(texts, "n/a"), append(dark, false)
				continue
			}
			texts = append(texts, fmt.Sprintf(cellFormat, v))
			dark = append(dark, (v-lo)/(hi-lo) > 0.55)
		}
	}
	labels, err := cellLabels(xys, texts, dark)
	if err != nil {
		return err
	}
	p.Add(labels)
	p.NominalX(xs...)
	rev := make([]string, len(ys))
	for i, y := range ys {
		rev[len(ys)-1-i] = y
	}
	p.NominalY(rev...)
	p.X.Min, p.X.Max = -0.5, float64(len(xs))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(ys))-0.5
	p.X.Padding, p.Y.Padding = 0, 0
	fitXTicks(p, xs, 1)

	bar := newPlot("", "", scaleLabel)
	bar.Add(&plotter.ColorBar{ColorMap: cmap, Vertical: true})
	bar.HideX()
	bar.Y.Padding = 0
	return figure{w: singleW, h: singleH, panels: p1(p), colorBar: bar}.save(path)
}

// sequentialMap runs from near-white to dark blue with luminance changing
// evenly, so cell shade reads as magnitude and annotations stay legible.
func sequentialMap() (palette.ColorMap, error) {
	// NewLuminance wants luminance rising, so build dark-to-light and flip.
	m, err := moreland.NewLuminance([]color.Color{
		color.NRGBA{8, 48, 107, 255},
		color.NRGBA{66, 146, 198, 255},
		color.NRGBA{158, 202, 225, 255},
		color.NRGBA{247, 251, 255, 255},
	})
	if err != nil {
		return nil, err
	}
	return palette.Reverse(m), nil
}
