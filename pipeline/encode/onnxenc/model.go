package onnxenc

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/onnx-gomlx/onnx"
	"github.com/gomlx/onnx-gomlx/onnx/parser"
)

// Pooling names of the pooling setting.
const (
	PoolCLS  = "cls"  // the first token's hidden state (the paper's [CLS])
	PoolMean = "mean" // the attention-masked mean (sentence-transformers)
)

// Input names of a Hugging Face encoder export.
const (
	inputIDs   = "input_ids"
	inputMask  = "attention_mask"
	inputTypes = "token_type_ids"
)

// network is a parsed ONNX encoder: which of its inputs to feed and which
// output is the last hidden state.
type network struct {
	onnx     onnx.Model
	path     string // model.onnx, for errors
	inputs   []string
	output   string
	hidden   int // -1 when the export leaves it dynamic
	inputSet map[string]bool
}

var (
	parsedMu sync.Mutex
	parsed   = map[string]*network{} // by source hash: a router's graph is built many times
)

// loadNetwork parses dir's model.onnx (once per content hash and mode).
// onnx-gomlx fuses the query, key and value projections into new combined
// weights: faster inference, but a fine-tuned router would train those and
// keep the original ones unused beside them, so fine-tuning converts the
// graph as written.
func loadNetwork(dir, hash string, train bool) (*network, error) {
	key := hash + fmt.Sprint(train)
	parsedMu.Lock()
	defer parsedMu.Unlock()
	if n, ok := parsed[key]; ok {
		return n, nil
	}
	p := filepath.Join(dir, ModelFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	m, err := parser.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: not an ONNX model onnx-gomlx can read: %w", p, err)
	}
	m = m.WithBaseDir(dir) // weights stored beside the graph (model.onnx_data)
	if train {
		m.DisableFusion()
	} else {
		m.FreeUnusedVariables() // the weights the fused ones replace
	}
	n := &network{onnx: m, path: p, hidden: -1, inputSet: map[string]bool{}}
	names, _ := m.Inputs()
	for _, in := range names {
		switch in {
		case inputIDs, inputMask, inputTypes:
			n.inputs = append(n.inputs, in)
			n.inputSet[in] = true
		default:
			return nil, fmt.Errorf("%s: input %q is none of %s, %s, %s (want a Hugging Face encoder export: optimum-cli export onnx --task feature-extraction)",
				p, in, inputIDs, inputMask, inputTypes)
		}
	}
	if !n.inputSet[inputIDs] {
		return nil, fmt.Errorf("%s: the model has no %s input (want a Hugging Face encoder export)", p, inputIDs)
	}
	outs, oshapes := m.Outputs()
	for i, o := range outs {
		s := oshapes[i]
		if s.Rank() != 3 || !s.DType.IsFloat() {
			continue
		}
		if n.output == "" || o == "last_hidden_state" {
			n.output, n.hidden = o, s.Dimensions[2]
		}
	}
	if n.output == "" {
		return nil, fmt.Errorf("%s: outputs %q: %w", p, outs, errNoOutput)
	}
	parsed[key] = n
	return n, nil
}

var unimplementedOp = regexp.MustCompile(`unimplemented ONNX op "([^"]+)"`)

// explain words a failed conversion or run for the user: an op onnx-gomlx
// lacks is named plainly (the executor wraps it in its own context).
func (n *network) explain(err error) error {
	if m := unimplementedOp.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s: onnx-gomlx %s cannot convert the model: it has no ONNX op %s (the README lists what it takes to add one)",
			n.path, onnxGoMLXVersion, m[1])
	}
	return fmt.Errorf("%s: %w", n.path, err)
}

// onnxGoMLXVersion is the converter this build pins (go.mod).
const onnxGoMLXVersion = "v0.5.5"

// embed builds the pooled sentence embeddings [B, H] of token ids and
// attention mask [B, S] (int64) with the network's weights under scope.
// It is a graph-building function: it panics on errors.
func (n *network) embed(scope *model.Scope, ids, mask *Node, pooling string) *Node {
	in := map[string]*Node{inputIDs: ids}
	if n.inputSet[inputMask] {
		in[inputMask] = mask
	}
	if n.inputSet[inputTypes] {
		in[inputTypes] = ZerosLike(ids)
	}
	h := n.onnx.CallGraph(scope, ids.Graph(), in, n.output)[0] // [B, S, H]
	if h.DType() != dtypes.Float32 {
		h = ConvertDType(h, dtypes.Float32)
	}
	var pooled *Node
	switch pooling {
	case PoolMean:
		m := ExpandAxes(ConvertDType(mask, dtypes.Float32), -1) // [B, S, 1]
		sum := ReduceSum(Mul(h, m), 1)
		// Max with 1: a padding row (no token) stays finite.
		cnt := Max(ReduceSum(m, 1), OnesLike(ReduceSum(m, 1)))
		pooled = Div(sum, cnt)
	default:
		pooled = Squeeze(Slice(h, AxisRange(), AxisElem(0), AxisRange()), 1)
	}
	return L2NormalizeWithEpsilon(pooled, 1e-12, -1)
}

// loadVariables puts the network's weights under scope (frozen inference,
// or the first build of a fine-tuned router: a router loaded from its
// checkpoint already has them). Only float weights train; the rest
// (integer tables of a quantised export) stay fixed.
func (n *network) loadVariables(scope *model.Scope) error {
	if err := n.onnx.VariablesToScope(scope); err != nil {
		return fmt.Errorf("%s: reading the weights: %w", n.path, err)
	}
	for v := range scope.At(onnx.ModelScope).IterVariables() {
		if !v.DType().IsFloat() {
			v.SetTrainable(false)
		}
	}
	return nil
}

// hasVariables says whether scope holds the network's weights already.
func (n *network) hasVariables(scope *model.Scope) bool {
	for range scope.At(onnx.ModelScope).IterVariables() {
		return true
	}
	return false
}

// LoadWeights puts the untrained weights of the model in dir under scope,
// where a fine-tuned router keeps them (tests compare against them).
func LoadWeights(dir string, scope *model.Scope) error {
	h, err := sourceHash(dir)
	if err != nil {
		return err
	}
	n, err := loadNetwork(dir, h, true)
	if err != nil {
		return err
	}
	return n.loadVariables(scope)
}
