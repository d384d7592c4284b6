// Package router holds the RouterDC model in GoMLX: a trainable projection of
// the encoder's features, one learnable vector per candidate LLM, cosine
// logits, and the training losses of RouterDC and of the baselines trained
// with the same model (CosineClassifier, ZOOTER).
package router

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"

	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// ScopeName is where the model's variables live in the store.
const ScopeName = "router"

// Labels are the per-batch tensors the losses need, computed on the host
// (top-k selection stays on the host: in-graph TopK/Sort deadlocked the Go
// backend's worker pool).
const (
	LabelPosOneHot = iota // [B, K+, T] one-hot of each positive LLM
	LabelPosMask          // [B, K+] 1 where the positive's score > 0
	LabelNegMask          // [B, T] 1 for negatives kept (score <= 0.5)
	LabelSSPos            // [B, B] one-hot of the in-batch positive query
	LabelSSNeg            // [B, B] 1 for the H in-batch negative queries
	LabelSSValid          // [B] 1 where the row has a positive and negatives
	LabelTarget           // [B, T] target distribution (ZOOTER) or one-hot (CosineClassifier)
	NumLabels
)

// Embed maps features [B, D] to query embeddings [B, dim]: the trainable part
// of the encoder (with a fine-tuned encoder, the whole of it: x are then its
// token ids). (input_dropout is applied to the training batches in Train.)
func Embed(scope *model.Scope, x *Node) *Node {
	if enc := encoderGraph(scope.Store()); enc != nil {
		x = enc(scope.In(EncoderScope), x)
	}
	dim := model.GetParamOr(scope, ParamDim, 64)
	hidden := model.GetParamOr(scope, ParamHiddenLayers, 0)
	act := model.GetParamOr(scope, ParamActivation, "tanh")
	h := x
	for i := 0; i < hidden; i++ {
		h = dense(scope.In("hidden_%d", i), h, dim)
		h = activate(act, h)
	}
	return dense(scope.In("projection"), h, dim)
}

func dense(scope *model.Scope, x *Node, out int) *Node {
	in := x.Shape().Dimensions[1]
	w := scope.WithInitializer(initializer.XavierNormalFn(scope)).
		VariableWithShape("weights", shapes.Make(x.DType(), in, out)).NodeValue(x.Graph())
	b := scope.VariableWithShape("bias", shapes.Make(x.DType(), out)).NodeValue(x.Graph())
	return Add(MatMul(x, w), ExpandAxes(b, 0))
}

func activate(name string, x *Node) *Node {
	switch name {
	case "relu":
		return activation.Relu(x)
	case "gelu":
		return activation.Gelu(x)
	default:
		return Tanh(x)
	}
}

// Logits returns similarity(E(x), k_t) / temperature, [B, T], and the query
// embeddings [B, dim].
func Logits(scope *model.Scope, x *Node, numLLMs int) (logits, emb *Node) {
	emb = Embed(scope, x)
	dim := emb.Shape().Dimensions[1]
	llms := scope.WithInitializer(initializer.RandomNormalFn(scope, model.GetParamOr(scope, ParamLLMInitStd, 0.78))).
		VariableWithShape("llm_embeddings", shapes.Make(x.DType(), numLLMs, dim)).NodeValue(x.Graph())
	q, k := emb, llms
	if model.GetParamOr(scope, ParamSimilarity, "cosine") == "cosine" {
		q = L2NormalizeWithEpsilon(emb, 1e-6, -1)
		k = L2NormalizeWithEpsilon(llms, 1e-6, -1)
	}
	logits = MatMul(q, Transpose(k, 0, 1))
	return DivScalar(logits, model.GetParamOr(scope, ParamTemperature, 1.0)), emb
}

// ModelFn is the trainer's model function: inputs[0] are features [B, D];
// the outputs are logits [B, T] and embeddings [B, dim].
func ModelFn(numLLMs int) func(scope *model.Scope, spec any, inputs []*Node) []*Node {
	return func(scope *model.Scope, _ any, inputs []*Node) []*Node {
		logits, emb := Logits(scope.In(ScopeName), inputs[0], numLLMs)
		return []*Node{logits, emb}
	}
}

// SampleLLMLoss is RouterDC's sample-LLM contrastive loss: for each of the
// K+ positives, -log softmax of the positive against the kept negatives,
// masked where the positive's score is 0; batch means summed over positives.
func SampleLLMLoss(logits, posOneHot, posMask, negMask *Node) *Node {
	kPos := posOneHot.Shape().Dimensions[1]
	g := logits.Graph()
	total := ScalarZero(g, logits.DType())
	for i := 0; i < kPos; i++ {
		oh := Squeeze(Slice(posOneHot, AxisRange(), AxisElem(i)), 1) // [B, T]
		pos := ReduceSum(Mul(logits, oh), 1)                         // [B]
		all := Concatenate([]*Node{ExpandAxes(pos, 1), logits}, 1)   // [B, 1+T]
		ones := OnesLike(ExpandAxes(pos, 1))
		mask := Concatenate([]*Node{ones, negMask}, 1)
		logp := Squeeze(Slice(MaskedLogSoftmax(all, ConvertDType(mask, dtypes.Bool), 1), AxisRange(), AxisElem(0)), 1)
		m := Squeeze(Slice(posMask, AxisRange(), AxisElem(i)), 1)
		total = Add(total, ReduceAllMean(Neg(Mul(logp, m))))
	}
	return total
}

// SampleSampleLoss is RouterDC's sample-sample contrastive loss over cosine
// similarities of the query embeddings: -log softmax of the in-batch positive
// against the H in-batch negatives, averaged over valid rows.
func SampleSampleLoss(emb, ssPos, ssNeg, ssValid *Node) *Node {
	e := L2NormalizeWithEpsilon(emb, 1e-6, -1)
	sim := MatMul(e, Transpose(e, 0, 1)) // [B, B]
	pos := ReduceSum(Mul(sim, ssPos), 1) // [B]
	all := Concatenate([]*Node{ExpandAxes(pos, 1), sim}, 1)
	mask := Concatenate([]*Node{OnesLike(ExpandAxes(pos, 1)), ssNeg}, 1)
	logp := Squeeze(Slice(MaskedLogSoftmax(all, ConvertDType(mask, dtypes.Bool), 1), AxisRange(), AxisElem(0)), 1)
	n := Max(ReduceAllSum(ssValid), ScalarOne(emb.Graph(), emb.DType()))
	return Div(ReduceAllSum(Neg(Mul(logp, ssValid))), n)
}

// CrossEntropyLoss is the batch mean of -sum target * log softmax(logits):
// the CosineClassifier loss with a one-hot target, and, up to the target's
// constant entropy, ZOOTER's KL(target || softmax(logits)).
func CrossEntropyLoss(logits, target *Node) *Node {
	return ReduceAllMean(Neg(ReduceSum(Mul(target, LogSoftmax(logits, 1)), 1)))
}

// LossFn returns the training loss for the store's router kind.
func LossFn(scope *model.Scope) func(labels, predictions []*Node) *Node {
	k := graphKindOf(model.GetParamOr(scope, ParamRouter, KindRouterDC))
	crossEntropy := k != nil && k.crossEntropy
	ssWeight := ParamLambda
	if k != nil {
		ssWeight = k.ssWeight
	}
	lambda := model.GetParamOr(scope, ssWeight, routers.Default(ssWeight).(float64))
	return func(labels, predictions []*Node) *Node {
		logits, emb := predictions[0], predictions[1]
		var loss *Node
		if crossEntropy {
			// The baselines take the sample-sample loss only when asked
			// (baseline_lambda > 0: the paper's Tables 11-12).
			loss = CrossEntropyLoss(logits, labels[LabelTarget])
		} else {
			loss = SampleLLMLoss(logits, labels[LabelPosOneHot], labels[LabelPosMask], labels[LabelNegMask])
		}
		if lambda != 0 {
			ss := SampleSampleLoss(emb, labels[LabelSSPos], labels[LabelSSNeg], labels[LabelSSValid])
			loss = Add(loss, MulScalar(ss, lambda))
		}
		return loss
	}
}
