package group

import (
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	prog "github.com/routerdc-go/routerdc/pipeline/progress"
)

func TestPCAMatchesEigen(t *testing.T) {
	// 120 rows in 30 dims with a decaying spectrum: the randomized PCA's
	// column variances must match the covariance eigenvalues.
	rng := splitMix64(7)
	n, d, k := 120, 30, 5
	x := make([][]float32, n)
	for i := range x {
		x[i] = make([]float32, d)
		for j := range x[i] {
			x[i][j] = float32(rng.normal()*math.Pow(0.8, float64(j)) + 3)
		}
	}
	scores, cols := pca(x, k, 1)
	if cols != k {
		t.Fatalf("cols %d, want %d", cols, k)
	}
	mu := make([]float64, d)
	for _, r := range x {
		for j, v := range r {
			mu[j] += float64(v) / float64(n)
		}
	}
	cov := make([]float64, d*d)
	for _, r := range x {
		for a := 0; a < d; a++ {
			for b := 0; b < d; b++ {
				cov[a*d+b] += (float64(r[a]) - mu[a]) * (float64(r[b]) - mu[b])
			}
		}
	}
	vals, _ := jacobiEigen(cov, d)
	for c := 0; c < k; c++ {
		var ss, mean float64
		for i := 0; i < n; i++ {
			mean += scores[i*k+c]
			ss += scores[i*k+c] * scores[i*k+c]
		}
		if math.Abs(mean) > 1e-9 {
			t.Errorf("component %d mean %g, want 0", c, mean)
		}
		if rel := math.Abs(ss-vals[c]) / vals[c]; rel > 1e-6 {
			t.Errorf("component %d: variance %g vs eigenvalue %g", c, ss, vals[c])
		}
	}
	for c := 1; c < k; c++ { // scores are uncorrelated
		var dot float64
		for i := 0; i < n; i++ {
			dot += scores[i*k] * scores[i*k+c]
		}
		if math.Abs(dot) > 1e-6*vals[0] {
			t.Errorf("components 0 and %d correlate: %g", c, dot)
		}
	}
}

func TestJacobiEigen(t *testing.T) {
	a := []float64{4, 1, 2, 1, 3, 0, 2, 0, 1}
	orig := append([]float64(nil), a...)
	vals, vecs := jacobiEigen(a, 3)
	for c := 0; c < 3; c++ {
		for r := 0; r < 3; r++ {
			var av float64
			for k := 0; k < 3; k++ {
				av += orig[r*3+k] * vecs[k*3+c]
			}
			if math.Abs(av-vals[c]*vecs[r*3+c]) > 1e-12 {
				t.Fatalf("A v != lambda v for eigenpair %d", c)
			}
		}
	}
	if !(vals[0] >= vals[1] && vals[1] >= vals[2]) {
		t.Errorf("eigenvalues not sorted: %v", vals)
	}
}

func TestConditionalPerplexity(t *testing.T) {
	dist := make([]float64, 90)
	for a := range dist {
		dist[a] = 100 + float64(a)*0.37 // large offsets must not underflow
	}
	p := make([]float64, len(dist))
	conditional(dist, 30, p)
	var h, sum float64
	for _, v := range p {
		sum += v
		if v > 0 {
			h -= v * math.Log(v)
		}
	}
	if math.Abs(sum-1) > 1e-12 || math.Abs(math.Exp(h)-30) > 1e-3 {
		t.Errorf("sum %g, perplexity %g; want 1, 30", sum, math.Exp(h))
	}
}

func TestTSNESeparatesBlobs(t *testing.T) {
	// 5 blobs of 40 in 60 dims (so PCA to 50 runs), then t-SNE to 5 dims:
	// k-means on the embedding must recover the blobs.
	x, label := blobs(5, 40, 60, 3)
	assign, emb, err := Groups(x, 5, TSNEConfig{Perplexity: 10, Iterations: 400, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(emb) != len(x) || len(emb[0]) != DefaultTSNEDims {
		t.Fatalf("embedding %dx%d", len(emb), len(emb[0]))
	}
	if ari := ARI(assign, label); ari < 0.95 {
		t.Errorf("ARI %.3f < 0.95; contingency %v", ari, Contingency(assign, label))
	}
	for _, r := range emb {
		for _, v := range r {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatal("non-finite embedding")
			}
		}
	}
}

func TestTSNEDeterministic(t *testing.T) {
	x, _ := blobs(3, 50, 20, 4)
	cfg := TSNEConfig{Dims: 3, Perplexity: 8, Iterations: 120, Seed: 9, PCADims: 10}
	run := func(procs int) [][]float64 {
		prev := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(prev)
		y, err := TSNE(x, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return y
	}
	a, b, c := run(2), run(2), run(1)
	d := run(4)
	for i := range a {
		for j := range a[i] {
			if math.Float64bits(a[i][j]) != math.Float64bits(b[i][j]) ||
				math.Float64bits(a[i][j]) != math.Float64bits(c[i][j]) ||
				math.Float64bits(a[i][j]) != math.Float64bits(d[i][j]) {
				t.Fatalf("row %d dim %d differs: %v %v %v %v", i, j, a[i][j], b[i][j], c[i][j], d[i][j])
			}
		}
	}
	cfg.Seed = 10
	e, _ := TSNE(x, cfg, nil)
	if e[0][0] == a[0][0] {
		t.Error("seed has no effect")
	}
}

func TestRepulse32x5MatchesLanes(t *testing.T) {
	// The vector kernels must be bit-identical to the scalar definition, so
	// embeddings do not depend on the CPU's features.
	if !haveRepulse32x5 {
		t.Skip("no vector kernel on this build/CPU")
	}
	widths := []bool{false} // AVX2
	if repulseWide {
		widths = append(widths, true)
	}
	defer func(saved bool) { repulseWide = saved }(repulseWide)
	rng := splitMix64(11)
	for _, wide := range widths {
		repulseWide = wide
		for _, n := range []int{1, 4, 17, 37, 100} {
			np := (n + lanes32 - 1) / lanes32 * lanes32
			yT, w := make([]float32, 5*np), make([]float32, np)
			for j := 0; j < n; j++ {
				w[j] = 1
				for c := 0; c < 5; c++ {
					yT[c*np+j] = float32(3 * rng.normal())
				}
			}
			for i := 0; i < n; i++ {
				w[i] = 0
				r1, r2 := make([]float64, 5), make([]float64, 5)
				z1 := repulse32x5(yT, w, i, r1)
				z2 := repulse32Lanes(yT, w, i, 5, r2, make([]float32, (lanes32+1)*5))
				w[i] = 1
				if math.Float64bits(z1) != math.Float64bits(z2) || !slicesEqual(r1, r2) {
					t.Fatalf("wide %v, n %d row %d: repulse32x5 %v %v vs repulse32Lanes %v %v", wide, n, i, z1, r1, z2, r2)
				}
			}
		}
	}
}

func slicesEqual(a, b []float64) bool {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

// stepper records the steps a loop reports to the progress display.
type stepper struct {
	strings.Builder
	n, added int
	what     string
}

func (s *stepper) Steps(n int, what string) prog.Bar { s.n, s.what = n, what; return s }
func (s *stepper) Add(n int)                         { s.added += n }
func (s *stepper) Finish()                           {}

// TestTSNEProgress: the iterations go to the run's progress display, and
// nothing is written to a plain writer (a log file would keep every frame).
func TestTSNEProgress(t *testing.T) {
	x, _ := blobs(2, 10, 4, 6)
	s := &stepper{}
	if _, err := TSNE(x, TSNEConfig{Perplexity: 3, Iterations: 5}, s); err != nil {
		t.Fatal(err)
	}
	if s.n != 5 || s.added != 5 || !strings.Contains(s.what, "t-SNE") || s.Len() != 0 {
		t.Errorf("steps %d/%d %q, text %q; want 5/5 t-SNE iterations and no text", s.added, s.n, s.what, s.String())
	}
}

func TestTSNEErrors(t *testing.T) {
	x, _ := blobs(2, 10, 4, 6)
	ragged := [][]float32{{1, 2}, {3}}
	cases := []struct {
		name string
		x    [][]float32
		cfg  TSNEConfig
		want string
	}{
		{"empty", nil, TSNEConfig{}, "no rows"},
		{"no columns", [][]float32{{}, {}}, TSNEConfig{}, "no columns"},
		{"ragged", ragged, TSNEConfig{Perplexity: 0.5}, "row 1 has 1 columns"},
		{"perplexity too large", x, TSNEConfig{}, "less than the number of rows"},
		{"negative perplexity", x, TSNEConfig{Perplexity: -1}, "perplexity"},
		{"negative dims", x, TSNEConfig{Dims: -1, Perplexity: 3}, "dims"},
		{"negative iterations", x, TSNEConfig{Iterations: -1, Perplexity: 3}, "iterations"},
	}
	for _, c := range cases {
		if _, err := TSNE(c.x, c.cfg, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
	gcases := []struct {
		name string
		x    [][]float32
		n    int
		want string
	}{
		{"zero groups", x, 0, "at least 1"},
		{"too many groups", x, 21, "21 groups requested for 20 rows"},
		{"empty", nil, 2, "no rows"},
		{"ragged", ragged, 1, "row 1 has 1 columns"},
	}
	for _, c := range gcases {
		if _, _, err := Groups(c.x, c.n, TSNEConfig{Perplexity: 3}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Groups %s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

// TestConditionalSubnormalsAreZero: conditional's zeros for exponents
// below the normal range change no probability (but subnormal ones, to 0)
// against exp of them all (rows with very spread distances, where
// the search drives beta up).
func TestConditionalSubnormalsAreZero(t *testing.T) {
	rng := splitMix64(5)
	subnormals := 0 // exps in the subnormal range during the reference's searches
	reference := func(dist []float64, perplexity float64, out []float64) {
		want := math.Log(perplexity)
		d0 := dist[0]
		beta, lo, hi := 1.0, math.Inf(-1), math.Inf(1)
		for step := 0; step < perplexitySteps; step++ {
			var sum, sumDP float64
			for a, d := range dist {
				out[a] = math.Exp(-(d - d0) * beta)
				if out[a] != 0 && out[a] < 0x1p-1022 {
					subnormals++
				}
				sum += out[a]
			}
			for a, d := range dist {
				out[a] /= sum
				sumDP += (d - d0) * out[a]
			}
			diff := math.Log(sum) + beta*sumDP - want
			if math.Abs(diff) <= perplexityTol {
				break
			}
			if diff > 0 {
				lo = beta
				if math.IsInf(hi, 1) {
					beta *= 2
				} else {
					beta = (beta + hi) / 2
				}
			} else {
				hi = beta
				if math.IsInf(lo, -1) {
					beta /= 2
				} else {
					beta = (beta + lo) / 2
				}
			}
		}
	}
	for row := 0; row < 300; row++ {
		dist := make([]float64, 46)
		scale := math.Pow(10, float64(row%7)-1)
		for a := range dist {
			dist[a] = scale * math.Abs(rng.normal()) * float64(a+1)
		}
		slices.Sort(dist)
		got, want := make([]float64, 46), make([]float64, 46)
		conditional(dist, 15, got)
		reference(dist, 15, want)
		for a := range want {
			if want[a] != 0 && want[a] < 0x1p-1022 {
				if got[a] != 0 {
					t.Fatalf("row %d: p[%d] = %v, want 0 for a subnormal", row, a, got[a])
				}
				continue
			}
			if math.Float64bits(got[a]) != math.Float64bits(want[a]) {
				t.Fatalf("row %d: p[%d] = %v, want %v", row, a, got[a], want[a])
			}
		}
	}
	if subnormals == 0 {
		t.Fatal("no row reached subnormal probabilities: the test checks nothing")
	}
}

// The unrolled 5-dimensional attraction gives the loop's bits.
func TestAttractExact5(t *testing.T) {
	x, _ := gaussBlobs(4, 100, 12, 1, 7)
	f := make([]float64, 0, len(x)*12)
	for _, r := range x {
		for _, v := range r {
			f = append(f, float64(v))
		}
	}
	n := len(x)
	P := affinities(f, n, 12, 20)
	rng := splitMix64(11)
	y := make([]float64, n*5)
	for i := range y {
		y[i] = rng.normal() * 1e-2 * float64(1+i%7)
	}
	want, got := make([]float64, 5), make([]float64, 5)
	for i := 0; i < n; i++ {
		attractGeneric(P, y, i, 5, want)
		attractExact5(P, y, i, got)
		for c := range want {
			if math.Float64bits(got[c]) != math.Float64bits(want[c]) {
				t.Fatalf("row %d dim %d: %v, the loop gives %v", i, c, got[c], want[c])
			}
		}
	}
}
