package experiments

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSweepTitles: a sweep figure's title says what it shows, never just
// the file name: the declaration's title, else the router and the swept
// setting's description.
func TestSweepTitles(t *testing.T) {
	for _, n := range Builtin() {
		d, err := Load(n)
		if err != nil {
			t.Fatal(err)
		}
		if d.Kind != "sweep" || d.Figure == "" {
			continue
		}
		if title := sweepTitle(d); title == d.Name || !strings.Contains(title, " ") {
			t.Errorf("%s: figure title %q does not say what it shows", n, title)
		}
	}
	d, err := Parse("x.yaml", []byte("name: x\nkind: sweep\nseeds: [1]\nsettings: \"router=routerdc\"\nsweep: {param: lambda, values: [0, 1]}\nfigure: x.png\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sweepTitle(d), "routerdc: weight of the sample-sample loss"; got != want {
		t.Errorf("untitled sweep: title %q, want %q", got, want)
	}
	if _, err := Parse("x.yaml", []byte("name: x\nkind: tables\nseeds: [1]\nmethods: [{name: a}]\ntitle: T\n")); err == nil || !strings.Contains(err.Error(), `"title" does not apply`) {
		t.Errorf("title on a tables declaration: %v", err)
	}
}

// TestDrawSweep draws a numeric and a categorical sweep from hand-made
// points: two panels (ID, OOD), a PNG each.
func TestDrawSweep(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"ablation-lambda", "ablation-groups", "ablation-llms"} {
		d, err := Load(n)
		if err != nil {
			t.Fatal(err)
		}
		r := &SweepResult{Decl: d}
		for i, v := range d.Sweep.Values {
			f := float64(i % 3)
			r.Points = append(r.Points, SweepPoint{Value: v, ID: []float64{55 + f, 56 + f, 56.5 + f}, OOD: []float64{44 - f, 44.3 - f, 45 - f}})
		}
		path := filepath.Join(dir, n+".png")
		if err := drawSweep(path, r); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 500 {
			t.Errorf("%s is %dx%d, want 1200x500 (ID and OOD panels)", path, b.Dx(), b.Dy())
		}
	}
}
