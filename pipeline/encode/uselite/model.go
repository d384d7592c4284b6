package uselite

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"

	"github.com/routerdc-go/routerdc/pipeline/backend"
)

// Weight names in the package's model.json (TF.js graph model converted
// from TF Hub's universal-sentence-encoder-lite). Reading the graph's
// nodes (model.json's modelTopology) gives the computation, which Forward
// repeats:
//
//   - ids beyond position 128 are dropped (ClipToMaxLength);
//   - x = 2*embedding + timing signal: the graph adds the scattered
//     embeddings to (embeddings + signal), so the embedding counts twice;
//     the signal is sin|cos(position * inv_timescale), 128 timescales;
//   - two pre-norm Transformer layers (layer norm, epsilon 1e-6): Layer_0
//     attends in 256 dims (4 heads of 64) and projects to 512, its
//     residual going through a 256x512 dense layer; Layer_1 attends in 512
//     (4 heads of 128); each has a ReLU feed-forward 512-1536-512 after a
//     second layer norm, and adds -1e9 to the logits of padding keys;
//   - the mean over the text's positions (divided by max(length, 1)),
//     a 512x512 tanh layer, L2 normalisation (sum of squares at least 1e-12).
const (
	encodePrefix = "module_apply_default/Encoder_en/KonaTransformer/Encode/"
	kernelPrefix = "module/Encoder_en/KonaTransformer/Encode/"
	wEmbedding   = "module/Embeddings_en"
	wTimescales  = encodePrefix + "TransformerStack/Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1"
	wMaxLength   = "module_apply_default/Encoder_en/KonaTransformer/ClipToMaxLength/Less/y"
	wEpsilon     = encodePrefix + "TransformerStack/Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x"
	wPaddingBias = encodePrefix + "TransformerStack/Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y"
	wResidualW   = encodePrefix + "Layer_0/TransformerLayer/dense/kernel/ConcatPartitions/concat"
	wResidualB   = encodePrefix + "Layer_0/TransformerLayer/dense/bias/ConcatPartitions/concat"
	wTanhW       = "module/Encoder_en/hidden_layers/tanh_layer_0/weights"
	wTanhB       = "module/Encoder_en/hidden_layers/tanh_layer_0/bias"
	wL2Epsilon   = "module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y"
	numLayers    = 2
)

// layerWeights names layer l's tensors, in the order Forward takes them.
func layerWeights(l int) []string {
	L := fmt.Sprintf("Layer_%d/TransformerLayer/", l)
	S := fmt.Sprintf("TransformerStack/Layer_%d/TransformerLayer/", l)
	return []string{
		encodePrefix + L + "layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat",
		encodePrefix + L + "layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat",
		kernelPrefix + L + "MultiheadAttention/qkv_transform_single/kernel/part_0",
		encodePrefix + L + "MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat",
		kernelPrefix + L + "MultiheadAttention/output_transform_single/kernel/part_0",
		encodePrefix + L + "MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat",
		encodePrefix + L + "FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat",
		encodePrefix + L + "FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat",
		encodePrefix + S + "FFN/conv1/Tensordot/Reshape_1",
		encodePrefix + L + "FFN/conv1/bias/ConcatPartitions/concat",
		encodePrefix + S + "FFN/conv2/Tensordot/Reshape_1",
		encodePrefix + L + "FFN/conv2/bias/ConcatPartitions/concat",
		encodePrefix + S + "MultiheadAttention/mul/y", // 1/sqrt(head size)
	}
}

// headSizeWeight is layer l's head size (the last dimension of its
// split_heads reshape).
func headSizeWeight(l int) string {
	return encodePrefix + fmt.Sprintf("TransformerStack/Layer_%d/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/3", l)
}

// Dim is the length of the model's vectors.
const Dim = 512

// Model runs USE-lite's forward pass in GoMLX. It is safe for concurrent
// use.
type Model struct {
	backend   compute.Backend
	params    []*tensors.Tensor // the weights, in graph-input order
	headSizes [numLayers]int
	// crossHeads: attention in one product per text (see attention).
	crossHeads bool
	maxLen     int
	vocab      int
	scalars    struct{ eps, padBias, l2eps float64 }

	mu   sync.Mutex
	exec *Exec
}

// weight returns a weight checked for shape (nil dims: any).
func weight(ws map[string]*Weight, name, dtype string, dims ...int) (*Weight, error) {
	w := ws[name]
	if w == nil {
		return nil, fmt.Errorf("model.json has no weight %s", name)
	}
	if w.DType != dtype {
		return nil, fmt.Errorf("weight %s: dtype %s, want %s", name, w.DType, dtype)
	}
	if dims != nil && fmt.Sprint(w.Shape) != fmt.Sprint(dims) {
		return nil, fmt.Errorf("weight %s: shape %v, want %v", name, w.Shape, dims)
	}
	return w, nil
}

func scalarF32(ws map[string]*Weight, name string) (float64, error) {
	w, err := weight(ws, name, "float32")
	if err != nil {
		return 0, err
	}
	if len(w.F32) != 1 {
		return 0, fmt.Errorf("weight %s: shape %v, want a scalar", name, w.Shape)
	}
	return float64(w.F32[0]), nil
}

func scalarI32(ws map[string]*Weight, name string) (int, error) {
	w, err := weight(ws, name, "int32")
	if err != nil {
		return 0, err
	}
	if len(w.I32) != 1 {
		return 0, fmt.Errorf("weight %s: shape %v, want a scalar", name, w.Shape)
	}
	return int(w.I32[0]), nil
}

// NewModel checks the weights against the architecture and uploads them.
func NewModel(b compute.Backend, ws map[string]*Weight) (*Model, error) {
	// The attention's form follows the kernels GoMLX picks (see attention).
	m := &Model{backend: b, crossHeads: backend.SIMD() == "avx2"}
	var err error
	add := func(name string, dims ...int) {
		if err != nil {
			return
		}
		var w *Weight
		if w, err = weight(ws, name, "float32", dims...); err == nil {
			// Conv2D kernels [1,1,in,out] act as [in,out] matrices.
			shape := w.Shape
			if len(shape) == 4 && shape[0] == 1 && shape[1] == 1 {
				shape = shape[2:]
			}
			if len(shape) == 0 {
				shape = nil
			}
			m.params = append(m.params, tensors.FromFlatDataAndDimensions(w.F32, shape...))
		}
	}
	emb := ws[wEmbedding]
	if emb == nil || len(emb.Shape) != 2 || emb.Shape[1] != 256 {
		return nil, fmt.Errorf("uselite: model.json: weight %s missing or not [vocab, 256]", wEmbedding)
	}
	m.vocab = emb.Shape[0]
	add(wEmbedding, m.vocab, 256)
	add(wTimescales, 1, 128)
	add(wResidualW, 256, Dim)
	add(wResidualB, Dim)
	in := 256
	for l := range numLayers {
		names := layerWeights(l)
		att := in // attention width: the layer's input width
		add(names[0], in)
		add(names[1], in)
		add(names[2], 1, 1, in, 3*att)
		add(names[3], 3*att)
		add(names[4], 1, 1, att, Dim)
		add(names[5], Dim)
		add(names[6], Dim)
		add(names[7], Dim)
		add(names[8], Dim, 1536)
		add(names[9], 1536)
		add(names[10], 1536, Dim)
		add(names[11], Dim)
		add(names[12], nil...)
		if err == nil {
			var hs int
			if hs, err = scalarI32(ws, headSizeWeight(l)); err == nil && (hs <= 0 || att%hs != 0) {
				err = fmt.Errorf("weight %s: head size %d does not divide %d", headSizeWeight(l), hs, att)
			}
			m.headSizes[l] = hs
		}
		in = Dim
	}
	add(wTanhW, Dim, Dim)
	add(wTanhB, Dim)
	if err == nil {
		m.maxLen, err = scalarI32(ws, wMaxLength)
	}
	if err == nil {
		m.scalars.eps, err = scalarF32(ws, wEpsilon)
	}
	if err == nil {
		m.scalars.padBias, err = scalarF32(ws, wPaddingBias)
	}
	if err == nil {
		m.scalars.l2eps, err = scalarF32(ws, wL2Epsilon)
	}
	if err != nil {
		return nil, fmt.Errorf("uselite: %w", err)
	}
	return m, nil
}

// MaxLen is the number of leading ids the model reads.
func (m *Model) MaxLen() int { return m.maxLen }

// graph is the forward pass: ids [B, L] int32, -1 past each text's end,
// then the weights; the result is [B, 512].
func (m *Model) graph(in []*Node) *Node {
	ids, p := in[0], in[1:]
	next := func() *Node { n := p[0]; p = p[1:]; return n }
	emb, timescales, resW, resB := next(), next(), next(), next()
	g := ids.Graph()
	B, L := ids.Shape().Dimensions[0], ids.Shape().Dimensions[1]

	valid := GreaterOrEqual(ids, ZerosLike(ids))  // [B, L]
	validF := ConvertDType(valid, dtypes.Float32) // [B, L]
	safeIDs := Where(valid, ids, ZerosLike(ids))  // pads read row 0, then are masked
	x := Gather(emb, InsertAxes(safeIDs, -1))     // [B, L, 256]
	pos := ConvertDType(Iota(g, shapes.Make(dtypes.Int32, L), 0), dtypes.Float32)
	angles := Mul(InsertAxes(pos, -1), timescales)               // [L, 128]
	signal := Concatenate([]*Node{Sin(angles), Cos(angles)}, -1) // [L, 256]
	x = Add(MulScalar(x, 2.0), InsertAxes(signal, 0))            // see the note on Forward's weights
	x = Mul(x, InsertAxes(validF, -1))
	keyBias := MulScalar(OneMinus(validF), m.scalars.padBias) // [B, L]
	keyBias = InsertAxes(keyBias, 1, 1)                       // [B, 1, 1, L]

	// GoMLX broadcasts only between equal ranks (or scalars).
	like := func(v, x *Node) *Node { return ExpandLeftToRank(v, x.Rank()) }
	layerNorm := func(x, scale, bias *Node) *Node {
		mean := ReduceAndKeep(x, ReduceMean, -1)
		c := Sub(x, mean)
		v := ReduceAndKeep(Square(c), ReduceMean, -1)
		return Add(Mul(Mul(Rsqrt(AddScalar(v, m.scalars.eps)), c), like(scale, x)), like(bias, x))
	}
	dense := func(x, w, b *Node) *Node {
		dims := x.Shape().Dimensions
		flat := Reshape(x, -1, dims[len(dims)-1])
		y := Dot(flat, w).Product()
		y = Add(y, like(b, y))
		return Reshape(y, append(slices.Clone(dims[:len(dims)-1]), w.Shape().Dimensions[1])...)
	}

	for l := range numLayers {
		ln1s, ln1b, qkvW, qkvB, outW, outB := next(), next(), next(), next(), next(), next()
		ln2s, ln2b, f1W, f1B, f2W, f2B, qScale := next(), next(), next(), next(), next(), next(), next()
		att := qkvW.Shape().Dimensions[1] / 3
		hs := m.headSizes[l]
		heads := att / hs

		y := layerNorm(x, ln1s, ln1b)
		qkv := dense(y, qkvW, qkvB) // [B, L, 3*att]
		split := func(i int) *Node {
			part := SliceAxis(qkv, -1, AxisRange(i*att, (i+1)*att))
			return Reshape(part, B, L, heads, hs)
		}
		q, k, v := Mul(split(0), qScale), split(1), split(2)
		ctx := m.attention(q, k, v, keyBias) // [B, L, att]
		residual := x
		if l == 0 {
			residual = dense(x, resW, resB)
		}
		h := Add(dense(ctx, outW, outB), residual)
		f := dense(activation.Relu(dense(layerNorm(h, ln2s, ln2b), f1W, f1B)), f2W, f2B)
		x = Add(h, f)
	}
	tanhW, tanhB := next(), next()

	lengths := ReduceSum(validF, -1)                          // [B]
	sum := ReduceSum(Mul(x, InsertAxes(validF, -1)), 1)       // [B, 512]
	mean := Div(sum, InsertAxes(MaxScalar(lengths, 1.0), -1)) // empty text: zeros
	out := Tanh(dense(mean, tanhW, tanhB))                    // [B, 512]
	norm2 := MaxScalar(ReduceAndKeep(Square(out), ReduceSum, -1), m.scalars.l2eps)
	return Mul(out, Rsqrt(norm2))
}

// attention is softmax(q·k + keyBias)·v per text and head: q, k, v are
// [B, L, heads, hs], keyBias [B, 1, 1, L]; the result is [B, L, heads*hs].
//
// gomlx/compute v0.1.6 picks its matmul kernel by the size of one batch
// element; its AVX-512 (and plain Go) router multiplies by the batch size,
// its AVX2 router does not, so with AVX2 the per-head products (88x88x64 for
// a text of 88 tokens) went to the "small" kernel: a third of the CPU time
// at ~1 GFLOP/s. With AVX2 the heads therefore go into one product per
// text, all heads against all (4x the attention's multiplies, which are
// ~3% of the model's), keeping the own-head blocks: that product is large
// enough for the fast kernel. Measured on 600 test questions, 2 cores:
// 29 -> 36 texts/s with AVX2; with AVX-512 the per-head form stays (52.6
// texts/s, 46.2 with all heads).
func (m *Model) attention(q, k, v, keyBias *Node) *Node {
	dims := q.Shape().Dimensions
	B, L, heads, hs := dims[0], dims[1], dims[2], dims[3]
	if !m.crossHeads {
		weights := Softmax(Add(Einsum("bqhd,bkhd->bhqk", q, k), keyBias), -1)
		return Reshape(Einsum("bhqk,bkhd->bqhd", weights, v), B, L, heads*hs)
	}
	g := q.Graph()
	hh := shapes.Make(dtypes.Int32, heads, heads)
	own := ConvertDType(Equal(Iota(g, hh, 0), Iota(g, hh, 1)), dtypes.Float32)
	own = Reshape(own, 1, 1, heads, 1, heads) // [., q, h, k, h']
	all := Einsum("bqd,bkd->bqk", Reshape(q, B, L*heads, hs), Reshape(k, B, L*heads, hs))
	logits := ReduceSum(Mul(Reshape(all, B, L, heads, L, heads), own), -1) // [B, q, h, k]
	weights := Softmax(Add(logits, Reshape(keyBias, B, 1, 1, L)), -1)
	spread := Reshape(Mul(InsertAxes(weights, -1), own), B, L*heads, L*heads)
	return Reshape(Einsum("bqk,bkd->bqd", spread, Reshape(v, B, L*heads, hs)), B, L, heads*hs)
}

// batchSizes and lengthSizes are the padded shapes the graph is compiled
// for: a few dozen, so that it compiles once per shape, not per batch.
// Lengths go in steps of 8: with batches of similar lengths (Forward sorts
// them) padding to powers of two cost a third more time.
var (
	batchSizes  = []int{1, 4, 16, 32}
	lengthSizes = func() []int {
		var s []int
		for l := 8; l <= 128; l += 8 {
			s = append(s, l)
		}
		return s
	}()
)

// BatchSize is the most texts one graph execution embeds.
const BatchSize = 32

func roundUp(n int, sizes []int) int {
	for _, s := range sizes {
		if s >= n {
			return s
		}
	}
	return sizes[len(sizes)-1]
}

// Forward embeds tokenised texts: one unit vector per id list, in order.
// Ids past MaxLen are ignored, as the model does; an empty list gives the
// vector of an all-padding text (tanh of the bias, normalised). The same
// lists give the same bits on every call; a text embedded in another batch
// may differ in the last bits (1e-7: the padded shape changes the kernels'
// summation order).
func (m *Model) Forward(idLists [][]int) ([][]float32, error) {
	out := make([][]float32, len(idLists))
	// Texts of similar length share batches (less padding); the order is
	// restored below, so the result does not depend on it.
	order := make([]int, len(idLists))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(idLists[order[a]]) < len(idLists[order[b]]) })
	for start := 0; start < len(order); start += BatchSize {
		batch := order[start:min(start+BatchSize, len(order))]
		maxLen := 1
		for _, i := range batch {
			if len(idLists[i]) > maxLen {
				maxLen = len(idLists[i])
			}
		}
		B, L := roundUp(len(batch), batchSizes), roundUp(min(maxLen, m.maxLen), lengthSizes)
		flat := make([]int32, B*L)
		for i := range flat {
			flat[i] = -1
		}
		for r, i := range batch {
			for j, id := range idLists[i] {
				if j >= L {
					break
				}
				if id < 0 || id >= m.vocab {
					return nil, fmt.Errorf("uselite: token id %d outside the vocabulary of %d", id, m.vocab)
				}
				flat[r*L+j] = int32(id)
			}
		}
		vecs, err := m.run(tensors.FromFlatDataAndDimensions(flat, B, L))
		if err != nil {
			return nil, err
		}
		for r, i := range batch {
			out[i] = vecs[r*Dim : (r+1)*Dim : (r+1)*Dim]
		}
	}
	return out, nil
}

func (m *Model) run(ids *tensors.Tensor) ([]float32, error) {
	m.mu.Lock()
	if m.exec == nil {
		exec, err := NewExec(m.backend, m.graph)
		if err != nil {
			m.mu.Unlock()
			return nil, fmt.Errorf("uselite: building the graph: %w", err)
		}
		exec.SetMaxCache(len(batchSizes) * len(lengthSizes))
		m.exec = exec
	}
	exec := m.exec
	m.mu.Unlock()
	args := make([]any, 0, 1+len(m.params))
	args = append(args, ids)
	for _, p := range m.params {
		args = append(args, p)
	}
	res, err := exec.Exec(args...)
	if err != nil {
		return nil, fmt.Errorf("uselite: running the model: %w", err)
	}
	defer res[0].FinalizeAll()
	flat, err := tensors.CopyFlatData[float32](res[0])
	if err != nil {
		return nil, err
	}
	for _, x := range flat {
		if math.IsNaN(float64(x)) {
			return nil, fmt.Errorf("uselite: the model produced NaN")
		}
	}
	return flat, nil
}
