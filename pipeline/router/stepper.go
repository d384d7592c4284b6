package router

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/routerdc-go/routerdc/pipeline/vec"
)

// stepper computes a training batch's loss and the gradients of the
// variables it trains (in the order of vars).
type stepper interface {
	vars() []*model.Variable
	step(batch *Rows, l BatchLabels) (loss float64, grads [][]float32, err error)
	finalize()
}

// newStepper runs the model on the host when the host head covers it, else
// in the graph: T LLMs, D features.
func newStepper(backend compute.Backend, store *model.Store, p Params, T, D int) (stepper, error) {
	if h, ok := hostHeadFor(p, T); ok {
		vars, err := hostVars(backend, store, T, D)
		if err != nil {
			return nil, err
		}
		return &hostStepper{head: h, params: vars}, nil
	}
	var vars []*model.Variable
	for v := range store.Scope("/" + ScopeName).IterVariables() {
		if v.Trainable {
			vars = append(vars, v)
		}
	}
	slices.SortFunc(vars, func(a, b *model.Variable) int { return strings.Compare(a.Path(), b.Path()) })
	g, err := newStepGraph(backend, store, T, vars)
	if err != nil {
		return nil, err
	}
	return &graphStepper{g: g}, nil
}

// hostStepper trains the host head: the projection over the sparse batch,
// then hostHead's losses.
type hostStepper struct {
	head   hostHead
	params []*model.Variable // projection weights [D, dim], bias, LLM embeddings [T, dim]
	// gW is the weights' gradient, dense and kept zero between steps: a
	// step writes the rows of its batch's features (touched) and clears
	// them at the next.
	gW      []float32
	touched []int32
}

func (s *hostStepper) vars() []*model.Variable { return s.params }
func (s *hostStepper) finalize()               {}

func (s *hostStepper) step(batch *Rows, l BatchLabels) (float64, [][]float32, error) {
	dim, B := s.head.dim, batch.Len()
	for _, k := range s.touched {
		clear(s.gW[int(k)*dim : (int(k)+1)*dim])
	}
	emb := make([]float32, B*dim)
	var K []float32
	err := withValues(s.params, func(vals [][]float32) {
		vec.GatherSum(emb, vals[0], vals[1], dim, batch.Sparse, 0, B)
		K = slices.Clone(vals[2])
	})
	if err != nil {
		return 0, nil, err
	}
	loss, dEmb, dK := s.head.lossAndGrads(emb, K, l)
	if s.gW == nil {
		s.gW = make([]float32, batch.D*dim)
	}
	vec.ScatterAdd(s.gW, dEmb, dim, batch.Sparse)
	s.touched = append(s.touched[:0], batch.Index...)
	gB := make([]float32, dim)
	for r := 0; r < B; r++ {
		for c, v := range dEmb[r*dim : (r+1)*dim] {
			gB[c] += v
		}
	}
	return loss, [][]float32{s.gW, gB, dK}, nil
}

// graphStepper trains the model in the graph from the batch made dense.
type graphStepper struct {
	g  *stepGraph
	xs []float32
}

func (s *graphStepper) vars() []*model.Variable { return s.g.vars }
func (s *graphStepper) finalize()               { s.g.finalize() }

func (s *graphStepper) step(batch *Rows, l BatchLabels) (float64, [][]float32, error) {
	B, D, K, T := batch.Len(), batch.D, l.KPos, l.T
	s.xs = slices.Grow(s.xs[:0], B*D)[:B*D]
	batch.DenseInto(s.xs)
	labels := []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions(l.PosOneHot, B, K, T),
		tensors.FromFlatDataAndDimensions(l.PosMask, B, K),
		tensors.FromFlatDataAndDimensions(l.NegMask, B, T),
		tensors.FromFlatDataAndDimensions(l.SSPos, B, B),
		tensors.FromFlatDataAndDimensions(l.SSNeg, B, B),
		tensors.FromFlatDataAndDimensions(l.SSValid, B),
		tensors.FromFlatDataAndDimensions(l.Target, B, T),
	}
	loss, out, err := s.g.run(tensors.FromFlatDataAndDimensions(s.xs, B, D), labels)
	if err != nil {
		return 0, nil, err
	}
	grads := make([][]float32, len(out))
	for i, t := range out {
		grads[i] = tensors.MustCopyFlatData[float32](t)
		t.FinalizeAll()
	}
	return loss, grads, nil
}

// withValues runs fn with the variables' values read in place (each
// tensor locked while fn runs).
func withValues(vars []*model.Variable, fn func([][]float32)) error {
	vals := make([][]float32, len(vars))
	var visit func(i int) error
	visit = func(i int) error {
		if i == len(vars) {
			fn(vals)
			return nil
		}
		t, err := vars[i].Value()
		if err != nil {
			return err
		}
		var inner error
		err = tensors.ConstFlatData(t, func(flat []float32) {
			vals[i] = flat
			inner = visit(i + 1)
		})
		if err != nil {
			return fmt.Errorf("reading %s: %w", vars[i].Path(), err)
		}
		return inner
	}
	return visit(0)
}
