package group

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/routerdc-go/routerdc/pipeline/parallel"
	prog "github.com/routerdc-go/routerdc/pipeline/progress"
	"github.com/routerdc-go/routerdc/pipeline/vec"
)

// t-SNE defaults (van der Maaten & Hinton 2008; optimiser settings as in
// scikit-learn's exact method). The paper reduces to 5 dimensions.
const (
	DefaultTSNEDims       = 5
	DefaultPerplexity     = 30
	DefaultTSNEIterations = 1000
	DefaultPCADims        = 50

	earlyExaggeration = 12
	exaggerationIters = 250
	momentumEarly     = 0.5
	momentumLate      = 0.8
	minGain           = 0.01
	initStd           = 1e-4
	perplexityTol     = 1e-5
	perplexitySteps   = 100
)

// TSNEConfig sets up TSNE. Zero fields take the defaults above.
type TSNEConfig struct {
	Dims       int     // output dimensions (default 5)
	Perplexity float64 // effective neighbour count (default 30); must be < number of rows
	Iterations int     // gradient steps (default 1000)
	Seed       int64   // seeds PCA's random projection and the initial embedding
	PCADims    int     // reduce to this many dims first (default 50); < 0 skips PCA
	// Method picks the algorithm; the zero value (TSNEAuto) runs the exact
	// one up to ExactTSNEMaxRows rows and Barnes-Hut above.
	Method TSNEMethod
	// Theta is Barnes-Hut's accuracy knob (default DefaultTheta): a tree
	// cell is summarised by its centre of mass when half its widest side is
	// less than Theta times its distance (van der Maaten's convention; the
	// distance is from the cell's centre of mass to the nearest point of
	// the group of rows being served, and floored at the kernel's scale,
	// see bhKernelFloor2). Unused by the exact method.
	Theta float64
}

// TSNEMethod selects the t-SNE algorithm.
type TSNEMethod int

const (
	TSNEAuto      TSNEMethod = iota // exact up to ExactTSNEMaxRows rows, Barnes-Hut above
	TSNEExact                       // exact O(N^2) repulsion, whatever N
	TSNEBarnesHut                   // Barnes-Hut O(N log N), whatever N
)

// ExactTSNEMaxRows is the largest row count TSNEAuto runs exactly. The
// released training set is 5000 queries and the paper's tables are
// computed from its exact embedding, so every N up to 5000 keeps the exact
// method. Exact costs O(N^2) per iteration: a grouping stage of 12 s at
// 5000 rows on 2 cores (AVX-512; 18 s with AVX2), growing 36-fold at RouterBench's
// 30000; Barnes-Hut is O(N log N) and from 5000 rows on is the faster one.
const ExactTSNEMaxRows = 5000

func (m TSNEMethod) exact(n int) bool {
	switch m {
	case TSNEExact:
		return true
	case TSNEBarnesHut:
		return false
	}
	return n <= ExactTSNEMaxRows
}

func (c TSNEConfig) withDefaults() (TSNEConfig, error) {
	if c.Dims == 0 {
		c.Dims = DefaultTSNEDims
	}
	if c.Perplexity == 0 {
		c.Perplexity = DefaultPerplexity
	}
	if c.Iterations == 0 {
		c.Iterations = DefaultTSNEIterations
	}
	if c.PCADims == 0 {
		c.PCADims = DefaultPCADims
	}
	if c.Theta == 0 {
		c.Theta = DefaultTheta
	}
	switch {
	case c.Dims < 0:
		return c, fmt.Errorf("group: t-SNE dims %d < 0", c.Dims)
	case c.Perplexity < 0 || math.IsNaN(c.Perplexity) || math.IsInf(c.Perplexity, 0):
		return c, fmt.Errorf("group: t-SNE perplexity %v must be positive", c.Perplexity)
	case c.Iterations < 0:
		return c, fmt.Errorf("group: t-SNE iterations %d < 0", c.Iterations)
	case c.Theta < 0 || math.IsNaN(c.Theta) || math.IsInf(c.Theta, 0):
		return c, fmt.Errorf("group: t-SNE theta %v must be positive", c.Theta)
	case c.Method < TSNEAuto || c.Method > TSNEBarnesHut:
		return c, fmt.Errorf("group: unknown t-SNE method %d", c.Method)
	}
	return c, nil
}

// checkRows rejects empty or ragged input and returns the column count.
func checkRows(x [][]float32, what string) (int, error) {
	if len(x) == 0 {
		return 0, fmt.Errorf("group: %s on no rows", what)
	}
	d := len(x[0])
	if d == 0 {
		return 0, fmt.Errorf("group: %s on rows with no columns", what)
	}
	for i, r := range x {
		if len(r) != d {
			return 0, fmt.Errorf("group: %s row %d has %d columns, row 0 has %d", what, i, len(r), d)
		}
	}
	return d, nil
}

// TSNE embeds the rows of x in cfg.Dims dimensions with t-SNE: exact up to
// ExactTSNEMaxRows rows, Barnes-Hut above (cfg.Method overrides; see the
// package comment). What follows describes the exact method; Barnes-Hut
// differs only in the repulsive forces (see barnesHut).
//
// The rows are first reduced to cfg.PCADims principal components (as in van
// der Maaten's reference tsne.py). Input affinities are Gaussian over
// squared Euclidean distances with per-row bandwidths set by binary search
// to the perplexity; as in Barnes-Hut t-SNE they are kept only for each
// row's floor(3*perplexity)+1 nearest neighbours (the far rows carry
// almost no mass, and a dense P would cost O(N^2) memory), then symmetrised
// and normalised. The repulsive (Student-t) forces are exact over all pairs.
// Optimisation: KL gradient (with scikit-learn's factor 4), early
// exaggeration 12 for the first 250 iterations with momentum 0.5, then
// momentum 0.8, learning rate max(N/12/4, 50), per-coordinate gains
// (+0.2 / x0.8, floor 0.01) as in tsne.py, embedding re-centred each step,
// initial embedding N(0, 1e-4^2).
//
// The result depends only on (x, cfg): rows are processed in parallel but
// each row's sums run in index order and cross-row reductions add the
// per-row sums in row order, so output is bit-identical across runs and
// GOMAXPROCS. For Dims 5 the O(N^2) loop has an AVX kernel (GOEXPERIMENT=simd
// on amd64) that reproduces the scalar arithmetic exactly; other Dims run the
// scalar loop, several times slower. progress, when non-nil, receives a
// progress bar.
func TSNE(x [][]float32, cfg TSNEConfig, progress io.Writer) ([][]float64, error) {
	if _, err := checkRows(x, "t-SNE"); err != nil {
		return nil, err
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	n := len(x)
	if cfg.Perplexity >= float64(n) {
		return nil, fmt.Errorf("group: t-SNE perplexity %v must be less than the number of rows (%d)", cfg.Perplexity, n)
	}

	var feats []float64
	var p int
	if cfg.PCADims > 0 {
		feats, p = pca(x, cfg.PCADims, cfg.Seed)
	} else {
		p = len(x[0])
		feats = make([]float64, n*p)
		for i, r := range x {
			for j, v := range r {
				feats[i*p+j] = float64(v)
			}
		}
	}
	var y []float64
	if cfg.Method.exact(n) {
		P := affinities(feats, n, p, cfg.Perplexity)
		y = optimise(n, cfg, progress, func(y, attr, rep, zrow []float64) {
			forces(P, y, n, cfg.Dims, attr, rep, zrow)
		})
	} else {
		// Rows are renumbered in a kd-tree order of their features, so a
		// row's affinities point to nearby rows in memory: at 30000 rows the
		// embedding outgrows the cache and the attraction's reads dominate
		// otherwise. The renumbered problem is as valid as the original
		// (only which random start point goes to which row changes) and is
		// as deterministic.
		order := kdOrder(feats, n, p)
		pf := make([]float64, n*p)
		for r, i := range order {
			copy(pf[r*p:(r+1)*p], feats[int(i)*p:(int(i)+1)*p])
		}
		feats = nil
		P := affinitiesTiled(pf, n, p, cfg.Perplexity)
		pf = nil // dead weight during optimisation
		bh := newBarnesHut(P, n, cfg.Dims, cfg.Theta)
		yr := optimise(n, cfg, progress, bh.forces)
		y = make([]float64, n*cfg.Dims)
		for r, i := range order {
			copy(y[int(i)*cfg.Dims:(int(i)+1)*cfg.Dims], yr[r*cfg.Dims:(r+1)*cfg.Dims])
		}
	}
	out := make([][]float64, n)
	for i := range out {
		out[i] = y[i*cfg.Dims : (i+1)*cfg.Dims : (i+1)*cfg.Dims]
	}
	return out, nil
}

// sparseP is a symmetric CSR matrix of joint probabilities.
type sparseP struct {
	ptr []int
	col []int32
	val []float64
}

// affinities returns the symmetrised, normalised kNN affinity matrix of the
// n rows of f (row-major, p columns).
func affinities(f []float64, n, p int, perplexity float64) *sparseP {
	k := min(n-1, int(3*perplexity)+1)
	nbr := make([]int32, n*k)
	cond := make([]float64, n*k) // p_{j|i}
	parallel.Rows(n, 32, func(lo, hi int) {
		h := make(knnHeap, 0, k)
		dist := make([]float64, k)
		for i := lo; i < hi; i++ {
			h = h[:0]
			fi := f[i*p : (i+1)*p]
			for j := 0; j < n; j++ {
				if j == i {
					continue
				}
				fj := f[j*p : (j+1)*p]
				var d float64
				for c, v := range fi {
					t := v - fj[c]
					d += t * t
				}
				h.offer(d, int32(j), k)
			}
			h.sortAscending()
			for a, e := range h {
				nbr[i*k+a], dist[a] = e.j, e.d
			}
			conditional(dist, perplexity, cond[i*k:(i+1)*k])
		}
	})
	return symmetrise(nbr, cond, n, k)
}

// symmetrise returns (P + P^T) / sum over the n x k conditional affinities
// cond of the neighbours nbr (row-major), each entry floored at 1e-12.
func symmetrise(nbr []int32, cond []float64, n, k int) *sparseP {
	// P + P^T: each pair gets at most two contributions, and a two-term sum
	// does not depend on order, so a serial scatter is deterministic.
	type entry struct {
		j int32
		v float64
	}
	rows := make([][]entry, n)
	for i := 0; i < n; i++ {
		for a := 0; a < k; a++ {
			j, v := nbr[i*k+a], cond[i*k+a]
			rows[i] = append(rows[i], entry{j, v})
			rows[j] = append(rows[j], entry{int32(i), v})
		}
	}
	sp := &sparseP{ptr: make([]int, n+1)}
	var total float64
	for i, r := range rows {
		// Equal keys are the two halves of one pair, summed below in either
		// order with the same result, so an unstable sort is fine.
		slices.SortFunc(r, func(a, b entry) int { return cmp.Compare(a.j, b.j) })
		for a := 0; a < len(r); a++ {
			if len(sp.col) > sp.ptr[i] && sp.col[len(sp.col)-1] == r[a].j {
				sp.val[len(sp.val)-1] += r[a].v
				continue
			}
			sp.col = append(sp.col, r[a].j)
			sp.val = append(sp.val, r[a].v)
		}
		sp.ptr[i+1] = len(sp.col)
		for _, v := range sp.val[sp.ptr[i]:] {
			total += v
		}
		rows[i] = nil
	}
	inv := 1 / max(total, 1e-300)
	for a := range sp.val {
		sp.val[a] = max(sp.val[a]*inv, 1e-12)
	}
	return sp
}

// conditional fills out with p_{j|i} over one row's neighbour distances
// (ascending), with the Gaussian precision found by bisection so that the
// entropy is log(perplexity) (scikit-learn's _binary_search_perplexity).
// Distances are shifted by the nearest one, which leaves the normalised
// probabilities unchanged but keeps exp from underflowing to all zeros.
// minNormalExp is log of the smallest normal float64.
var minNormalExp = math.Log(0x1p-1022)

func conditional(dist []float64, perplexity float64, out []float64) {
	vec.ClearUpper() // else math.Exp may run 60x slower (see vec.ClearUpper)
	want := math.Log(perplexity)
	d0 := dist[0]
	beta, lo, hi := 1.0, math.Inf(-1), math.Inf(1)
	for step := 0; step < perplexitySteps; step++ {
		var sum, sumDP float64
		for a, d := range dist {
			// Below minNormalExp exp is subnormal, which is slow to compute
			// and to use (the exps' time in the profile about halved
			// without them); it is far below every sum it enters, and the
			// affinities are floored at 1e-12 (symmetrise), so 0 gives the
			// same P (TestConditionalSubnormalsAreZero).
			v := 0.0
			if x := -(d - d0) * beta; x >= minNormalExp {
				v = math.Exp(x)
			}
			out[a] = v
			sum += v
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

// optimise runs the gradient descent and returns the n x dims embedding
// (row-major). forces(y, attr, rep, zrow) fills, for each row i, attr with
// sum_j p_ij num_ij (y_i - y_j), rep with sum_j num_ij^2 (y_i - y_j) and
// zrow with sum_j num_ij, num_ij = 1/(1+|y_i-y_j|^2), exactly or
// approximately.
func optimise(n int, cfg TSNEConfig, progress io.Writer, forces func(y, attr, rep, zrow []float64)) []float64 {
	dims := cfg.Dims
	rng := splitMix64(uint64(cfg.Seed))
	y := make([]float64, n*dims)
	for i := range y {
		y[i] = initStd * rng.normal()
	}
	eta := max(float64(n)/earlyExaggeration/4, 50)
	update := make([]float64, n*dims)
	gains := make([]float64, n*dims)
	for i := range gains {
		gains[i] = 1
	}
	attr := make([]float64, n*dims) // sum_j p_ij q_ij (y_i - y_j), unnormalised q
	rep := make([]float64, n*dims)  // sum_j num_ij^2 (y_i - y_j)
	zrow := make([]float64, n)      // sum_j num_ij, num = 1/(1+|y_i-y_j|^2)

	bar := prog.NewBar(progress, cfg.Iterations, fmt.Sprintf("t-SNE %d rows, iteration", n))
	defer bar.Finish()

	for it := 0; it < cfg.Iterations; it++ {
		exag, mom := 1.0, momentumLate
		if it < exaggerationIters {
			exag, mom = earlyExaggeration, momentumEarly
		}
		forces(y, attr, rep, zrow)
		var z float64
		for _, v := range zrow {
			z += v
		}
		invZ := 1 / z
		parallel.Rows(n*dims, 1024, func(lo, hi int) {
			for e := lo; e < hi; e++ {
				g := 4 * (exag*attr[e] - rep[e]*invZ)
				// tsne.py: grow the gain while the step keeps flipping the
				// gradient's sign, shrink it while they agree.
				if (g > 0) != (update[e] > 0) {
					gains[e] += 0.2
				} else {
					gains[e] *= 0.8
				}
				if gains[e] < minGain {
					gains[e] = minGain
				}
				update[e] = mom*update[e] - eta*gains[e]*g
				y[e] += update[e]
			}
		})
		recentre(y, n, dims)
		bar.Add(1)
	}
	return y
}

// forces computes, per row i, the attractive sum over i's affinities, the
// repulsive sum and the Student-t normaliser part over all j != i.
func forces(P *sparseP, y []float64, n, dims int, attr, rep, zrow []float64) {
	// The all-pairs loop reads a padded column-major float32 copy, sixteen
	// rows per step (see repulse32); pads and the row itself get weight 0.
	np := (n + lanes32 - 1) / lanes32 * lanes32
	yT := make([]float32, dims*np)
	w := make([]float32, np)
	for j := 0; j < n; j++ {
		w[j] = 1
		for c := 0; c < dims; c++ {
			yT[c*np+j] = float32(y[j*dims+c])
		}
	}
	parallel.Rows(n, 16, func(lo, hi int) {
		w := slices.Clone(w)
		scratch := make([]float32, (lanes32+1)*dims)
		for i := lo; i < hi; i++ {
			ai := attr[i*dims : (i+1)*dims : (i+1)*dims]
			w[i] = 0
			zrow[i] = repulse32(yT, w, i, dims, rep[i*dims:(i+1)*dims], scratch)
			w[i] = 1
			if dims == 5 {
				attractExact5(P, y, i, ai)
			} else {
				attractGeneric(P, y, i, dims, ai)
			}
		}
	})
}

// attractExact5 is attractGeneric for 5 dimensions with the sums in
// registers: the same operations in the same order, so the same bits
// (TestAttractExact5). The exact t-SNE keeps this per-row order;
// Barnes-Hut's attract sums in lanes instead.
func attractExact5(P *sparseP, y []float64, i int, ai []float64) {
	yi := y[i*5 : i*5+5 : i*5+5]
	y0, y1, y2, y3, y4 := yi[0], yi[1], yi[2], yi[3], yi[4]
	var a0, a1, a2, a3, a4 float64
	for a := P.ptr[i]; a < P.ptr[i+1]; a++ {
		j := int(P.col[a]) * 5
		yj := y[j : j+5 : j+5]
		t0, t1, t2, t3, t4 := y0-yj[0], y1-yj[1], y2-yj[2], y3-yj[3], y4-yj[4]
		d2 := float64(t0 * t0)
		d2 += float64(t1 * t1)
		d2 += float64(t2 * t2)
		d2 += float64(t3 * t3)
		d2 += float64(t4 * t4)
		q := P.val[a] / (1 + d2)
		a0 += float64(q * t0)
		a1 += float64(q * t1)
		a2 += float64(q * t2)
		a3 += float64(q * t3)
		a4 += float64(q * t4)
	}
	ai[0], ai[1], ai[2], ai[3], ai[4] = a0, a1, a2, a3, a4
}

// lanes is the number of interleaved partial sums of Barnes-Hut's cell
// loops (see bhtsne.go): row j goes to lane j%4 and the lanes are added at
// the end, the order a 4-wide vector kernel needs.
const lanes = 4

// lanes32 is the same for the exact all-pairs repulsion, which runs in
// float32 (the N^2 loop is bound by its divisions; float32 does four
// times as many per instruction as the float64 of the 4-lane version,
// which took ~20 s of the 5,000-row t-SNE on 2 cores): row j goes to lane
// j%16, the lanes are added in float64 by sum16. The scalar repulse32Lanes
// defines the arithmetic and each vector kernel (16 lanes in one AVX-512
// register, or two AVX2 ones) reproduces it bit for bit (no FMA; the
// float32 conversions stop the compiler fusing), so the embedding does not
// depend on which kernel ran.
const lanes32 = 16

// repulse32 dispatches to a vector kernel where one exists.
func repulse32(yT, w []float32, i, dims int, ri []float64, scratch []float32) float64 {
	if dims == 5 && haveRepulse32x5 {
		return repulse32x5(yT, w, i, ri)
	}
	return repulse32Lanes(yT, w, i, dims, ri, scratch)
}

// repulse32Lanes sets ri = sum_j w_j num_ij^2 (y_i - y_j) and returns
// sum_j w_j num_ij, with num_ij = 1/(1+|y_i-y_j|^2), over the padded
// column-major yT (dims columns of len(w)). scratch holds
// (lanes32+1)*dims.
func repulse32Lanes(yT, w []float32, i, dims int, ri []float64, scratch []float32) float64 {
	np := len(w)
	t, acc := scratch[:dims], scratch[dims:(lanes32+1)*dims]
	clear(acc)
	var z [lanes32]float32
	for j := 0; j < np; j++ {
		var d2 float32
		for c := 0; c < dims; c++ {
			t[c] = yT[c*np+i] - yT[c*np+j]
			if c == 0 {
				d2 = float32(t[c] * t[c])
			} else {
				d2 += float32(t[c] * t[c])
			}
		}
		q := float32(1/(1+d2)) * w[j]
		l := j % lanes32
		z[l] += q
		q = float32(q * q)
		for c := 0; c < dims; c++ {
			acc[l*dims+c] += float32(q * t[c])
		}
	}
	var lane [lanes32]float32
	for c := 0; c < dims; c++ {
		for l := range lane {
			lane[l] = acc[l*dims+c]
		}
		ri[c] = sum16(&lane)
	}
	return sum16(&z)
}

// sum16 adds sixteen lane sums in float64, in a fixed tree.
func sum16(a *[lanes32]float32) float64 {
	var s [8]float64
	for k := range s {
		s[k] = float64(a[2*k]) + float64(a[2*k+1])
	}
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}

// sumLanes is the fixed order in which lane sums are combined.
func sumLanes(a, b, c, d float64) float64 { return (a + b) + (c + d) }

func recentre(y []float64, n, dims int) {
	mean := make([]float64, dims)
	for i := 0; i < n; i++ {
		for c := 0; c < dims; c++ {
			mean[c] += y[i*dims+c]
		}
	}
	for c := range mean {
		mean[c] /= float64(n)
	}
	for i := 0; i < n; i++ {
		for c := 0; c < dims; c++ {
			y[i*dims+c] -= mean[c]
		}
	}
}

// knnHeap keeps the k smallest (distance, index) pairs as a max-heap; ties
// on distance go to the lower index, so the neighbour set is deterministic.
type knnEntry struct {
	d float64
	j int32
}

type knnHeap []knnEntry

func (h knnHeap) less(a, b int) bool { // a is "larger" (evicted first)
	return h[a].d > h[b].d || (h[a].d == h[b].d && h[a].j > h[b].j)
}

func (h *knnHeap) offer(d float64, j int32, k int) {
	s := *h
	if len(s) < k {
		s = append(s, knnEntry{d, j})
		for c := len(s) - 1; c > 0; { // sift up
			p := (c - 1) / 2
			if !s.less(c, p) {
				break
			}
			s[c], s[p] = s[p], s[c]
			c = p
		}
		*h = s
		return
	}
	if d > s[0].d || (d == s[0].d && j > s[0].j) {
		return
	}
	s[0] = knnEntry{d, j}
	s.down(0, len(s))
}

func (h knnHeap) down(c, n int) {
	for {
		l := 2*c + 1
		if l >= n {
			return
		}
		big := l
		if r := l + 1; r < n && h.less(r, l) {
			big = r
		}
		if !h.less(big, c) {
			return
		}
		h[c], h[big] = h[big], h[c]
		c = big
	}
}

// sortAscending heap-sorts in place: nearest first.
func (h knnHeap) sortAscending() {
	for end := len(h) - 1; end > 0; end-- {
		h[0], h[end] = h[end], h[0]
		h.down(0, end)
	}
}
