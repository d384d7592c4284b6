// Package onnxenc is the "onnx" encoder kind: a transformer exported to
// ONNX by Hugging Face tooling (model.onnx, tokenizer.json, config.json in
// one directory), run in GoMLX through onnx-gomlx, frozen or fine-tuned
// with the router as the paper fine-tunes mDeBERTa-v3-base.
package onnxenc

import (
	"fmt"
	"path/filepath"
	"sync"

	"github.com/routerdc-go/routerdc/pipeline/backend"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// Kind is the value of the "encoder" setting.
const Kind = "onnx"

// The kind's settings.
const (
	ParamPath    = "encoder_path"
	ParamPooling = "pooling"
	ParamMaxLen  = "max_len"
	ParamTrain   = "encoder_train"
)

type kind struct{}

func init() { encode.Register(kind{}) }

func (kind) Name() string    { return Kind }
func (kind) Format() string  { return Format }
func (kind) Expensive() bool { return true }

func (kind) Settings() []routers.Setting {
	return []routers.Setting{
		routers.String(ParamPath, "", routers.Ours,
			"encoder=onnx: directory of a Hugging Face ONNX export (model.onnx, tokenizer.json, config.json)"),
		routers.String(ParamPooling, PoolCLS, routers.Paper,
			"encoder=onnx: sentence vector of the hidden states: cls (first token, the paper) or mean (masked mean)",
			PoolCLS, PoolMean),
		routers.Int(ParamMaxLen, 512, routers.Paper,
			"encoder=onnx: tokens kept per query, truncated from the left (capped by the model's max_position_embeddings)",
			routers.Between(2, 1<<16, "")),
		routers.String(ParamTrain, "false", routers.Paper,
			"encoder=onnx: fine-tune the encoder's weights with the router losses (true, the paper) or keep them frozen (false)",
			"false", "true"),
	}
}

// Source is the content hash of the model directory.
func (kind) Source(v routers.Values) (string, error) { return sourceHash(v.String(ParamPath)) }

// New opens the model directory; fine-tuning fixes the token positions of
// Encode's rows from the longest training query.
func (kind) New(v routers.Values, train []string) (encode.Persistent, error) {
	dir := v.String(ParamPath)
	h, err := sourceHash(dir)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	mc, err := readConfig(abs)
	if err != nil {
		return nil, err
	}
	cfg := Config{Format: Format, Version: formatVersion, Dir: abs, SettingPath: dir, SourceSHA256: h,
		Pooling: v.String(ParamPooling), MaxLen: v.Int(ParamMaxLen), Train: v.String(ParamTrain) == "true"}
	if mc.MaxPositions > 0 && cfg.MaxLen > mc.MaxPositions {
		cfg.MaxLen = mc.MaxPositions
	}
	if cfg.Train {
		if err := checkTrainable(v); err != nil {
			return nil, err
		}
	}
	e, err := open(cfg)
	if err != nil {
		return nil, err
	}
	e.cfg.Hidden = e.net.hidden
	if e.cfg.Hidden <= 0 {
		e.cfg.Hidden = mc.HiddenSize
	}
	if e.cfg.Hidden <= 0 {
		return nil, fmt.Errorf("%s: the output's hidden size is dynamic and %s has no hidden_size", e.net.path, filepath.Join(abs, ConfigFile))
	}
	if cfg.Train {
		e.cfg.SeqLen = 2
		for _, t := range train {
			e.cfg.SeqLen = max(e.cfg.SeqLen, len(e.tok.encode(t, cfg.MaxLen)))
		}
	}
	// One forward pass now: a model onnx-gomlx cannot convert (an op it
	// lacks) fails here, naming the file, not in the middle of training.
	if err := e.probe(); err != nil {
		return nil, err
	}
	return e, nil
}

func (kind) Load(path string) (encode.Persistent, error) { return load(path) }

// Graph is the fine-tuned network (encoder_train=true), nil when frozen.
func (kind) Graph(v routers.Values) (encode.GraphFn, error) {
	if v.String(ParamTrain) != "true" {
		return nil, nil
	}
	dir := resolvePath(v.String(ParamPath))
	h, err := sourceHash(dir)
	if err != nil {
		return nil, err
	}
	net, err := loadNetwork(dir, h, true)
	if err != nil {
		return nil, err
	}
	return graphOf(net, v.String(ParamPooling)), nil
}

// checkTrainable rejects settings under which the router's features would
// be token ids where the pipeline expects embeddings.
func checkTrainable(v routers.Values) error {
	rk, err := routers.Lookup(v.String("router"))
	if err != nil {
		return err
	}
	if !rk.GoMLX() {
		return fmt.Errorf("setting %s=true: router %s is not trained with GoMLX, so it cannot fine-tune the encoder (use encoder_train=false)",
			ParamTrain, rk.Name())
	}
	if rk.UsesGroups(v) && v.String("group") == "ours" {
		return fmt.Errorf("setting %s=true: group=ours clusters the encoder's features, which are token ids while fine-tuning; set group=cluster (the released groups) or group=task",
			ParamTrain)
	}
	return nil
}

// probe runs the encoder on one short text.
func (e *Encoder) probe() error {
	if e.cfg.Train {
		// The graph is built in the router's store; run it once frozen.
		f := &Encoder{cfg: e.cfg, net: e.net, tok: e.tok}
		f.cfg.Train = false
		var err error
		if f.backend, err = backend.New(); err != nil {
			return err
		}
		e = f
	}
	x, err := e.Encode([]string{"probe"})
	if err != nil {
		return err
	}
	if len(x) != 1 || len(x[0]) != e.cfg.Hidden {
		return fmt.Errorf("%s: output %s has %d values per token, config says hidden %d", e.net.path, e.net.output, len(x[0]), e.cfg.Hidden)
	}
	return nil
}

// A fine-tuned router's graph names its model by the encoder_path setting
// as typed, maybe relative to where it was trained; the encoder file loaded
// beside it maps that to the absolute directory.
var (
	pathsMu sync.Mutex
	paths   = map[string]string{}
)

func registerPath(setting, abs string) {
	if setting == "" {
		return
	}
	pathsMu.Lock()
	paths[setting] = abs
	pathsMu.Unlock()
}

func resolvePath(setting string) string {
	pathsMu.Lock()
	defer pathsMu.Unlock()
	if abs, ok := paths[setting]; ok {
		return abs
	}
	return setting
}
