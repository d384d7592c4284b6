package router

import (
	"github.com/gomlx/gomlx/ml/model"

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
