// Package routerdir is a trained router you can run: a router directory
// (router.json, encoder, the kind's model files) loaded, routed and saved.
package routerdir

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/routerdc-go/routerdc/pipeline/backend"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	_ "github.com/routerdc-go/routerdc/pipeline/encode/all" // every encoder kind, for encode.Load and the settings
	"github.com/routerdc-go/routerdc/pipeline/hostrouters"
	"github.com/routerdc-go/routerdc/pipeline/router"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// File names inside a router directory (the kinds' own files are theirs
// to name; these two are kept for readers of old directories).
const (
	MetaFile     = "router.json"
	EncoderFile  = "encoder.json"
	BaselineFile = hostrouters.File
	WeightsDir   = router.WeightsDir
)

// Meta describes a trained router: enough to rebuild and to audit it.
type Meta struct {
	Kind string `json:"kind"`
	// Exclude is an LLM the router never picks (removed at inference).
	Exclude  string         `json:"exclude_llm,omitempty"`
	LLMs     []string       `json:"llms"`
	Tasks    []string       `json:"train_tasks"`
	Seed     int64          `json:"seed"`
	Settings map[string]any `json:"settings"`
	Encoder  string         `json:"encoder"`
	Training any            `json:"training,omitempty"`
	Versions Versions       `json:"versions"`
}

// Versions records what produced a result.
type Versions struct {
	Go      string `json:"go"`
	GoMLX   string `json:"gomlx"`
	Backend string `json:"backend"`
	SIMD    string `json:"simd"` // backend.SIMD: the last bits of GoMLX results depend on it
}

// CurrentVersions reads the build info of the running binary.
func CurrentVersions() Versions {
	v := Versions{Backend: backend.Config(), SIMD: backend.SIMD()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v.Go = bi.GoVersion
		for _, d := range bi.Deps {
			if d.Path == "github.com/gomlx/gomlx" {
				v.GoMLX = d.Version
			}
		}
	}
	return v
}

// HostRouter is a router computed on the host (kNN, task-level,
// LoraRetriever): one value per LLM per query, higher is better.
type HostRouter = hostrouters.Router

// Router is a trained router in memory.
type Router struct {
	Meta    Meta
	Encoder encode.Persistent
	Model   routers.Model
	kind    routers.Kind
}

// New wraps a fitted model of the kind Meta.Kind names.
func New(meta Meta, enc encode.Persistent, m routers.Model) (*Router, error) {
	k, err := routers.Lookup(meta.Kind)
	if err != nil {
		return nil, err
	}
	return &Router{Meta: meta, Encoder: enc, Model: m, kind: k}, nil
}

// NewGraphRouter wraps a trained GoMLX store.
func NewGraphRouter(meta Meta, enc encode.Persistent, store *model.Store, b compute.Backend) *Router {
	return mustNew(meta, enc, &router.GraphModel{Store: store, Backend: b, NumLLMs: len(meta.LLMs)})
}

// NewHostRouter wraps a host-side router.
func NewHostRouter(meta Meta, enc encode.Persistent, h HostRouter) *Router {
	return mustNew(meta, enc, hostrouters.Model(h))
}

func mustNew(meta Meta, enc encode.Persistent, m routers.Model) *Router {
	r, err := New(meta, enc, m)
	if err != nil {
		panic(err)
	}
	return r
}

// ScoresFromFeatures returns one value per LLM per encoded query: logits for
// GoMLX routers, the host router's values otherwise.
func (r *Router) ScoresFromFeatures(x [][]float32) ([][]float64, error) {
	s, err := r.rawScores(x)
	if err != nil || r.Meta.Exclude == "" {
		return s, err
	}
	return MaskLLM(s, r.Meta.LLMs, r.Meta.Exclude), nil
}

// MaskLLM sets the named LLM's scores to -Inf so it is never picked.
func MaskLLM(scores [][]float64, llms []string, name string) [][]float64 {
	t := slices.Index(llms, name)
	if t < 0 {
		return scores
	}
	for _, row := range scores {
		if t < len(row) {
			row[t] = math.Inf(-1)
		}
	}
	return scores
}

func (r *Router) rawScores(x [][]float32) ([][]float64, error) { return r.Model.Scores(x) }

// Scores encodes texts and scores them.
func (r *Router) Scores(texts []string) ([][]float64, error) {
	x, err := r.Encoder.Encode(texts)
	if err != nil {
		return nil, err
	}
	return r.ScoresFromFeatures(x)
}

// Probabilities turns scores into a distribution over LLMs: softmax of the
// logits for GoMLX routers; host routers' values normalised to sum 1.
func (r *Router) Probabilities(scores []float64) []float64 {
	out := make([]float64, len(scores))
	if !r.kind.GoMLX() {
		var sum float64
		for _, v := range scores {
			sum += math.Max(v, 0)
		}
		for t, v := range scores {
			if sum > 0 {
				out[t] = math.Max(v, 0) / sum
			} else {
				out[t] = 1 / float64(len(scores))
			}
		}
		return out
	}
	m := math.Inf(-1)
	for _, v := range scores {
		m = math.Max(m, v)
	}
	var z float64
	for t, v := range scores {
		out[t] = math.Exp(v - m)
		z += out[t]
	}
	for t := range out {
		out[t] /= z
	}
	return out
}

// Route returns the chosen LLM index per text.
func (r *Router) Route(texts []string) ([]int, error) {
	s, err := r.Scores(texts)
	if err != nil {
		return nil, err
	}
	return router.Argmax(s), nil
}

// Save writes the router directory atomically: everything goes to a temp
// directory beside dir, which then replaces dir. dir must be new, empty or a
// router directory (CheckOutDir).
func (r *Router) Save(dir string) error {
	dir = filepath.Clean(dir)
	tmp, err := makeTempDir(dir)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it private
		return err
	}
	if err := r.Encoder.Save(filepath.Join(tmp, EncoderFile)); err != nil {
		return err
	}
	if err := r.Model.Save(tmp); err != nil {
		return fmt.Errorf("saving %s router: %w", r.Meta.Kind, err)
	}
	meta, err := json.MarshalIndent(r.Meta, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, MetaFile), append(meta, '\n'), 0o644); err != nil {
		return err
	}
	return replaceDir(tmp, dir)
}

// Load reads a router directory.
func Load(dir string) (*Router, error) {
	b, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a router directory (no %s): train one with `routerdc train --out %s`", dir, MetaFile, dir)
	}
	if err != nil {
		return nil, err
	}
	var meta Meta
	if err := json.Unmarshal(b, &meta); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, MetaFile), err)
	}
	if len(meta.LLMs) == 0 {
		return nil, fmt.Errorf("%s: field \"llms\" is empty", filepath.Join(dir, MetaFile))
	}
	enc, err := encode.Load(filepath.Join(dir, EncoderFile))
	if err != nil {
		return nil, err
	}
	kind, err := routers.Lookup(meta.Kind)
	if err != nil {
		return nil, fmt.Errorf("%s: field \"kind\": %w", filepath.Join(dir, MetaFile), err)
	}
	m, err := kind.Load(dir, len(meta.LLMs))
	if err != nil {
		return nil, err
	}
	return &Router{Meta: meta, Encoder: enc, Model: m, kind: kind}, nil
}

// Embedder is a model with learned query embeddings (the GoMLX kinds).
type Embedder interface {
	Embeddings(x [][]float32) ([][]float32, error)
}

// Embeddings returns the router's learned query embeddings of texts.
func (r *Router) Embeddings(texts []string) ([][]float32, error) {
	e, ok := r.Model.(Embedder)
	if !ok {
		return nil, fmt.Errorf("router %s has no learned query embeddings", r.Meta.Kind)
	}
	x, err := r.Encoder.Encode(texts)
	if err != nil {
		return nil, err
	}
	return e.Embeddings(x)
}
