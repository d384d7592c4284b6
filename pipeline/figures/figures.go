// Package figures draws the project's figures (PNG, via gonum.org/v1/plot)
// from plain Go data, so that the pipeline can redraw them from cached
// results without depending on training code.
//
// Every figure is rendered to memory first and then written with
// atomicfile.Write, so a reader never sees a half-written PNG. Inputs are
// validated up front and any panic from the plotting library is turned into
// an error: a figure is never worth crashing a pipeline run.
package figures

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
)

// DPI is the resolution of every figure; with the sizes below a one-panel
// figure is 800x500 pixels and a two-panel one 1200x500.
const DPI = 100

var (
	singleW = 8 * vg.Inch
	singleH = 5 * vg.Inch
	doubleW = 12 * vg.Inch
)

// palette10 is Tableau-10: distinct hues that stay tellable apart when
// printed and for the common colour-vision deficiencies.
var palette10 = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
	{188, 189, 34, 255}, {23, 190, 207, 255},
}

// seriesColor cycles the palette; beyond 10 series glyph shapes (see
// seriesShape) keep the series apart.
func seriesColor(i int) color.Color { return palette10[i%len(palette10)] }

var shapes = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{},
}

func seriesShape(i int) draw.GlyphDrawer { return shapes[(i/len(palette10))%len(shapes)] }

// newPlot makes a plot with the house style: larger fonts than gonum's
// defaults, because figures are viewed scaled down in reports.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(12)
		a.Tick.Label.Font.Size = vg.Points(10)
		a.Tick.Marker = shortTicks{}
	}
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Legend.Padding = vg.Points(4)
	p.Legend.Top = true
	return p
}

// shortTicks are gonum's default ticks labelled without trailing zeros
// ("50" rather than "50.00").
type shortTicks struct{}

func (shortTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		v := ticks[i].Value
		if math.Abs(v) < 1e-9*(hi-lo) { // rounding residue of a zero tick
			v = 0
		}
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(v, 'g', 6, 64)
		}
	}
	return ticks
}

// addGrid puts light grid lines behind the data so values can be read off.
func addGrid(p *plot.Plot) {
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 215}
	g.Horizontal.Color = color.Gray{Y: 215}
	p.Add(g)
}

// fitXTicks tilts category labels when they would not fit side by side
// (long LLM names do not) in a panel 1/panels of the figure's width.
func fitXTicks(p *plot.Plot, names []string, panels int) {
	chars := 0
	for _, n := range names {
		chars = max(chars, len(n))
	}
	if chars*len(names) > 60/panels {
		rotateXTicks(p)
	}
}

func rotateXTicks(p *plot.Plot) {
	p.X.Tick.Label.Rotation = math.Pi / 7
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YTop
}

// figure is what every public function builds: panels in a grid (one row
// unless cols is set), optionally under a title spanning them, and
// optionally a legend (right of the panels, or below them) or a colour
// scale in a strip on the right.
type figure struct {
	w, h        vg.Length
	title       string // drawn above the panels when set
	panels      []*plot.Plot
	cols        int          // panels per row; 0: all in one row
	legend      *plot.Legend // drawn right of the panels when set
	legendBelow bool         // draw the legend centred under the panels instead
	colorBar    *plot.Plot   // drawn right of the panels when set
}

func (f figure) save(path string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("figures: drawing %s: %v", path, r)
		}
	}()
	img := vgimg.NewWith(vgimg.UseWH(f.w, f.h), vgimg.UseDPI(DPI))
	dc := draw.New(img)
	margin := vg.Points(6)
	dc = draw.Crop(dc, margin, -margin, margin, -margin)
	if f.title != "" {
		sty := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(14)),
			XAlign: draw.XCenter, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
		dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y}, f.title)
		dc = draw.Crop(dc, 0, 0, 0, -sty.Height(f.title)-vg.Points(8))
	}
	if l := f.legend; l != nil && f.legendBelow {
		l.Top, l.Left = false, true
		r := l.Rectangle(dc)
		l.XOffs = (dc.Max.X - dc.Min.X - (r.Max.X - r.Min.X)) / 2
		l.Draw(dc)
		dc = draw.Crop(dc, 0, 0, r.Max.Y-r.Min.Y+vg.Points(8), 0)
	} else if l != nil {
		l.Top = true
		// Start below the panel titles so the legend lines up with the data.
		l.YOffs = -vg.Points(30)
		r := l.Rectangle(dc)
		l.Draw(dc)
		dc = draw.Crop(dc, 0, -(r.Max.X-r.Min.X)-vg.Points(10), 0, 0)
	}
	strip := vg.Inch
	bar := draw.Crop(dc, dc.Max.X-dc.Min.X-strip, 0, 0, 0)
	if f.colorBar != nil {
		dc = draw.Crop(dc, 0, -strip-vg.Points(6), 0, 0)
	}
	cols := f.cols
	if cols == 0 {
		cols = len(f.panels)
	}
	var grid [][]*plot.Plot
	for i := 0; i < len(f.panels); i += cols {
		row := f.panels[i:min(i+cols, len(f.panels))]
		for len(row) < cols { // plot.Align wants full rows; nil tiles stay empty
			row = append(row, nil)
		}
		grid = append(grid, row)
	}
	tiles := draw.Tiles{Rows: len(grid), Cols: cols, PadX: vg.Points(20), PadY: vg.Points(16)}
	canvases := alignData(grid, plot.Align(grid, tiles, dc))
	for i, row := range grid {
		for j, p := range row {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	if f.colorBar != nil {
		// Span the scale over the first panel's data area so it reads as that
		// panel's colour axis.
		da := f.panels[0].DataCanvas(canvases[0][0])
		bar.Min.Y, bar.Max.Y = da.Min.Y, da.Max.Y
		f.colorBar.Draw(bar)
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("figures: encoding %s: %w", path, err)
	}
	return atomicfile.Write(path, buf.Bytes())
}

// alignData lines up the data areas of panels in one row (their top and
// bottom) or one column (their left and right). plot.Align sizes the tiles
// from each panel's padding measured on the first tiles, but the padding
// for labels and glyphs that stick out past the axes changes as a tile
// shrinks, so its panels can be off by a few points; a few rounds of
// cropping each tile to the tightest edges of its row and column fix that.
func alignData(grid [][]*plot.Plot, cs [][]draw.Canvas) [][]draw.Canvas {
	for range 4 {
		n := len(grid)
		bottom, top := make([]vg.Length, n), make([]vg.Length, n)
		var left, right []vg.Length
		for j, row := range grid {
			bottom[j], top[j] = vg.Length(math.Inf(-1)), vg.Length(math.Inf(1))
			for i, p := range row {
				if i >= len(left) {
					left, right = append(left, vg.Length(math.Inf(-1))), append(right, vg.Length(math.Inf(1)))
				}
				if p == nil {
					continue
				}
				da := p.DataCanvas(cs[j][i])
				bottom[j], top[j] = max(bottom[j], da.Min.Y), min(top[j], da.Max.Y)
				left[i], right[i] = max(left[i], da.Min.X), min(right[i], da.Max.X)
			}
		}
		for j, row := range grid {
			for i, p := range row {
				if p == nil {
					continue
				}
				da := p.DataCanvas(cs[j][i])
				cs[j][i] = draw.Crop(cs[j][i], left[i]-da.Min.X, right[i]-da.Max.X, bottom[j]-da.Min.Y, top[j]-da.Max.Y)
			}
		}
	}
	return cs
}

// bars is a bar plotter whose widths are in data units, which makes grouped
// bars and their error bars line up exactly (plotter.BarChart measures width
// in canvas units, so groups drift against data-placed error bars).
type bars struct {
	x, y  []float64 // bar centres and heights
	width float64
	color color.Color
}

func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i := range b.x {
		lo, hi := math.Min(0, b.y[i]), math.Max(0, b.y[i])
		rect := vg.Rectangle{
			Min: vg.Point{X: trX(b.x[i] - b.width/2), Y: trY(lo)},
			Max: vg.Point{X: trX(b.x[i] + b.width/2), Y: trY(hi)},
		}
		c.FillPolygon(b.color, c.ClipPolygonXY(rectPoly(rect)))
		c.StrokeLines(draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}, c.ClipLinesXY(append(rectPoly(rect), rect.Min))...)
	}
}

func rectPoly(r vg.Rectangle) []vg.Point {
	return []vg.Point{r.Min, {X: r.Min.X, Y: r.Max.Y}, r.Max, {X: r.Max.X, Y: r.Min.Y}}
}

func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for i := range b.x {
		xmin, xmax = math.Min(xmin, b.x[i]-b.width/2), math.Max(xmax, b.x[i]+b.width/2)
		ymin, ymax = math.Min(ymin, b.y[i]), math.Max(ymax, b.y[i])
	}
	return xmin, xmax, ymin, ymax
}

func (b *bars) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(b.color, rectPoly(c.Rectangle))
}

// groupedBars adds one bar per category and series, series side by side
// within each category, with error bars where a series has a std, and
// returns each series' bars.
func groupedBars(p *plot.Plot, categories []string, series []Series) ([]*bars, error) {
	groupWidth := 0.8
	w := groupWidth / float64(len(series))
	var out []*bars
	for j, s := range series {
		b := &bars{width: w, color: seriesColor(j), y: s.Mean}
		for i := range categories {
			b.x = append(b.x, float64(i)-groupWidth/2+w*(float64(j)+0.5))
		}
		p.Add(b)
		out = append(out, b)
		if s.Std != nil {
			eb, err := errorBars(b.x, s.Mean, s.Std)
			if err != nil {
				return nil, err
			}
			p.Add(eb)
		}
		if len(series) > 1 {
			p.Legend.Add(s.Name, b)
		}
	}
	p.NominalX(categories...)
	p.X.Min, p.X.Max = -0.6, float64(len(categories))-0.4
	// Headroom, so the tallest bar and its error bar do not touch the title.
	p.Y.Max += 0.05 * (p.Y.Max - p.Y.Min)
	return out, nil
}

type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

func errorBars(x, mean, std []float64) (*plotter.YErrorBars, error) {
	var e errPoints
	for i := range x {
		e.XYs = append(e.XYs, plotter.XY{X: x[i], Y: mean[i]})
		e.YErrors = append(e.YErrors, struct{ Low, High float64 }{std[i], std[i]})
	}
	eb, err := plotter.NewYErrorBars(e)
	if err != nil {
		return nil, err
	}
	eb.LineStyle.Width = vg.Points(1)
	eb.CapWidth = vg.Points(6)
	return eb, nil
}

// cellLabels writes each heatmap cell's text centred in the cell, white on
// dark cells and black on light ones (dark[i] says which).
func cellLabels(xys plotter.XYs, texts []string, dark []bool) (*plotter.Labels, error) {
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
	if err != nil {
		return nil, err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].XAlign = draw.XCenter
		l.TextStyle[i].YAlign = draw.YCenter
		l.TextStyle[i].Font.Size = vg.Points(10)
		l.TextStyle[i].Color = color.Black
		if dark[i] {
			l.TextStyle[i].Color = color.White
		}
	}
	return l, nil
}

// moveLegendOut takes the legend out of p, for drawing beside the panels
// where it cannot hide data.
func moveLegendOut(p *plot.Plot) *plot.Legend {
	l := p.Legend
	p.Legend = plot.NewLegend()
	return &l
}

// newLegend makes a legend styled like newPlot's, for figures whose legend
// spans several panels.
func newLegend() *plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font = font.From(plot.DefaultFont, vg.Points(10))
	l.Padding = vg.Points(4)
	return &l
}

// Input checks shared by the public functions. Their messages name the
// argument, since the caller usually builds these slices from cached results.

func checkFinite(name string, vs []float64) error {
	for i, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("figures: %s[%d] = %v is not a finite number", name, i, v)
		}
	}
	return nil
}

func checkLen(what string, got, want int) error {
	if got != want {
		return fmt.Errorf("figures: %s has %d values, want %d", what, got, want)
	}
	return nil
}

func checkMatrix(name string, m [][]float64, rows, cols int, rowsName, colsName string) error {
	if rows == 0 || cols == 0 {
		return fmt.Errorf("figures: %s needs at least one %s and one %s", name, rowsName, colsName)
	}
	if len(m) != rows {
		return fmt.Errorf("figures: %s has %d rows, want one per %s (%d)", name, len(m), rowsName, rows)
	}
	for i, row := range m {
		if len(row) != cols {
			return fmt.Errorf("figures: %s row %d has %d values, want one per %s (%d)", name, i, len(row), colsName, cols)
		}
	}
	return nil
}

var errNoPath = errors.New("figures: empty output path")

func p1(p *plot.Plot) []*plot.Plot { return []*plot.Plot{p} }
