package router

import "github.com/routerdc-go/routerdc/pipeline/routers"

// KindZooter is ZOOTER: KL between softmax(logits) and
// softmax(scores / zooter_temp).
const KindZooter = "zooter"

func init() {
	routers.Register(&graphKind{
		name:         KindZooter,
		crossEntropy: true,
		ssWeight:     ParamBaselineLambda,
		settings: []routers.Setting{
			routers.Float(ParamZooterTemp, 1.0, routers.Paper, "softmax temperature of ZOOTER's reward target", routers.Above(0.0)),
			settingBaselineLambda, settingH,
		},
	})
}
