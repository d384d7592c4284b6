package router

import (
	"slices"
	"strings"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// EncoderScope is where a fine-tuned encoder's variables live, under the
// router's scope: checkpoints, snapshots and Save take them with the head.
const EncoderScope = "encoder"

// encoderGraph is the store's in-graph encoder (encode.InGraph kinds with
// fine-tuning on), nil when the features come in ready. A graph-building
// function: it panics on errors (the executor returns them).
func encoderGraph(store *model.Store) encode.GraphFn {
	fn, err := encode.GraphOf(routers.Read(store))
	if err != nil {
		panic(err)
	}
	return fn
}

// encoderLR wraps the optimizer so the fine-tuned encoder's variables take
// steps at encoder_learning_rate (the paper's 5e-5) while the head keeps
// learning_rate: GoMLX's Adam has one learning rate, and an Adam(W) step
// is proportional to it (weight decay included), so scaling the encoder
// variables' step by the ratio is Adam at the encoder's rate.
type encoderLR struct {
	optimizer.Interface
	ratio float64
}

func withEncoderLR(opt optimizer.Interface, p Params) optimizer.Interface {
	if fn, err := encode.GraphOf(p.Values); err != nil || fn == nil {
		return opt // no in-graph encoder (errors surface when the graph is built)
	}
	return encoderLR{Interface: opt, ratio: p.Values.Float(encode.ParamLR) / p.LearningRate}
}

func (o encoderLR) UpdateGraph(scope *model.Scope, g *Graph, loss *Node) {
	prefix := "/" + ScopeName + "/" + EncoderScope + "/"
	type before struct {
		v   *model.Variable
		old *Node
	}
	var vars []before
	for v := range scope.Store().Scope("/").IterVariables() {
		if v.Trainable && strings.HasPrefix(v.Path(), prefix) && v.InUseByGraph(g) {
			vars = append(vars, before{v, v.NodeValue(g)})
		}
	}
	// Fixed order: the graph, hence the results, do not depend on map order.
	slices.SortFunc(vars, func(a, b before) int { return strings.Compare(a.v.Path(), b.v.Path()) })
	o.Interface.UpdateGraph(scope, g, loss)
	for _, b := range vars {
		if b.v.ChangedInGraph(g) {
			step := Sub(b.v.NodeValue(g), b.old)
			b.v.SetNodeValue(Add(b.old, MulScalar(step, o.ratio)))
		}
	}
}

// featureDropout is the input_dropout applied to the training batches:
// none when the features are an in-graph encoder's token ids.
func featureDropout(p Params) float64 {
	if fn, err := encode.GraphOf(p.Values); err == nil && fn != nil {
		return 0
	}
	return p.InputDropout
}
