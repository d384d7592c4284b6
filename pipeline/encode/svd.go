package encode

import (
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

	"gonum.org/v1/gonum/blas/blas32"
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
	// texts are the training questions and coords their coordinates on the
	// dim singular directions scaled by 1/singular value (n x dim): the
	// saved form. The per-bucket weights V = A^T coords are rebuilt from
	// them on load, which is exact and 20x smaller than saving V (a row of
	// dim values for each of up to 2^18 buckets).
	texts  []string
	coords []float32
	// buckets are the training set's non-zero buckets, ascending; comp holds
	// one row of dim weights per bucket (a bucket the training questions
	// never touch has a zero row, so it is not stored).
	buckets []int32
	comp    []float32
	col     []int32 // bucket -> row of comp, -1 for none
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
	s, a, cols, err := newSVD(cfg, dim, texts)
	if err != nil {
		return nil, err
	}
	if n, nc := len(a), len(cols); dim > n || dim > nc {
		return nil, fmt.Errorf("encode: SVD dimension %d is more than the %d training questions or their %d distinct buckets", dim, n, nc)
	}
	if s.coords, err = truncatedSVD(a, cols, dim, seed); err != nil {
		return nil, err
	}
	s.project(cols)
	return s, nil
}

// newSVD fits the idf on texts and returns their tf-idf matrix, by rows and
// by columns, over the buckets in use (numbered in ascending bucket order).
func newSVD(cfg HashedConfig, dim int, texts []string) (*SVD, []sparseRow, [][]entry, error) {
	h := NewHashed(cfg)
	h.Fit(texts)
	rows, err := h.encodeSparse(texts)
	if err != nil {
		return nil, nil, nil, err
	}
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
	col := make([]int32, h.Dim())
	for b := range col {
		col[b] = -1
	}
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
	s := &SVD{hashed: h, dim: dim, texts: texts, buckets: buckets, col: col}
	return s, a, transpose(a, len(buckets)), nil
}

// project sets the per-bucket weights V = A^T coords and the name.
func (s *SVD) project(cols [][]entry) {
	k := s.dim
	p := make([]float64, len(s.coords))
	for i, v := range s.coords {
		p[i] = float64(v)
	}
	s.comp = make([]float32, len(cols)*k)
	parallelChunks(len(cols), workerCount(len(cols)), func(_, lo, hi int) {
		acc := make([]float64, k)
		for c := lo; c < hi; c++ {
			clear(acc)
			for _, e := range cols[c] {
				floats.AddScaled(acc, e.val, p[e.row*k:(e.row+1)*k])
			}
			for j, v := range acc {
				s.comp[c*k+j] = float32(v)
			}
		}
	})
	s.name = s.fingerprint()
}

// truncatedSVD returns P = U_k S_k^-1 (n x k, float32) for the n x nc
// matrix a (rows a, columns cols) = U S V^T, so that the top-k right
// singular vectors are V_k = A^T P. It works on the n side: Q spans the
// range of (A A^T)^q A A^T G, and the small matrix Q^T A A^T Q gives the
// singular values and, through Q, the left vectors.
func truncatedSVD(a []sparseRow, cols [][]entry, k int, seed uint64) ([]float32, error) {
	n, nc := len(a), len(cols)
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
	out := make([]float32, n*k)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			out[i*k+j] = float32(p.At(i, j))
		}
	}
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
		acc := make([]float32, s.dim)
		saxpy := blas32.Implementation().Saxpy
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
				row := s.col[b]
				if row < 0 {
					continue
				}
				t := s.hashed.termWeight(int(b), c)
				// Most of encoding is this axpy (dim values per n-gram): gonum's is SIMD.
				saxpy(s.dim, float32(t), s.comp[int(row)*s.dim:int(row+1)*s.dim], 1, acc, 1)
			}
			v := backing[i*s.dim : (i+1)*s.dim : (i+1)*s.dim]
			var ss float64
			for _, x := range acc {
				ss += float64(x) * float64(x)
			}
			if ss > 0 {
				inv := 1 / math.Sqrt(ss)
				for k, x := range acc {
					v[k] = float32(float64(x) * inv)
				}
			}
			out[i] = v
		}
		s.pool.Put(sp)
	})
	return out, nil
}

// svdFile is the JSON half of a saved SVD encoder: the settings and the
// training questions. Their coordinates (n x dim float32, little-endian) are
// in the sibling file named by Coords, checked against CoordsSHA256 on
// load.
type svdFile struct {
	Format       string       `json:"format"`
	Version      int          `json:"version"`
	Config       HashedConfig `json:"config"`
	Dim          int          `json:"dim"`
	Texts        []string     `json:"texts"`
	Coords       string       `json:"coords"`
	CoordsSHA256 string       `json:"coords_sha256"`
	// Name is the fitted encoder's name; a load that rebuilds another
	// (a changed hashing) is refused.
	Name string `json:"name"`
}

const svdFormat = "routerdc-ngram-svd-encoder"

// svdCoordsSuffix names the coordinates file beside the JSON file.
const svdCoordsSuffix = ".coords"

// Save writes path (JSON) and path + ".coords" (binary), each atomically;
// the JSON names the coordinates by hash, so a torn pair is detected on
// load. The training questions are in the file: a router directory holds
// the questions its encoder was fitted on.
func (s *SVD) Save(path string) error {
	buf := make([]byte, 4*len(s.coords))
	for i, v := range s.coords {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	sum := sha256.Sum256(buf)
	if err := atomicfile.Write(path+svdCoordsSuffix, buf); err != nil {
		return err
	}
	data, err := json.Marshal(svdFile{Format: svdFormat, Version: 1, Config: s.hashed.cfg, Dim: s.dim, Texts: s.texts,
		Coords: filepath.Base(path) + svdCoordsSuffix, CoordsSHA256: hex.EncodeToString(sum[:]), Name: s.name})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data)
}

// LoadSVD reads an encoder written by SVD.Save and rebuilds its weights; it
// encodes exactly as the saved one did.
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
	if f.Dim < 1 || len(f.Texts) < f.Dim {
		return nil, fmt.Errorf("encode: %s: field dim: %d with %d texts is not a fitted SVD encoder", path, f.Dim, len(f.Texts))
	}
	if f.Coords != filepath.Base(f.Coords) {
		return nil, fmt.Errorf("encode: %s: field coords: %q is not a plain file name", path, f.Coords)
	}
	cpath := filepath.Join(filepath.Dir(path), f.Coords)
	w, err := os.ReadFile(cpath)
	if err != nil {
		return nil, fmt.Errorf("encode: %s: %w", path, err)
	}
	if len(w) != 4*len(f.Texts)*f.Dim {
		return nil, fmt.Errorf("encode: %s: %d bytes, want %d texts x %d float32s", cpath, len(w), len(f.Texts), f.Dim)
	}
	if sum := sha256.Sum256(w); hex.EncodeToString(sum[:]) != f.CoordsSHA256 {
		return nil, fmt.Errorf("encode: %s: SHA256 differs from the one %s records (a torn or edited file)", cpath, path)
	}
	s, _, cols, err := newSVD(cfg, f.Dim, f.Texts)
	if err != nil {
		return nil, fmt.Errorf("encode: %s: %w", path, err)
	}
	s.coords = make([]float32, len(f.Texts)*f.Dim)
	for i := range s.coords {
		v := math.Float32frombits(binary.LittleEndian.Uint32(w[4*i:]))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("encode: %s: value %d is %v", cpath, i, v)
		}
		s.coords[i] = v
	}
	s.project(cols)
	if s.name != f.Name {
		return nil, fmt.Errorf("encode: %s: rebuilt encoder %s differs from the saved %s (written by another version of the hashing?)", path, s.name, f.Name)
	}
	return s, nil
}
