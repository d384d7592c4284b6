package encode

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
)

// SVD is latent semantic analysis over our hashed n-grams: the tf-idf vector
// of a text (many buckets, sparse) projected onto the top right singular
// vectors of the training questions' tf-idf matrix. The result is a small
// dense vector in which n-grams that occur together share directions, so the
// router's projection starts from features that already generalise across
// paraphrases instead of learning that from a few thousand queries.
type SVD struct {
	hashed *Hashed
	dim    int
	// buckets are the training set's non-zero buckets, ascending; comp holds
	// one row of dim weights per bucket (a bucket the training questions
	// never touch has a zero row, so it is not stored).
	buckets []int32
	comp    []float32
	col     map[int32]int32 // bucket -> row of comp
	name    string
	pool    sync.Pool // *svdScratch
}

type svdScratch struct {
	counts []float32
	sc     scratch
}

// svdOversample and svdPowerIters set the randomized SVD's accuracy: the
// sketch has dim+16 columns and is refined by 3 power iterations (Halko,
// Martinsson and Tropp 2011), enough for tf-idf spectra, which decay slowly.
const (
	svdOversample = 16
	svdPowerIters = 3
)

// FitSVD fits the hashed encoder's idf and then a rank-dim truncated SVD on
// texts (the distinct training questions). The randomized range finder is
// seeded with seed, so a fit is deterministic.
func FitSVD(cfg HashedConfig, dim int, texts []string, seed uint64) (*SVD, error) {
	if dim < 1 {
		return nil, fmt.Errorf("encode: SVD dimension %d, want >= 1", dim)
	}
	h := NewHashed(cfg)
	h.Fit(texts)
	// The saved idf is float32: fit with those values so a loaded encoder
	// encodes exactly as the fitted one.
	for b, v := range h.idf {
		h.idf[b] = float64(float32(v))
	}
	rows, err := h.encodeSparse(texts)
	if err != nil {
		return nil, err
	}
	// Columns of the matrix are the buckets in use, numbered in ascending
	// bucket order.
	used := map[int32]bool{}
	for _, r := range rows {
		for _, b := range r.idx {
			used[b] = true
		}
	}
	buckets := make([]int32, 0, len(used))
	for b := range used {
		buckets = append(buckets, b)
	}
	sort.Slice(buckets, func(i, j int) bool { return buckets[i] < buckets[j] })
	col := make(map[int32]int32, len(buckets))
	for i, b := range buckets {
		col[b] = int32(i)
	}
	a := make([]sparseRow, len(rows))
	for i, r := range rows {
		idx := make([]int32, len(r.idx))
		for j, b := range r.idx {
			idx[j] = col[b]
		}
		a[i] = sparseRow{idx: idx, val: r.val}
	}
	n, nc := len(a), len(buckets)
	if dim > n || dim > nc {
		return nil, fmt.Errorf("encode: SVD dimension %d is more than the %d training questions or their %d distinct buckets", dim, n, nc)
	}
	comp, err := truncatedSVD(a, nc, dim, seed)
	if err != nil {
		return nil, err
	}
	s := &SVD{hashed: h, dim: dim, buckets: buckets, comp: comp, col: col}
	s.name = s.fingerprint()
	return s, nil
}

// truncatedSVD returns the top-k right singular vectors of the n x nc matrix
// a as nc rows of k values. It works on the n side: Q spans the range of
// (A A^T)^q A A^T G, the small matrix Q^T A A^T Q gives the singular values
// and left vectors, and V = A^T Q U S^-1.
func truncatedSVD(a []sparseRow, nc, k int, seed uint64) ([]float32, error) {
	n := len(a)
	cols := transpose(a, nc)
	l := min(k+svdOversample, n, nc)
	rng := rand.New(rand.NewPCG(seed, 0x5bd1e995))
	g := mat.NewDense(n, l, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < l; j++ {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	y := gramTimes(a, cols, g)
	var q *mat.Dense
	for it := 0; ; it++ {
		var err error
		if q, err = orthonormal(y); err != nil {
			return nil, err
		}
		y = gramTimes(a, cols, q)
		if it == svdPowerIters-1 {
			break
		}
	}
	var qty mat.Dense
	qty.Mul(q.T(), y)
	sym := mat.NewSymDense(l, nil)
	for i := 0; i < l; i++ {
		for j := i; j < l; j++ {
			sym.SetSym(i, j, (qty.At(i, j)+qty.At(j, i))/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, true) {
		return nil, errors.New("encode: SVD: eigendecomposition did not converge")
	}
	vals := eig.Values(nil) // ascending
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	// P = Q U_k S_k^-1, largest singular value first.
	u := mat.NewDense(l, k, nil)
	for c := 0; c < k; c++ {
		src := l - 1 - c
		s := math.Sqrt(math.Max(vals[src], 0))
		if s == 0 {
			return nil, fmt.Errorf("encode: SVD: the training questions' tf-idf matrix has rank %d, below the dimension %d", c, k)
		}
		// A fixed sign (largest |entry| positive) keeps fits comparable.
		sign, best := 1.0, 0.0
		for r := 0; r < l; r++ {
			if v := vecs.At(r, src); math.Abs(v) > best {
				best, sign = math.Abs(v), math.Copysign(1, v)
			}
		}
		for r := 0; r < l; r++ {
			u.Set(r, c, sign*vecs.At(r, src)/s)
		}
	}
	var p mat.Dense
	p.Mul(q, u)
	// V = A^T P, a row per bucket.
	out := make([]float32, nc*k)
	pd := p.RawMatrix()
	parallelChunks(nc, workerCount(nc), func(_, lo, hi int) {
		acc := make([]float64, k)
		for c := lo; c < hi; c++ {
			clear(acc)
			for _, e := range cols[c] {
				floats.AddScaled(acc, e.val, pd.Data[e.row*pd.Stride:e.row*pd.Stride+k])
			}
			for j, v := range acc {
				out[c*k+j] = float32(v)
			}
		}
	})
	return out, nil
}

// entry is one non-zero of a matrix column.
type entry struct {
	row int
	val float64
}

// transpose lists each column's non-zeros in row order.
func transpose(a []sparseRow, nc int) [][]entry {
	cols := make([][]entry, nc)
	for i, r := range a {
		for j, c := range r.idx {
			cols[c] = append(cols[c], entry{i, float64(r.val[j])})
		}
	}
	return cols
}

// gramParts is the fixed number of column ranges gramTimes sums separately
// and then adds in order: a count independent of the machine's cores keeps
// the sums, hence the fitted encoder, identical everywhere.
const gramParts = 8

// gramTimes returns A A^T X = sum over columns c of a_c (a_c^T X), without
// forming A A^T or A^T X.
func gramTimes(a []sparseRow, cols [][]entry, x *mat.Dense) *mat.Dense {
	n, l := x.Dims()
	xd := x.RawMatrix()
	parts := make([][]float64, gramParts)
	nc := len(cols)
	workers := min(runtime.GOMAXPROCS(0), gramParts)
	parallelChunks(gramParts, workers, func(_, lo, hi int) {
		t := make([]float64, l)
		for part := lo; part < hi; part++ {
			y := make([]float64, n*l)
			for c := part * nc / gramParts; c < (part+1)*nc/gramParts; c++ {
				clear(t)
				for _, e := range cols[c] {
					floats.AddScaled(t, e.val, xd.Data[e.row*xd.Stride:e.row*xd.Stride+l])
				}
				for _, e := range cols[c] {
					floats.AddScaled(y[e.row*l:(e.row+1)*l], e.val, t)
				}
			}
			parts[part] = y
		}
	})
	y := parts[0]
	for _, p := range parts[1:] {
		floats.Add(y, p)
	}
	return mat.NewDense(n, l, y)
}

// orthonormal returns an orthonormal basis of y's columns by modified
// Gram-Schmidt, applied twice for stability; a thin QR through mat.QR would
// form the full n x n Q.
func orthonormal(y *mat.Dense) (*mat.Dense, error) {
	n, l := y.Dims()
	cols := make([][]float64, l)
	for c := range cols {
		cols[c] = mat.Col(nil, c, y)
	}
	for pass := 0; pass < 2; pass++ {
		for c := range cols {
			for p := 0; p < c; p++ {
				d := dot(cols[p], cols[c])
				for i, v := range cols[p] {
					cols[c][i] -= d * v
				}
			}
			norm := math.Sqrt(dot(cols[c], cols[c]))
			if norm == 0 || math.IsNaN(norm) {
				return nil, fmt.Errorf("encode: SVD: sketch column %d is degenerate", c)
			}
			for i := range cols[c] {
				cols[c][i] /= norm
			}
		}
	}
	q := mat.NewDense(n, l, nil)
	for c, col := range cols {
		q.SetCol(c, col)
	}
	return q, nil
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// Dim is the number of singular vectors kept.
func (s *SVD) Dim() int { return s.dim }

// Name identifies the settings and the fitted weights.
func (s *SVD) Name() string { return s.name }

func (s *SVD) fingerprint() string {
	// FNV-1a over the 32-bit words: SHA256 of a few hundred MB is seconds.
	f := uint64(fnvOffset)
	word := func(w uint32) { f = (f ^ uint64(w)) * fnvPrime }
	for i, b := range s.buckets {
		word(uint32(b))
		word(math.Float32bits(float32(s.hashed.idf[b])))
		for _, v := range s.comp[i*s.dim : (i+1)*s.dim] {
			word(math.Float32bits(v))
		}
	}
	c := s.hashed.cfg
	return fmt.Sprintf("ngram-svd-b%d-k%d-%016x", c.Bits, s.dim, mix64(f))
}

// Encode returns one L2-normalised vector of Dim values per text (zero for
// a text that shares no n-gram with the training questions).
func (s *SVD) Encode(texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	backing := make([]float32, len(texts)*s.dim)
	parallelChunks(len(texts), workerCount(len(texts)), func(_, lo, hi int) {
		sp, _ := s.pool.Get().(*svdScratch)
		if sp == nil {
			sp = &svdScratch{counts: make([]float32, s.hashed.Dim()), sc: scratch{track: true}}
		}
		acc := make([]float64, s.dim)
		for i := lo; i < hi; i++ {
			clear(acc)
			sp.sc.touched = sp.sc.touched[:0]
			s.hashed.countInto(texts[i], sp.counts, &sp.sc)
			for _, b := range sp.sc.touched {
				c := sp.counts[b]
				if c == 0 {
					continue
				}
				sp.counts[b] = 0
				row, ok := s.col[b]
				if !ok {
					continue
				}
				t := float64(c)
				if t > 0 {
					t = math.Log1p(t)
				} else {
					t = -math.Log1p(-t)
				}
				t *= s.hashed.idf[b]
				cr := s.comp[int(row)*s.dim : int(row)*s.dim+s.dim]
				for k, v := range cr {
					acc[k] += t * float64(v)
				}
			}
			v := backing[i*s.dim : (i+1)*s.dim : (i+1)*s.dim]
			var ss float64
			for _, x := range acc {
				ss += x * x
			}
			if ss > 0 {
				inv := 1 / math.Sqrt(ss)
				for k, x := range acc {
					v[k] = float32(x * inv)
				}
			}
			out[i] = v
		}
		s.pool.Put(sp)
	})
	return out, nil
}

// svdFile is the JSON half of a saved SVD encoder; the weights (for each
// used bucket: its id, idf and Dim components, little-endian) are in the
// sibling file named by Weights, checked against WeightsSHA256 on load.
type svdFile struct {
	Format        string       `json:"format"`
	Version       int          `json:"version"`
	Config        HashedConfig `json:"config"`
	NDocs         int          `json:"n_docs"`
	Dim           int          `json:"dim"`
	Buckets       int          `json:"buckets"`
	Weights       string       `json:"weights"`
	WeightsSHA256 string       `json:"weights_sha256"`
}

const svdFormat = "routerdc-ngram-svd-encoder"

// svdWeightsSuffix names the weights file beside the JSON file.
const svdWeightsSuffix = ".weights"

// Save writes path (JSON) and path + ".weights" (binary), each atomically;
// the JSON names the weights by hash, so a torn pair is detected on load.
func (s *SVD) Save(path string) error {
	var buf bytes.Buffer
	buf.Grow(len(s.buckets) * (8 + 4*s.dim))
	row := make([]byte, 8+4*s.dim)
	for i, b := range s.buckets {
		binary.LittleEndian.PutUint32(row[0:], uint32(b))
		binary.LittleEndian.PutUint32(row[4:], math.Float32bits(float32(s.hashed.idf[b])))
		for k, v := range s.comp[i*s.dim : (i+1)*s.dim] {
			binary.LittleEndian.PutUint32(row[8+4*k:], math.Float32bits(v))
		}
		buf.Write(row)
	}
	sum := sha256.Sum256(buf.Bytes())
	if err := atomicfile.Write(path+svdWeightsSuffix, buf.Bytes()); err != nil {
		return err
	}
	data, err := json.Marshal(svdFile{Format: svdFormat, Version: 1, Config: s.hashed.cfg, NDocs: s.hashed.nDocs,
		Dim: s.dim, Buckets: len(s.buckets), Weights: filepath.Base(path) + svdWeightsSuffix, WeightsSHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data)
}

// LoadSVD reads an encoder written by SVD.Save; it encodes exactly as the
// saved one did.
func LoadSVD(path string) (*SVD, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f svdFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("encode: %s: %w", path, err)
	}
	if f.Format != svdFormat || f.Version != 1 {
		return nil, fmt.Errorf("encode: %s: format %q version %d, want %q version 1", path, f.Format, f.Version, svdFormat)
	}
	cfg, err := f.Config.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("encode: %s: field config: %w", path, err)
	}
	if f.Dim < 1 || f.Buckets < 0 || f.Buckets > 1<<cfg.Bits {
		return nil, fmt.Errorf("encode: %s: dim %d with %d buckets of 2^%d is not a valid SVD encoder", path, f.Dim, f.Buckets, cfg.Bits)
	}
	if f.Weights != filepath.Base(f.Weights) {
		return nil, fmt.Errorf("encode: %s: field weights: %q is not a plain file name", path, f.Weights)
	}
	wpath := filepath.Join(filepath.Dir(path), f.Weights)
	w, err := os.ReadFile(wpath)
	if err != nil {
		return nil, fmt.Errorf("encode: %s: %w", path, err)
	}
	rowLen := 8 + 4*f.Dim
	if len(w) != f.Buckets*rowLen {
		return nil, fmt.Errorf("encode: %s: %d bytes, want %d buckets x %d bytes", wpath, len(w), f.Buckets, rowLen)
	}
	if sum := sha256.Sum256(w); hex.EncodeToString(sum[:]) != f.WeightsSHA256 {
		return nil, fmt.Errorf("encode: %s: SHA256 differs from the one %s records (a torn or edited file)", wpath, path)
	}
	h := &Hashed{cfg: cfg, nDocs: f.NDocs, idf: make([]float64, 1<<cfg.Bits)}
	s := &SVD{hashed: h, dim: f.Dim, buckets: make([]int32, f.Buckets), comp: make([]float32, f.Buckets*f.Dim),
		col: make(map[int32]int32, f.Buckets)}
	for i := range s.buckets {
		row := w[i*rowLen : (i+1)*rowLen]
		b := int32(binary.LittleEndian.Uint32(row))
		if b < 0 || int(b) >= len(h.idf) || (i > 0 && b <= s.buckets[i-1]) {
			return nil, fmt.Errorf("encode: %s: record %d: bucket %d out of range or order", wpath, i, b)
		}
		s.buckets[i] = b
		s.col[b] = int32(i)
		h.idf[b] = float64(math.Float32frombits(binary.LittleEndian.Uint32(row[4:])))
		for k := 0; k < f.Dim; k++ {
			s.comp[i*f.Dim+k] = math.Float32frombits(binary.LittleEndian.Uint32(row[8+4*k:]))
		}
	}
	s.name = s.fingerprint()
	return s, nil
}
