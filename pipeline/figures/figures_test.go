package figures

import (
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
)

// checkPNG decodes path and checks its pixel size and that it is not blank.
func checkPNG(t *testing.T, path string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s is %dx%d, want %dx%d", path, b.Dx(), b.Dy(), w, h)
	}
	colors := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			colors[[4]uint32{r >> 8, g >> 8, bl >> 8, a >> 8}] = true
		}
	}
	if len(colors) < 5 {
		t.Errorf("%s has only %d distinct colours: blank?", path, len(colors))
	}
	// Leftover temp files would mean the write was not atomic.
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.tmp*")); len(m) > 0 {
		t.Errorf("temp files left beside %s: %v", path, m)
	}
}

// outDir is where the figures go: a temp dir, or $FIGURES_EXAMPLES when set,
// so the examples can be kept and looked at.
func outDir(t *testing.T) string {
	if d := os.Getenv("FIGURES_EXAMPLES"); d != "" {
		return d
	}
	return t.TempDir()
}

func wantErr(t *testing.T, what string, err error, contains string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	if !strings.Contains(err.Error(), contains) {
		t.Errorf("%s: error %q does not mention %q", what, err, contains)
	}
}

func TestScoreNormalization(t *testing.T) {
	p := filepath.Join(outDir(t), "score_normalization.png")
	scores := []float64{0.9, 0.85, 0.2, 0.8, 0.88, 0.7, 0.95}
	if err := ScoreNormalization(p, data.LLMs, scores, "Example query: raw vs softmax-normalised scores"); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 800, 500)

	dir := t.TempDir()
	wantErr(t, "mismatch", ScoreNormalization(filepath.Join(dir, "a.png"), data.LLMs, scores[:3], "x"), "want 7")
	wantErr(t, "empty", ScoreNormalization(filepath.Join(dir, "a.png"), nil, nil, "x"), "at least one")
	wantErr(t, "NaN", ScoreNormalization(filepath.Join(dir, "a.png"), []string{"a"}, []float64{math.NaN()}, "x"), "finite")
	wantErr(t, "path", ScoreNormalization("", []string{"a"}, []float64{1}, "x"), "path")
}

func TestSoftmax(t *testing.T) {
	s := softmax([]float64{0, math.Log(3)})
	if math.Abs(s[0]-0.25) > 1e-12 || math.Abs(s[1]-0.75) > 1e-12 {
		t.Errorf("softmax = %v, want [0.25 0.75]", s)
	}
}

func TestScoreGapShare(t *testing.T) {
	p := filepath.Join(outDir(t), "score_gap_synthetic.png")
	// 0.1 itself is not below 0.1: 3 of 6 are.
	gaps := []float64{0, 0.05, 0.099, 0.1, 0.5, 1}
	share, err := ScoreGap(p, gaps, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if share != 0.5 {
		t.Errorf("share = %v, want 0.5", share)
	}
	checkPNG(t, p, 800, 500)

	dir := t.TempDir()
	_, err = ScoreGap(filepath.Join(dir, "a.png"), nil, 0.1)
	wantErr(t, "empty", err, "at least one")
	_, err = ScoreGap(filepath.Join(dir, "a.png"), []float64{0.1, -0.2}, 0.1)
	wantErr(t, "negative", err, "gaps[1]")
	_, err = ScoreGap(filepath.Join(dir, "a.png"), []float64{0.1}, 0)
	wantErr(t, "threshold", err, "smallGap")
	_, err = ScoreGap(filepath.Join(dir, "a.png"), []float64{math.Inf(1)}, 0.1)
	wantErr(t, "inf", err, "finite")
	// All gaps equal and at zero: a degenerate histogram still draws.
	if _, err := ScoreGap(filepath.Join(dir, "zero.png"), []float64{0, 0, 0}, 0.05); err != nil {
		t.Errorf("all-zero gaps: %v", err)
	}
}

func TestTopTwoGaps(t *testing.T) {
	sets := []*data.Dataset{
		{LLMs: []string{"a", "b", "c"}, Queries: []data.Query{
			{Scores: []float64{0.2, 0.9, 0.5}}, // 0.4
			{Scores: []float64{1, 1, 0}},       // tie: 0
			{Scores: []float64{0, 0, 0.25}},    // 0.25
		}},
		nil,
		{LLMs: []string{"a"}, Queries: []data.Query{{Scores: []float64{1}}}}, // no second LLM: skipped
	}
	got := TopTwoGaps(sets)
	want := []float64{0.4, 0, 0.25}
	if len(got) != len(want) {
		t.Fatalf("gaps %v, want %v", got, want)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("gap %d = %v, want %v", i, got[i], want[i])
		}
	}
}

// TestScoreGapRealData reports the share of training queries with a small
// top-2 gap; the paper says 64%.
func TestScoreGapRealData(t *testing.T) {
	dir := datatest.RequireDir(t)
	var paths []string
	for _, task := range data.IDTasks() {
		paths = append(paths, filepath.Join(dir, task.Train))
	}
	sets, err := data.LoadConsistent(paths...)
	if err != nil {
		t.Fatal(err)
	}
	gaps := TopTwoGaps(sets)
	if len(gaps) != 2000+1000+2000+820+115 {
		t.Errorf("%d gaps, want one per training query", len(gaps))
	}
	out := outDir(t)
	for _, thr := range []float64{0.1, 0.05} {
		share, err := ScoreGap(filepath.Join(out, fmt.Sprintf("score_gap_train_lt%g.png", thr)), gaps, thr)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("training queries with top-2 gap < %g: %.2f%% of %d", thr, 100*share, len(gaps))
	}
}

func TestRoutingHeatmap(t *testing.T) {
	p := filepath.Join(outDir(t), "routing_heatmap.png")
	tasks := []string{"MMLU", "GSM8K", "CMMLU", "ARC-C", "HumanEval", "PreAlgebra", "MBPP", "C-EVAL"}
	r := rand.New(rand.NewPCG(1, 2))
	share := make([][]float64, len(tasks))
	for i := range share {
		share[i] = make([]float64, len(data.LLMs))
		sum := 0.0
		for j := range share[i] {
			share[i][j] = math.Pow(r.Float64(), 4)
			sum += share[i][j]
		}
		for j := range share[i] {
			share[i][j] /= sum
		}
	}
	if err := RoutingHeatmap(p, tasks, data.LLMs, share, "Share of each task's test queries routed to each LLM"); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 800, 500)

	dir := t.TempDir()
	wantErr(t, "rows", RoutingHeatmap(filepath.Join(dir, "a.png"), tasks, data.LLMs, share[:2], "x"), "rows")
	wantErr(t, "cols", RoutingHeatmap(filepath.Join(dir, "a.png"), tasks[:1], []string{"a", "b"}, [][]float64{{1}}, "x"), "row 0")
	wantErr(t, "empty", RoutingHeatmap(filepath.Join(dir, "a.png"), nil, nil, nil, "x"), "at least one")
	wantErr(t, "range", RoutingHeatmap(filepath.Join(dir, "a.png"), []string{"t"}, []string{"a"}, [][]float64{{1.5}}, "x"), "[0, 1]")
}

func TestAblationHeatmap(t *testing.T) {
	p := filepath.Join(outDir(t), "ablation_heatmap.png")
	ks := []string{"1", "2", "3", "4", "5", "6"}
	vals := make([][]float64, len(ks))
	for i := range vals {
		vals[i] = make([]float64, len(ks))
		for j := range vals[i] {
			vals[i][j] = 55 + float64(i) - 0.5*float64(j)
			if i+j >= len(ks) { // K+ + K- > T: not a valid setting
				vals[i][j] = math.NaN()
			}
		}
	}
	if err := AblationHeatmap(p, "ID average accuracy (%) over K+ and K-", "K- (negatives)", "K+ (positives)", ks, ks, vals); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 800, 500)

	dir := t.TempDir()
	if err := AblationHeatmap(filepath.Join(dir, "flat.png"), "t", "x", "y", []string{"a"}, []string{"b"}, [][]float64{{3}}); err != nil {
		t.Errorf("single constant cell: %v", err)
	}
	wantErr(t, "all NaN", AblationHeatmap(filepath.Join(dir, "a.png"), "t", "x", "y", []string{"a"}, []string{"b"}, [][]float64{{math.NaN()}}), "NaN")
	wantErr(t, "ragged", AblationHeatmap(filepath.Join(dir, "a.png"), "t", "x", "y", []string{"a", "b"}, []string{"c"}, [][]float64{{1}}), "row 0")
}

func TestTrainingCurves(t *testing.T) {
	p := filepath.Join(outDir(t), "training_curves.png")
	var steps []int
	var loss, train, test []float64
	for s := 0; s <= 1000; s += 50 {
		steps = append(steps, s)
		loss = append(loss, 2*math.Exp(-float64(s)/200)+0.4)
		train = append(train, 60-12*math.Exp(-float64(s)/150))
		test = append(test, 57-10*math.Exp(-float64(s)/150))
	}
	curves := []Curve{
		{Name: "training loss", Steps: steps, Values: loss, Axis: "loss"},
		{Name: "train accuracy", Steps: steps, Values: train, Axis: "accuracy"},
		{Name: "test accuracy (ID avg)", Steps: steps, Values: test, Axis: "accuracy"},
	}
	if err := TrainingCurves(p, curves); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 1200, 500)
	one := filepath.Join(t.TempDir(), "acc.png")
	if err := TrainingCurves(one, curves[1:]); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, one, 800, 500)

	dir := t.TempDir()
	wantErr(t, "empty", TrainingCurves(filepath.Join(dir, "a.png"), nil), "at least one")
	wantErr(t, "axis", TrainingCurves(filepath.Join(dir, "a.png"), []Curve{{Name: "x", Steps: []int{1}, Values: []float64{1}, Axis: "lr"}}), "Axis")
	wantErr(t, "lengths", TrainingCurves(filepath.Join(dir, "a.png"), []Curve{{Name: "x", Steps: []int{1, 2}, Values: []float64{1}, Axis: "loss"}}), "want 2")
}

func TestAblationLine(t *testing.T) {
	p := filepath.Join(outDir(t), "ablation_lambda.png")
	x := []float64{0, 0.1, 0.5, 1, 2, 5, 10}
	id := Series{Name: "ID average", Mean: []float64{56.1, 57.2, 58.0, 58.5, 58.3, 57.9, 57.5}, Std: []float64{0.8, 0.6, 0.5, 0.4, 0.6, 0.7, 0.9}}
	ood := Series{Name: "OOD average", Mean: []float64{43.0, 44.1, 45.2, 45.8, 45.5, 45.0, 44.2}, Std: []float64{1, 0.9, 0.8, 0.7, 0.8, 1.1, 1.2}}
	if err := AblationLine(p, "Effect of lambda (mean ± std over seeds)", "lambda (weight of the sample-sample loss)", "accuracy (%)", x, []Series{id, ood}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 1200, 500) // one panel per series
	logp := filepath.Join(outDir(t), "ablation_clusters_logx.png")
	if err := AblationLine(logp, "Number of clusters N (one seed)", "N (clusters, log scale)", "ID average accuracy (%)",
		[]float64{2, 5, 10, 20, 30}, []Series{{Name: "ID", Mean: []float64{57.9, 58.3, 58.5, 58.2, 58.0}}}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, logp, 800, 500)

	dir := t.TempDir()
	wantErr(t, "std len", AblationLine(filepath.Join(dir, "a.png"), "t", "x", "y", x, []Series{{Name: "a", Mean: id.Mean, Std: []float64{1}}}), "Std")
	wantErr(t, "mean len", AblationLine(filepath.Join(dir, "a.png"), "t", "x", "y", x[:2], []Series{id}), "Mean")
	wantErr(t, "no series", AblationLine(filepath.Join(dir, "a.png"), "t", "x", "y", x, nil), "series")
	wantErr(t, "no x", AblationLine(filepath.Join(dir, "a.png"), "t", "x", "y", nil, []Series{id}), "x value")
	wantErr(t, "neg std", AblationLine(filepath.Join(dir, "a.png"), "t", "x", "y", x[:1], []Series{{Name: "a", Mean: []float64{1}, Std: []float64{-1}}}), "negative")
}

func TestTicksFit(t *testing.T) {
	if ticksFit([]float64{0, 0.1, 0.5, 1, 2, 5, 10}, false) {
		t.Error("lambda values crowd near 0 on a linear axis, yet ticksFit says they fit")
	}
	if !ticksFit([]float64{0.1, 0.5, 1, 2, 5, 10}, true) || !ticksFit([]float64{1, 2, 3}, false) {
		t.Error("well spread values should get exact ticks")
	}
}

func TestAblationCategories(t *testing.T) {
	p := filepath.Join(outDir(t), "ablation_remove_llm.png")
	cats := []string{"none"}
	for _, l := range data.LLMs {
		cats = append(cats, data.ShortName(l))
	}
	id := Series{Name: "ID average", Std: make([]float64, len(cats))}
	ood := Series{Name: "OOD average", Std: make([]float64, len(cats))}
	for i := range cats {
		id.Mean = append(id.Mean, 58.5-float64(i%3))
		ood.Mean = append(ood.Mean, 45.8-float64(i%4))
		id.Std[i], ood.Std[i] = 0.5, 0.9
	}
	if err := AblationCategories(p, "Removing one LLM at inference (mean ± std over seeds)", "LLM removed", "accuracy (%)", cats, []Series{id, ood}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 1200, 500)

	dir := t.TempDir()
	wantErr(t, "empty", AblationCategories(filepath.Join(dir, "a.png"), "t", "x", "y", nil, []Series{id}), "category")
	wantErr(t, "len", AblationCategories(filepath.Join(dir, "a.png"), "t", "x", "y", cats[:2], []Series{id}), "Mean")
	wantErr(t, "names", AblationCategories(filepath.Join(dir, "a.png"), "t", "x", "y", cats, []Series{id, {Mean: id.Mean}}), "name")
}

// blobs makes k Gaussian clusters of n points each, for the scatter tests.
func blobs(r *rand.Rand, k, n int, spread float64) ([][2]float64, []int) {
	var pts [][2]float64
	var labels []int
	for c := range k {
		cx, cy := 10*math.Cos(2*math.Pi*float64(c)/float64(k)), 10*math.Sin(2*math.Pi*float64(c)/float64(k))
		for range n {
			pts = append(pts, [2]float64{cx + spread*r.NormFloat64(), cy + spread*r.NormFloat64()})
			labels = append(labels, c)
		}
	}
	return pts, labels
}

func TestScatter(t *testing.T) {
	names := []string{"MMLU", "GSM8K", "CMMLU", "ARC-C", "HumanEval"}
	r := rand.New(rand.NewPCG(3, 4))
	loose, labels := blobs(r, 5, 300, 6)
	tight, _ := blobs(r, 5, 300, 2)
	out := outDir(t)
	p := filepath.Join(out, "tsne.png")
	if err := Scatter2D(p, "t-SNE of training-query embeddings, by task", tight, labels, names); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 800, 500)
	pair := filepath.Join(out, "tsne_pair.png")
	if err := ScatterPair(pair, "without sample-sample loss", "with sample-sample loss", loose, tight, labels, names); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, pair, 1200, 500)

	dir := t.TempDir()
	wantErr(t, "empty", Scatter2D(filepath.Join(dir, "a.png"), "t", nil, nil, names), "at least one point")
	wantErr(t, "labels len", Scatter2D(filepath.Join(dir, "a.png"), "t", tight, labels[:3], names), "labels")
	wantErr(t, "label range", Scatter2D(filepath.Join(dir, "a.png"), "t", [][2]float64{{1, 2}}, []int{5}, names), "labels[0]")
	wantErr(t, "NaN", Scatter2D(filepath.Join(dir, "a.png"), "t", [][2]float64{{math.NaN(), 2}}, []int{0}, names), "finite")
	wantErr(t, "pair", ScatterPair(filepath.Join(dir, "a.png"), "l", "r", tight, tight[:10], labels, names), "right")
}

// TestDegenerateInputs: single points and constant values are valid input
// and must draw, not panic inside gonum.
func TestDegenerateInputs(t *testing.T) {
	dir := t.TempDir()
	f := func(name string) string { return filepath.Join(dir, name) }
	if err := Scatter2D(f("one.png"), "t", [][2]float64{{1, 1}}, []int{0}, []string{"a", "b"}); err != nil {
		t.Error(err)
	}
	if err := AblationLine(f("one_x.png"), "t", "x", "y", []float64{1}, []Series{{Name: "a", Mean: []float64{2}, Std: []float64{0}}}); err != nil {
		t.Error(err)
	}
	if err := AblationCategories(f("one_point.png"), "t", "x", "y", []string{"a"}, []Series{{Name: "a", Mean: []float64{0}}}); err != nil {
		t.Error(err)
	}
	if err := Bars(f("one_bar.png"), "t", "y", []string{"a"}, []float64{0}); err != nil {
		t.Error(err)
	}
	if err := TrainingCurves(f("flat.png"), []Curve{{Name: "l", Steps: []int{0}, Values: []float64{1}, Axis: "loss"}}); err != nil {
		t.Error(err)
	}
	if err := ScoreNormalization(f("zeros.png"), []string{"a", "b"}, []float64{0, 0}, "t"); err != nil {
		t.Error(err)
	}
	if err := RoutingHeatmap(f("zero_share.png"), []string{"t"}, []string{"a"}, [][]float64{{0}}, "t"); err != nil {
		t.Error(err)
	}
}
