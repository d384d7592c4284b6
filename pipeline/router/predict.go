package router

import (
	"fmt"
	"slices"
	"sync"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/routerdc-go/routerdc/pipeline/parallel"
	"github.com/routerdc-go/routerdc/pipeline/vec"
)

// Predictor runs the router: the host head, or the logits graph, whose
// inputs are padded to a few fixed batch sizes so it compiles a handful of
// times, not once per size.
type Predictor struct {
	mu      sync.Mutex
	backend compute.Backend
	store   *model.Store
	exec    *model.Exec // nil: not built, or freed when the predictor was evicted
	T       int
	host    *hostHead // the model runs on the host (see build)
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

// build prepares the predictor unless it is ready; p.mu is held. The
// models the host head covers run on the host, as they train; the others
// run whole in the graph.
func (p *Predictor) build() error {
	if p.exec != nil || p.host != nil {
		return nil
	}
	if h, ok := hostHeadFor(ReadParams(p.store), p.T); ok {
		p.host = &h
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
	p.host = nil
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

// Inputs are feature rows prepared once for LogitsOf: the checkpoint
// evaluations score the same rows twenty times per training.
type Inputs struct {
	x        [][]float32
	rows     *Rows // x kept sparse, for the host head; made on its first use
	rowsOnce sync.Once
}

// PrepareInputs prepares the feature rows x for LogitsOf.
func PrepareInputs(x [][]float32) *Inputs { return &Inputs{x: x} }

// sparse is x as sparse rows.
func (in *Inputs) sparse() *Rows {
	in.rowsOnce.Do(func() { in.rows = SparseRows(in.x) })
	return in.rows
}

// Len is the number of rows.
func (in *Inputs) Len() int { return len(in.x) }

// Logits returns [N][T] logits for the feature rows x.
func (p *Predictor) Logits(x [][]float32) ([][]float32, error) {
	return p.LogitsOf(PrepareInputs(x))
}

// LogitsOf returns [N][T] logits of prepared rows.
func (p *Predictor) LogitsOf(in *Inputs) ([][]float32, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.build(); err != nil {
		return nil, err
	}
	n := in.Len()
	if n == 0 {
		return nil, nil
	}
	if p.host != nil {
		return p.hostLogits(in)
	}
	D := len(in.x[0])
	out := make([][]float32, 0, n)
	for start := 0; start < n; {
		rows := min(n-start, padSizes[len(padSizes)-1])
		size := padSizes[len(padSizes)-1]
		for _, s := range padSizes {
			if s >= rows {
				size = s
				break
			}
		}
		chunk := make([]float32, size*D)
		for i := 0; i < rows; i++ {
			copy(chunk[i*D:], in.x[start+i])
		}
		res, err := p.exec.Exec(tensors.FromFlatDataAndDimensions(chunk, size, D))
		if err != nil {
			return nil, fmt.Errorf("router inference: %w", err)
		}
		vals := tensors.MustCopyFlatData[float32](res[0])
		res[0].FinalizeAll()
		for i := 0; i < rows; i++ {
			out = append(out, vals[i*p.T:(i+1)*p.T])
		}
		start += rows
	}
	return out, nil
}

// hostLogits runs the host head over the prepared rows, on all cores.
func (p *Predictor) hostLogits(in *Inputs) ([][]float32, error) {
	rows := in.sparse()
	vars, err := hostVars(p.backend, p.store, p.T, rows.D)
	if err != nil {
		return nil, fmt.Errorf("router inference: %w", err)
	}
	n, dim, T := in.Len(), p.host.dim, p.T
	flat := make([]float32, n*T)
	err = withValues(vars, func(vals [][]float32) {
		parallel.Rows(n, 256, func(lo, hi int) {
			emb := make([]float32, (hi-lo)*dim)
			vec.GatherSum(emb, vals[0], vals[1], dim, rows.Sparse, lo, hi)
			logits, _ := p.host.logits(emb, vals[2])
			copy(flat[lo*T:hi*T], logits)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("router inference: %w", err)
	}
	out := make([][]float32, n)
	for i := range out {
		out[i] = flat[i*T : (i+1)*T : (i+1)*T]
	}
	return out, nil
}

// hostVars are the host head's variables: projection weights [D, dim],
// bias and LLM embeddings [T, dim], initialised when the store has none
// yet (an untrained router: the graph would create them on first use).
func hostVars(backend compute.Backend, store *model.Store, T, D int) ([]*model.Variable, error) {
	names := []string{"projection/weights", "projection/bias", "llm_embeddings"}
	if store.GetVariable("/"+ScopeName+"/"+names[0]) == nil {
		if err := initVariables(backend, store, T, D); err != nil {
			return nil, err
		}
	}
	vars := make([]*model.Variable, len(names))
	for i, name := range names {
		if vars[i] = store.GetVariable("/" + ScopeName + "/" + name); vars[i] == nil {
			return nil, fmt.Errorf("the router has no variable %s", name)
		}
	}
	return vars, nil
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
