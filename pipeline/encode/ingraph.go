package encode

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// GraphFn builds a trainable encoder inside the router's GoMLX graph: x
// holds the rows its Encoder's Encode returned (token ids, say, packed as
// floats), the result is the features [B, D] the router's head projects.
// Its variables live under scope, so the router trains, checkpoints and
// restores them with its own.
type GraphFn func(scope *model.Scope, x *graph.Node) *graph.Node

// InGraph is a Kind whose encoder can be trained with the router (the
// paper fine-tunes mDeBERTa with the RouterDC losses).
type InGraph interface {
	// Graph returns the encoder's graph for the settings, nil when the
	// settings keep the encoder frozen (its Encode then returns features).
	Graph(v routers.Values) (GraphFn, error)
}

// ParamLR is the learning rate of the encoder's variables when an InGraph
// kind trains with the router; the head keeps learning_rate.
const ParamLR = "encoder_learning_rate"

func init() {
	routers.Declare(routers.Float(ParamLR, 5e-5, routers.Paper,
		"AdamW learning rate of a fine-tuned encoder's weights (encoder_train=true); the router head keeps learning_rate",
		routers.Above(0.0)))
}

// GraphOf returns the in-graph encoder of the settings, nil when the
// settings' encoder is not trained with the router.
func GraphOf(v routers.Values) (GraphFn, error) {
	k, err := Lookup(v.String(ParamEncoder))
	if err != nil {
		return nil, err
	}
	g, ok := k.(InGraph)
	if !ok {
		return nil, nil
	}
	fn, err := g.Graph(v)
	if err != nil {
		return nil, fmt.Errorf("encoder %s: %w", k.Name(), err)
	}
	return fn, nil
}
