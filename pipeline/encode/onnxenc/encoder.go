package onnxenc

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
	"github.com/routerdc-go/routerdc/pipeline/backend"
	"github.com/routerdc-go/routerdc/pipeline/encode"
)

// Format is the "format" field of the encoder files this kind saves.
const Format = "routerdc-onnx-encoder"

const formatVersion = 1

// Config is what an encoder file records: enough to find the model again
// and to tell whether it is still the one the router was trained with.
type Config struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Dir is the model directory, absolute.
	Dir string `json:"model_dir"`
	// SettingPath is the encoder_path setting as given (a fine-tuned
	// router's graph finds its model through it).
	SettingPath  string `json:"setting_path"`
	SourceSHA256 string `json:"source_sha256"`
	Pooling      string `json:"pooling"`
	// MaxLen is the token limit applied: max_len, capped by the model's
	// max_position_embeddings.
	MaxLen int  `json:"max_len"`
	Train  bool `json:"encoder_train"`
	// SeqLen (fine-tuning only) is the fixed number of token positions of
	// Encode's rows: MaxLen, or fewer when the longest training query is
	// shorter (attention costs grow with it).
	SeqLen int `json:"seq_len,omitempty"`
	Hidden int `json:"hidden"`
}

// Encoder embeds texts with an ONNX transformer. Frozen, Encode returns
// the pooled, L2-normalised hidden states; fine-tuned (Config.Train),
// Encode returns the token ids and attention mask packed as floats and the
// router's graph runs the network (Graph).
type Encoder struct {
	cfg Config
	net *network
	tok *tokenizer

	mu      sync.Mutex // guards the frozen network's executor
	backend compute.Backend
	exec    *model.Exec
}

var _ encode.Persistent = (*Encoder)(nil)

// open loads the directory of cfg (hash already checked by the caller).
func open(cfg Config) (*Encoder, error) {
	net, err := loadNetwork(cfg.Dir, cfg.SourceSHA256, false)
	if err != nil {
		return nil, err
	}
	tok, err := newTokenizer(cfg.Dir)
	if err != nil {
		return nil, err
	}
	e := &Encoder{cfg: cfg, net: net, tok: tok}
	if !cfg.Train {
		if e.backend, err = backend.New(); err != nil {
			return nil, err
		}
	}
	registerPath(cfg.SettingPath, cfg.Dir)
	return e, nil
}

// Config returns what Save records.
func (e *Encoder) Config() Config { return e.cfg }

// Name identifies the model content and the settings.
func (e *Encoder) Name() string {
	n := fmt.Sprintf("onnx-%s-%s-len%d", e.cfg.SourceSHA256[:12], e.cfg.Pooling, e.cfg.MaxLen)
	if e.cfg.Train {
		n += fmt.Sprintf("-train%d", e.cfg.SeqLen)
	}
	return n
}

// Dim is the hidden size, or (fine-tuning) the packed ids and mask.
func (e *Encoder) Dim() int {
	if e.cfg.Train {
		return 2 * e.cfg.SeqLen
	}
	return e.cfg.Hidden
}

// batchSize is the rows of one frozen forward pass; smaller calls pad to
// 1 or 8 rows so a handful of graphs compile.
const batchSize = 32

// Encode embeds texts (frozen) or packs their tokens (fine-tuning).
func (e *Encoder) Encode(texts []string) ([][]float32, error) {
	if e.cfg.Train {
		return e.pack(texts)
	}
	ids := make([][]int, len(texts))
	for i, t := range texts {
		ids[i] = e.tok.encode(t, e.cfg.MaxLen)
	}
	// Batches of similar lengths pad less; the order is fixed by the
	// lengths and positions alone.
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(ids[order[a]]) < len(ids[order[b]]) })
	out := make([][]float32, len(texts))
	e.mu.Lock()
	defer e.mu.Unlock()
	for start := 0; start < len(order); start += batchSize {
		rows := order[start:min(start+batchSize, len(order))]
		if err := e.forward(ids, rows, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// forward runs one padded batch of the frozen network; e.mu is held.
func (e *Encoder) forward(ids [][]int, rows []int, out [][]float32) error {
	if e.exec == nil {
		if err := e.build(); err != nil {
			return err
		}
	}
	longest := 1
	for _, r := range rows {
		longest = max(longest, len(ids[r]))
	}
	S := padLen(longest, e.cfg.MaxLen)
	B := batchSize
	for _, b := range []int{1, 8} {
		if len(rows) <= b {
			B = b
			break
		}
	}
	tokens := make([]int64, B*S)
	mask := make([]int64, B*S)
	for i := range tokens {
		tokens[i] = int64(e.tok.padID)
	}
	for b, r := range rows {
		for j, id := range ids[r] {
			tokens[b*S+j], mask[b*S+j] = int64(id), 1
		}
	}
	res, err := e.exec.Exec(tensors.FromFlatDataAndDimensions(tokens, B, S), tensors.FromFlatDataAndDimensions(mask, B, S))
	if err != nil {
		return e.net.explain(err)
	}
	flat := tensors.MustCopyFlatData[float32](res[0])
	res[0].FinalizeAll()
	H := len(flat) / B
	for b, r := range rows {
		out[r] = flat[b*H : (b+1)*H : (b+1)*H]
	}
	return nil
}

// padLen rounds a batch's token count up to a few lengths, so a handful of
// graphs compile, never beyond maxLen.
func padLen(n, maxLen int) int {
	for _, s := range []int{8, 16, 32, 64, 128, 256, 384, 512} {
		if n <= s {
			return min(s, maxLen)
		}
	}
	return maxLen
}

// build loads the frozen weights into a store of their own and compiles
// lazily per batch shape; e.mu is held.
func (e *Encoder) build() error {
	store := model.NewStore()
	if err := e.net.loadVariables(store.Scope("/")); err != nil {
		return err
	}
	exec, err := model.NewExec(e.backend, store, func(scope *model.Scope, ids, mask *Node) *Node {
		return e.net.embed(scope, ids, mask, e.cfg.Pooling)
	})
	if err != nil {
		return fmt.Errorf("encoder %s: %w", e.net.path, err)
	}
	exec.SetMaxCache(32)
	e.exec = exec
	return nil
}

// maxExactID is the largest token id a float32 holds exactly.
const maxExactID = 1 << 24

// pack returns each text's token ids then attention mask, SeqLen each, as
// floats: the rows the fine-tuned router's graph (Graph) reads.
func (e *Encoder) pack(texts []string) ([][]float32, error) {
	L := e.cfg.SeqLen
	out := make([][]float32, len(texts))
	for i, t := range texts {
		row := make([]float32, 2*L)
		for j := range L {
			row[j] = float32(e.tok.padID)
		}
		for j, id := range e.tok.encode(t, L) {
			if id < 0 || id >= maxExactID {
				return nil, fmt.Errorf("encoder %s: token id %d of text %d does not fit a float32 exactly", e.net.path, id, i)
			}
			row[j], row[L+j] = float32(id), 1
		}
		out[i] = row
	}
	return out, nil
}

// graph is the fine-tuned network in the router's graph: x holds the rows
// pack wrote.
func graphOf(net *network, pooling string) encode.GraphFn {
	return func(scope *model.Scope, x *Node) *Node {
		L := x.Shape().Dimensions[1] / 2
		x = StopGradient(x)
		ids := ConvertDType(Slice(x, AxisRange(), AxisRange(0, L)), dtypes.Int64)
		mask := ConvertDType(Slice(x, AxisRange(), AxisRange(L, 2*L)), dtypes.Int64)
		if !net.hasVariables(scope) {
			if err := net.loadVariables(scope); err != nil {
				panic(err)
			}
		}
		return net.embed(scope, ids, mask, pooling)
	}
}

// Save writes the encoder file (the model directory stays where it is).
func (e *Encoder) Save(path string) error {
	b, err := json.MarshalIndent(e.cfg, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'))
}

// load reads an encoder file and checks the model directory still holds
// the files the router was trained with.
func load(path string) (*Encoder, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case cfg.Format != Format:
		return nil, fmt.Errorf("%s: field format: %q, want %q", path, cfg.Format, Format)
	case cfg.Version != formatVersion:
		return nil, fmt.Errorf("%s: field version: %d, this build reads version %d", path, cfg.Version, formatVersion)
	case cfg.Pooling != PoolCLS && cfg.Pooling != PoolMean:
		return nil, fmt.Errorf("%s: field pooling: %q, want %s or %s", path, cfg.Pooling, PoolCLS, PoolMean)
	case cfg.MaxLen < 2 || cfg.Hidden < 1 || (cfg.Train && (cfg.SeqLen < 2 || cfg.SeqLen > cfg.MaxLen)):
		return nil, fmt.Errorf("%s: fields max_len=%d, hidden=%d, seq_len=%d out of range", path, cfg.MaxLen, cfg.Hidden, cfg.SeqLen)
	case !filepath.IsAbs(cfg.Dir):
		return nil, fmt.Errorf("%s: field model_dir: %q is not an absolute path", path, cfg.Dir)
	}
	h, err := sourceHash(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("%s: the router's encoder model: %w", path, err)
	}
	if h != cfg.SourceSHA256 {
		return nil, fmt.Errorf("%s: the files in %s changed since the router was trained (sha256 %s, the router wants %s): restore them or retrain",
			path, cfg.Dir, h, cfg.SourceSHA256)
	}
	return open(cfg)
}
