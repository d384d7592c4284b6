package router

import (
	"fmt"
	"sync"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Predictor runs the router's logits graph. Inputs are padded to a few fixed
// batch sizes so the graph compiles a handful of times, not once per size.
type Predictor struct {
	mu   sync.Mutex
	exec *model.Exec
	T    int
}

var (
	predictorsMu sync.Mutex
	predictors   = map[*model.Store]*Predictor{}
)

// PredictorFor returns the cached predictor of a store.
func PredictorFor(backend compute.Backend, store *model.Store, T int) (*Predictor, error) {
	predictorsMu.Lock()
	defer predictorsMu.Unlock()
	if p, ok := predictors[store]; ok && p.T == T {
		return p, nil
	}
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, x *Node) *Node {
		logits, _ := Logits(scope.In(ScopeName), x, T)
		return logits
	})
	if err != nil {
		return nil, fmt.Errorf("building the router's inference graph: %w", err)
	}
	exec.SetMaxCache(16)
	p := &Predictor{exec: exec, T: T}
	predictors[store] = p
	return p, nil
}

// Forget drops the cached predictor of a store (after its weights are
// replaced wholesale, or to free memory).
func Forget(store *model.Store) {
	predictorsMu.Lock()
	defer predictorsMu.Unlock()
	delete(predictors, store)
}

var padSizes = []int{1, 8, 64, 512}

// Logits returns [N][T] logits for the feature rows x.
func (p *Predictor) Logits(x [][]float32) ([][]float32, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([][]float32, 0, len(x))
	if len(x) == 0 {
		return out, nil
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
		flat := make([]float32, size*D)
		for i := 0; i < n; i++ {
			copy(flat[i*D:], x[start+i])
		}
		res, err := p.exec.Exec(tensors.FromFlatDataAndDimensions(flat, size, D))
		if err != nil {
			return nil, fmt.Errorf("router inference: %w", err)
		}
		vals := tensors.MustCopyFlatData[float32](res[0])
		res[0].FinalizeAll()
		for i := 0; i < n; i++ {
			out = append(out, vals[i*p.T:(i+1)*p.T])
		}
		start += n
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
