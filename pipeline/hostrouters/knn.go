package hostrouters

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/routerdc-go/routerdc/pipeline/parallel"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// DefaultK is the KNN neighbour count used when K <= 0.
const DefaultK = 20

// kindKNN is both the router kind ("router=knn") and its file's kind.
const kindKNN = "knn"

// SettingKNN is the neighbour count; prior reads it too.
const SettingKNN = "knn_k"

var settingKNN = routers.Int(SettingKNN, DefaultK, routers.Ours, "neighbours of the kNN router (and of prior's shrunk kNN)",
	routers.AtLeast(1))

func init() {
	register(hostKind{name: kindKNN, fileKind: kindKNN, settings: []routers.Setting{settingKNN},
		empty: func() Router { return &KNN{} },
		fit:   func(v routers.Values, _ int64) Router { return NewKNN(v.Int(SettingKNN)) }})
}

// KNN routes by the k most cosine-similar training queries: the predicted
// value of each LLM is the similarity-weighted mean of those neighbours'
// scores (weights max(cos, 0); a plain mean if all weights are 0). It uses
// the score matrix as given (binarising probability tasks is the caller's
// business). Neighbour ties go to the lower training index.
type KNN struct {
	// K is the number of neighbours (DefaultK when <= 0; capped at the
	// number of training rows).
	K int

	dim, nLLM int
	train     []float32 // n rows of dim, each L2-normalised
	scores    [][]float64
}

// NewKNN returns an unfitted KNN router with k neighbours.
func NewKNN(k int) *KNN { return &KNN{K: k} }

func (r *KNN) Kind() string { return kindKNN }

func (r *KNN) Name() string { return fmt.Sprintf("knn-k%d", r.k()) }

func (r *KNN) k() int {
	if r.K <= 0 {
		return DefaultK
	}
	return r.K
}

// Fit stores L2-normalised copies of the training rows and their scores;
// taskIDs are ignored (nil is fine).
func (r *KNN) Fit(x [][]float32, scores [][]float64, taskIDs []int) error {
	dim, t, err := checkFit(x, scores, taskIDs, false)
	if err != nil {
		return err
	}
	r.dim, r.nLLM = dim, t
	r.train = make([]float32, 0, len(x)*dim)
	for _, row := range x {
		r.train = append(r.train, unit(row)...)
	}
	r.scores = copyScores(scores)
	return nil
}

// Scores returns the neighbour-weighted mean scores of each query.
func (r *KNN) Scores(x [][]float32) [][]float64 {
	checkQuery(kindKNN, r.train != nil, x, r.dim)
	n := len(r.scores)
	k := r.k()
	if k > n {
		k = n
	}
	out := make([][]float64, len(x))
	const block = 32 // queries per pass over the training matrix
	parallel.Rows(len(x), block, func(lo, hi int) {
		sims := make([][]float32, block)
		for b := range sims {
			sims[b] = make([]float32, n)
		}
		q := make([][]float32, block)
		topIdx := make([]int, 0, k)
		topSim := make([]float32, 0, k)
		for start := lo; start < hi; start += block {
			end := min(start+block, hi)
			m := end - start
			for b := 0; b < m; b++ {
				q[b] = unit(x[start+b])
			}
			r.similarities(q[:m], sims)
			for b := 0; b < m; b++ {
				topIdx, topSim = topK(sims[b], k, topIdx[:0], topSim[:0])
				out[start+b] = r.weightedMean(topIdx, topSim)
			}
		}
	})
	return out
}

// similarities fills sims[b][i] = q[b] . train row i.
func (r *KNN) similarities(q [][]float32, sims [][]float32) {
	dim := r.dim
	for i := 0; i < len(r.scores); i++ {
		t := r.train[i*dim : (i+1)*dim]
		b := 0
		for ; b+4 <= len(q); b += 4 {
			s0, s1, s2, s3 := dot4(t, q[b], q[b+1], q[b+2], q[b+3])
			sims[b][i], sims[b+1][i], sims[b+2][i], sims[b+3][i] = s0, s1, s2, s3
		}
		for ; b < len(q); b++ {
			sims[b][i] = dot1(t, q[b])
		}
	}
}

// topK returns the indices and values of the k largest sims, in descending
// order (earlier index first among equals).
func topK(sims []float32, k int, idx []int, val []float32) ([]int, []float32) {
	for i, s := range sims {
		if len(idx) == k && !(s > val[k-1]) {
			continue
		}
		// Insert after all entries >= s.
		p := len(idx)
		for p > 0 && val[p-1] < s {
			p--
		}
		if len(idx) < k {
			idx, val = append(idx, 0), append(val, 0)
		}
		copy(idx[p+1:], idx[p:len(idx)-1])
		copy(val[p+1:], val[p:len(val)-1])
		idx[p], val[p] = i, s
	}
	return idx, val
}

func (r *KNN) weightedMean(idx []int, sim []float32) []float64 {
	out := make([]float64, r.nLLM)
	var wsum float64
	for j, i := range idx {
		w := math.Max(float64(sim[j]), 0)
		wsum += w
		for l, s := range r.scores[i] {
			out[l] += w * s
		}
	}
	if wsum == 0 { // no positive similarity: plain mean of the neighbours
		for l := range out {
			out[l] = 0
		}
		for _, i := range idx {
			for l, s := range r.scores[i] {
				out[l] += s
			}
		}
		wsum = float64(len(idx))
	}
	for l := range out {
		out[l] /= wsum
	}
	return out
}

// knnFile stores the training rows sparsely (CSR, little-endian uint32
// indices and float32 values, base64), which round-trips them exactly and
// keeps hashed features (mostly zeros) small.
type knnFile struct {
	header
	K       int         `json:"k"`
	Dim     int         `json:"dim"`
	Indptr  []int       `json:"indptr"`
	Indices string      `json:"indices"`
	Values  string      `json:"values"`
	Scores  [][]float64 `json:"scores"`
}

// Save writes the fitted router (training rows included) as JSON.
func (r *KNN) Save(path string) error {
	if r.train == nil {
		return fmt.Errorf("hostrouters: saving an unfitted knn router")
	}
	f := knnFile{header: header{fileFormat, fileVersion, kindKNN}, K: r.K, Dim: r.dim, Scores: r.scores}
	f.Indptr, f.Indices, f.Values = encodeCSR(r.train, len(r.scores), r.dim)
	return save(path, f)
}

// LoadKNN reads a router written by (*KNN).Save.
func LoadKNN(path string) (*KNN, error) {
	return loadKind[KNN](path, kindKNN)
}

func (r *KNN) decodeFile(data []byte) error {
	var f knnFile
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	n := len(f.Scores)
	if n == 0 || f.Dim <= 0 {
		return fmt.Errorf("inconsistent knn file (%d score rows, dim %d)", n, f.Dim)
	}
	train, err := decodeCSR(f.Indptr, f.Indices, f.Values, n, f.Dim)
	if err != nil {
		return err
	}
	t := len(f.Scores[0])
	for i, s := range f.Scores {
		if len(s) != t || t == 0 {
			return fmt.Errorf("score row %d has %d entries, row 0 has %d", i, len(s), t)
		}
	}
	*r = KNN{K: f.K, dim: f.Dim, nLLM: t, train: train, scores: f.Scores}
	return nil
}
