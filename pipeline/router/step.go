package router

import (
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/vec"
)

// stepGraph runs a batch through the model in the graph, for the models
// the host head does not cover (hidden layers, a fine-tuned encoder): the
// loss and its gradients by automatic differentiation. The host applies
// AdamW, as for the host head: one optimizer for every kind.
type stepGraph struct {
	exec *model.Exec
	// vars are the trainable variables, in the order of the gradient
	// outputs (by path: the graph does not depend on map order).
	vars []*model.Variable
}

func newStepGraph(backend compute.Backend, store *model.Store, T int, vars []*model.Variable) (*stepGraph, error) {
	s := &stepGraph{vars: vars}
	lossFn := LossFn(store.Scope("/"))
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, inputs []*Node) []*Node {
		logits, emb := Logits(scope.In(ScopeName), inputs[0], T)
		loss := lossFn(inputs[1:], []*Node{logits, emb})
		g := loss.Graph()
		wrt := make([]*Node, len(s.vars))
		for i, v := range s.vars {
			wrt[i] = v.NodeValue(g)
		}
		return append([]*Node{loss}, Gradient(loss, wrt...)...)
	})
	if err != nil {
		return nil, fmt.Errorf("building the training graph: %w", err)
	}
	s.exec = exec
	return s, nil
}

// run returns the loss and the gradients of s.vars, which the caller
// finalizes.
func (s *stepGraph) run(input *tensors.Tensor, labels []*tensors.Tensor) (loss float64, grads []*tensors.Tensor, err error) {
	out, err := s.exec.Exec(append([]*tensors.Tensor{input}, labels...))
	if err != nil {
		return 0, nil, err
	}
	return scalar(out[0]), out[1:], nil
}

func (s *stepGraph) finalize() { s.exec.Finalize() }

// initVariables creates and initialises the model's variables (those
// missing: a resumed run has loaded its own): the model's graph is built,
// which declares them, and only their initialisers run.
func initVariables(backend compute.Backend, store *model.Store, T, D int) error {
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, x *Node) *Node {
		logits, _ := Logits(scope.In(ScopeName), x, T)
		return logits
	})
	if err != nil {
		return err
	}
	defer exec.Finalize()
	if _, err := exec.Compile(shapes.Make(dtypes.Float32, 1, D)); err != nil {
		return fmt.Errorf("building the router's graph: %w", err)
	}
	if err := store.InitializeVariables(backend, nil); err != nil {
		return fmt.Errorf("initialising the router's variables: %w", err)
	}
	return nil
}

// adamW is AdamW on the host (GoMLX's formulation and defaults: betas 0.9
// and 0.999, epsilon 1e-7, weight decay on every variable, scaled by the
// learning rate). Its moments are store variables under AdamScope, so a
// saved training state holds them.
type adamW struct {
	params []adamParam
	c      vec.Adam
}

// AdamScope holds the optimizer's moments in the store.
const AdamScope = "adamw"

type adamParam struct {
	v      *model.Variable
	m1, m2 *model.Variable
	lr     float32
}

func newAdamW(store *model.Store, p Params, vars []*model.Variable) *adamW {
	o := &adamW{c: vec.Adam{Beta1: 0.9, Beta2: 0.999, Eps: 1e-7, Decay: float32(p.WeightDecay)}}
	encPrefix := "/" + ScopeName + "/" + EncoderScope + "/"
	for _, v := range vars {
		lr := p.LearningRate
		if strings.HasPrefix(v.Path(), encPrefix) {
			lr = p.Values.Float(encode.ParamLR)
		}
		sc := store.Scope("/" + AdamScope + v.Path())
		zeros := func(name string) *model.Variable {
			m := sc.VariableWithValue(name, tensors.FromShape(v.Shape()))
			m.Trainable = false
			return m
		}
		o.params = append(o.params, adamParam{v: v, m1: zeros("m1"), m2: zeros("m2"), lr: float32(lr)})
	}
	return o
}

// update applies step t (1, 2, ...) with grads[i] the gradient of
// params[i].
func (o *adamW) update(t int, grads [][]float32) error {
	c := o.c
	c.Debias1 = float32(1 / (1 - math.Pow(float64(c.Beta1), float64(t))))
	c.Debias2 = float32(1 / (1 - math.Pow(float64(c.Beta2), float64(t))))
	for i, p := range o.params {
		c.LR = p.lr
		err := withFlat(p.v, func(w []float32) error {
			return withFlat(p.m1, func(m1 []float32) error {
				return withFlat(p.m2, func(m2 []float32) error {
					vec.AdamW(w, grads[i], m1, m2, c)
					return nil
				})
			})
		})
		if err != nil {
			return fmt.Errorf("updating %s: %w", p.v.Path(), err)
		}
	}
	return nil
}

// withFlat runs fn on the variable's values in place (the backend's own
// memory when it shares it with the host).
func withFlat(v *model.Variable, fn func([]float32) error) error {
	t, err := v.Value()
	if err != nil {
		return err
	}
	var ferr error
	if err := tensors.MutableFlatData(t, func(flat []float32) { ferr = fn(flat) }); err != nil {
		return err
	}
	return ferr
}
