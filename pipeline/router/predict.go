package router

import (
	"fmt"
	"slices"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Predictor runs the router's logits graph. Inputs are padded to a few fixed
// batch sizes so the graph compiles a handful of times, not once per size.
type Predictor struct {
	mu      sync.Mutex
	backend compute.Backend
	store   *model.Store
	exec    *model.Exec // nil: not built, or freed when the predictor was evicted
	T       int
}

// maxPredictors bounds the predictors kept: each holds its compiled graphs
// and keeps its store (weights and optimizer state) alive, and an ablation
// run trains hundreds of routers in one process, each used for a while and
// then never again. A few cover the routers in use at once (training,
// evaluation, a served one).
const maxPredictors = 4

var (
	predictorsMu sync.Mutex
	predictors   []*Predictor // least recently used first
)

// PredictorFor returns the cached predictor of a store, building it if
// needed and evicting the least recently used one beyond maxPredictors.
func PredictorFor(backend compute.Backend, store *model.Store, T int) (*Predictor, error) {
	predictorsMu.Lock()
	var p *Predictor
	var evicted []*Predictor
	if i := slices.IndexFunc(predictors, func(p *Predictor) bool { return p.store == store }); i >= 0 {
		p = predictors[i]
		predictors = slices.Delete(predictors, i, i+1)
		if p.T != T || p.backend != backend {
			evicted, p = append(evicted, p), nil
		}
	}
	if p == nil {
		p = &Predictor{backend: backend, store: store, T: T}
	}
	predictors = append(predictors, p)
	if n := len(predictors) - maxPredictors; n > 0 {
		evicted = append(evicted, predictors[:n]...)
		predictors = slices.Delete(predictors, 0, n)
	}
	predictorsMu.Unlock()
	// Freed outside predictorsMu: an evicted predictor may be computing.
	for _, e := range evicted {
		e.free()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.build(); err != nil {
		return nil, err
	}
	return p, nil
}

// build compiles the graph unless it is there; p.mu is held.
func (p *Predictor) build() error {
	if p.exec != nil {
		return nil
	}
	exec, err := model.NewExec(p.backend, p.store, func(scope *model.Scope, x *Node) *Node {
		logits, _ := Logits(scope.In(ScopeName), x, p.T)
		return logits
	})
	if err != nil {
		return fmt.Errorf("building the router's inference graph: %w", err)
	}
	exec.SetMaxCache(16)
	p.exec = exec
	return nil
}

// free releases the compiled graphs; a caller still holding p rebuilds
// them on its next use.
func (p *Predictor) free() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exec != nil {
		p.exec.Finalize()
		p.exec = nil
	}
}

// Forget drops the cached predictor of a store (after its weights are
// replaced wholesale, or to free memory).
func Forget(store *model.Store) {
	predictorsMu.Lock()
	i := slices.IndexFunc(predictors, func(p *Predictor) bool { return p.store == store })
	var p *Predictor
	if i >= 0 {
		p = predictors[i]
		predictors = slices.Delete(predictors, i, i+1)
	}
	predictorsMu.Unlock()
	if p != nil {
		p.free()
	}
}

var padSizes = []int{1, 8, 64, 512}

// Inputs are feature rows in the padded chunks Logits runs on, uploaded
// once: the checkpoint evaluations score the same rows twenty times per
// training, and building and copying the dense chunks each time cost more
// than the products.
type Inputs struct {
	chunks []*tensors.Tensor
	rows   []int // the real rows of each chunk; the rest is padding
}

// PrepareInputs uploads the feature rows x for LogitsOf.
func PrepareInputs(backend compute.Backend, x [][]float32) (*Inputs, error) {
	in := &Inputs{}
	if len(x) == 0 {
		return in, nil
	}
	D := len(x[0])
	for start := 0; start < len(x); {
		n := min(len(x)-start, padSizes[len(padSizes)-1])
		size := padSizes[len(padSizes)-1]
		for _, s := range padSizes {
			if s >= n {
				size = s
				break
			}
		}
		t, err := featureTensor(backend, x[start:start+n], size, D)
		if err != nil {
			in.Finalize()
			return nil, err
		}
		in.chunks, in.rows = append(in.chunks, t), append(in.rows, n)
		start += n
	}
	return in, nil
}

// featureTensor is rows padded with zero rows to [size, D], written
// straight into a backend buffer where the backend shares its memory.
func featureTensor(backend compute.Backend, rows [][]float32, size, D int) (*tensors.Tensor, error) {
	t, err := tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, size, D))
	if err != nil {
		return nil, err
	}
	err = tensors.MutableFlatData(t, func(flat []float32) {
		for i, r := range rows {
			copy(flat[i*D:(i+1)*D], r)
		}
	})
	if err != nil {
		t.FinalizeAll()
		return nil, err
	}
	return t, nil
}

// Len is the number of rows.
func (in *Inputs) Len() int {
	n := 0
	for _, r := range in.rows {
		n += r
	}
	return n
}

// Finalize frees the uploaded chunks.
func (in *Inputs) Finalize() {
	if in == nil {
		return
	}
	for _, t := range in.chunks {
		t.FinalizeAll()
	}
	in.chunks, in.rows = nil, nil
}

// Logits returns [N][T] logits for the feature rows x.
func (p *Predictor) Logits(x [][]float32) ([][]float32, error) {
	in, err := PrepareInputs(p.backend, x)
	if err != nil {
		return nil, fmt.Errorf("router inference: %w", err)
	}
	defer in.Finalize()
	return p.LogitsOf(in)
}

// LogitsOf returns [N][T] logits for uploaded rows; in stays usable.
func (p *Predictor) LogitsOf(in *Inputs) ([][]float32, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.build(); err != nil {
		return nil, err
	}
	out := make([][]float32, 0, in.Len())
	for c, t := range in.chunks {
		res, err := p.exec.Exec(t)
		if err != nil {
			return nil, fmt.Errorf("router inference: %w", err)
		}
		vals := tensors.MustCopyFlatData[float32](res[0])
		res[0].FinalizeAll()
		for i := 0; i < in.rows[c]; i++ {
			out = append(out, vals[i*p.T:(i+1)*p.T])
		}
	}
	return out, nil
}

// Predict is PredictorFor(...).Logits(x).
func Predict(backend compute.Backend, store *model.Store, x [][]float32, T int) ([][]float32, error) {
	p, err := PredictorFor(backend, store, T)
	if err != nil {
		return nil, err
	}
	return p.Logits(x)
}

// Embeddings returns the trained query embeddings E(x) [N][dim] (before
// normalisation), for pictures of the embedding space.
func Embeddings(backend compute.Backend, store *model.Store, x [][]float32) ([][]float32, error) {
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, x *Node) *Node {
		return Embed(scope.In(ScopeName), x)
	})
	if err != nil {
		return nil, fmt.Errorf("building the embedding graph: %w", err)
	}
	defer exec.Finalize()
	if len(x) == 0 {
		return nil, nil
	}
	D := len(x[0])
	flat := make([]float32, len(x)*D)
	for i, r := range x {
		copy(flat[i*D:], r)
	}
	res, err := exec.Exec(tensors.FromFlatDataAndDimensions(flat, len(x), D))
	if err != nil {
		return nil, err
	}
	vals := tensors.MustCopyFlatData[float32](res[0])
	dim := len(vals) / len(x)
	out := make([][]float32, len(x))
	for i := range out {
		out[i] = vals[i*dim : (i+1)*dim]
	}
	return out, nil
}
