package router

import "github.com/routerdc-go/routerdc/pipeline/routers"

// KindRouterDC is RouterDC: the sample-LLM contrastive loss over the top
// K+ and bottom K- LLMs, plus lambda times the sample-sample loss.
const KindRouterDC = "routerdc"

func init() {
	routers.Register(&graphKind{
		name:     KindRouterDC,
		ssWeight: ParamLambda,
		settings: []routers.Setting{
			routers.Int(ParamKPos, 3, routers.Paper, "positive LLMs per query (K+)", routers.AtLeast(1)),
			routers.Int(ParamKNeg, 3, routers.Paper, "negative LLMs per query (K-)", routers.AtLeast(1)),
			routers.Float(ParamNegThreshold, 0.5, routers.Paper, "negatives scoring above this are dropped", routers.Any[float64]()),
			routers.Float(ParamLambda, 1.0, routers.Paper, "weight of the sample-sample loss", routers.AtLeast(0.0)),
			settingH,
		},
	})
}
