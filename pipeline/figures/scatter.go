package figures

import (
	"errors"
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Scatter2D draws 2-D points (e.g. a t-SNE of query embeddings) coloured by
// label, with labelNames[label] in the legend.
func Scatter2D(path, title string, points [][2]float64, labels []int, labelNames []string) error {
	if path == "" {
		return errNoPath
	}
	p, err := scatterPanel(title, points, labels, labelNames)
	if err != nil {
		return err
	}
	return figure{w: singleW, h: singleH, panels: p1(p), legend: moveLegendOut(p)}.save(path)
}

// ScatterPair draws two scatters side by side with one shared legend, e.g.
// query embeddings trained without (left) and with (right) the
// sample-sample loss. Both sides use the same labels.
func ScatterPair(path, leftTitle, rightTitle string, left, right [][2]float64, labels []int, labelNames []string) error {
	if path == "" {
		return errNoPath
	}
	l, err := scatterPanel(leftTitle, left, labels, labelNames)
	if err != nil {
		return fmt.Errorf("left: %w", err)
	}
	r, err := scatterPanel(rightTitle, right, labels, labelNames)
	if err != nil {
		return fmt.Errorf("right: %w", err)
	}
	legend := moveLegendOut(l)
	moveLegendOut(r)
	return figure{w: doubleW, h: singleH, panels: []*plot.Plot{l, r}, legend: legend}.save(path)
}

func scatterPanel(title string, points [][2]float64, labels []int, labelNames []string) (*plot.Plot, error) {
	if len(points) == 0 {
		return nil, errors.New("figures: scatter needs at least one point")
	}
	if err := checkLen("labels", len(labels), len(points)); err != nil {
		return nil, err
	}
	groups := make([]plotter.XYs, len(labelNames))
	for i, pt := range points {
		if err := checkFinite(fmt.Sprintf("points[%d]", i), pt[:]); err != nil {
			return nil, err
		}
		if labels[i] < 0 || labels[i] >= len(labelNames) {
			return nil, fmt.Errorf("figures: labels[%d] = %d, want an index into the %d label names", i, labels[i], len(labelNames))
		}
		groups[labels[i]] = append(groups[labels[i]], plotter.XY{X: pt[0], Y: pt[1]})
	}
	// t-SNE coordinates have no unit; the axes still say which is which.
	p := newPlot(title, "dimension 1 (arbitrary units)", "dimension 2 (arbitrary units)")
	for k, xys := range groups {
		if len(xys) == 0 {
			continue
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		s.Color = seriesColor(k)
		s.Shape = seriesShape(k)
		// Thousands of points: small glyphs keep the clusters' shapes visible.
		s.Radius = vg.Points(1.5)
		p.Add(s)
		big := *s // legend glyphs larger than the data's, to show the colour
		big.Radius = vg.Points(4)
		p.Legend.Add(fmt.Sprintf("%s (%d)", labelNames[k], len(xys)), &big)
	}
	return p, nil
}
