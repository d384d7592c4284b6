package router

import "github.com/routerdc-go/routerdc/pipeline/routers"

// KindCosine is the paper's CosineClassifier: cross-entropy on the argmax
// LLM.
const KindCosine = "cosine"

func init() {
	routers.Register(&graphKind{
		name:         KindCosine,
		crossEntropy: true,
		oneHot:       true,
		ssWeight:     ParamBaselineLambda,
		settings:     []routers.Setting{settingBaselineLambda, settingH},
	})
}
