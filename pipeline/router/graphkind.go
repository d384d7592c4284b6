package router

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"

	"github.com/routerdc-go/routerdc/pipeline/backend"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// WeightsDir is where a GoMLX router keeps its checkpoint inside a router
// directory.
const WeightsDir = "weights"

// graphKind is a kind trained with this package's model; the kinds differ
// in their loss and their own settings (kind_*.go).
type graphKind struct {
	name     string
	settings []routers.Setting
	// crossEntropy: trained with cross-entropy against a target
	// distribution instead of RouterDC's sample-LLM contrastive loss.
	crossEntropy bool
	// oneHot: the target is the argmax LLM (ties at random); else
	// softmax(scores / zooter_temp).
	oneHot bool
	// ssWeight is the setting weighting the sample-sample loss.
	ssWeight string
}

// Settings the GoMLX kinds share.
var (
	settingH = routers.Int(ParamH, 3, routers.Paper, "sample-sample: in-batch negative queries per query (H)",
		routers.AtLeast(1))
	settingBaselineLambda = routers.Float(ParamBaselineLambda, 0.0, routers.Paper,
		"sample-sample loss weight of the baselines (paper Tables 11-12)", routers.AtLeast(0.0))
)

func graphKindOf(name string) *graphKind {
	k, err := routers.Lookup(name)
	if err != nil {
		return nil
	}
	g, _ := k.(*graphKind)
	return g
}

func (k *graphKind) Name() string                { return k.name }
func (k *graphKind) Settings() []routers.Setting { return k.settings }
func (k *graphKind) GoMLX() bool                 { return true }

// UsesGroups: the sample-sample loss is on.
func (k *graphKind) UsesGroups(v routers.Values) bool { return v.Float(k.ssWeight) > 0 }

// Check rejects values the label computation would otherwise clamp: more
// sample-sample negatives than a batch holds, more positive or negative
// LLMs than the data has.
func (k *graphKind) Check(v routers.Values, numLLMs int) error {
	if h, b := v.Int(ParamH), v.Int(ParamBatchSize); k.UsesGroups(v) && h > b-1 {
		return fmt.Errorf("setting %s=%d: a batch of %s=%d has at most %d other queries to draw negatives from (want h <= %d)",
			ParamH, h, ParamBatchSize, b, b-1, b-1)
	}
	if k.crossEntropy || numLLMs <= 0 {
		return nil
	}
	for _, key := range []string{ParamKPos, ParamKNeg} {
		// The default K = 3 shrinks to the LLMs there are (paper Table 8
		// trains on 2); a value asked for cannot.
		if n := v.Int(key); n > numLLMs && n != routers.Default(key) {
			return fmt.Errorf("setting %s=%d: more than the %d LLMs to rank (want <= %d)", key, n, numLLMs, numLLMs)
		}
	}
	return nil
}

func (k *graphKind) Fit(in routers.FitInput) (routers.Model, error) {
	b, err := backend.New()
	if err != nil {
		return nil, err
	}
	res, err := TrainWith(b, in.Store, in.Train, in.Select, in.Progress, Resume{Dir: in.ResumeDir, Monitor: in.Monitor})
	if err != nil {
		return nil, err
	}
	return &GraphModel{Store: in.Store, Backend: b, NumLLMs: len(in.Train.Scores[0]), Result: res}, nil
}

func (k *graphKind) Load(dir string, numLLMs int) (routers.Model, error) {
	b, err := backend.New()
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	wdir := filepath.Join(dir, WeightsDir)
	if _, err := checkpoint.Load(store).Dir(wdir).Immediate().Done(); err != nil {
		return nil, fmt.Errorf("loading weights from %s: %w", wdir, err)
	}
	return &GraphModel{Store: store, Backend: b, NumLLMs: numLLMs}, nil
}

// GraphModel is a trained GoMLX router.
type GraphModel struct {
	Store   *model.Store
	Backend compute.Backend
	NumLLMs int
	// Result is what training did (nil for a loaded router).
	Result *TrainResult
}

// Scores are the logits.
func (g *GraphModel) Scores(x [][]float32) ([][]float64, error) {
	logits, err := Predict(g.Backend, g.Store, x, g.NumLLMs)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(logits))
	for i, row := range logits {
		out[i] = make([]float64, len(row))
		for t, v := range row {
			out[i][t] = float64(v)
		}
	}
	return out, nil
}

// Embeddings are the learned query embeddings of x.
func (g *GraphModel) Embeddings(x [][]float32) ([][]float32, error) {
	return Embeddings(g.Backend, g.Store, x)
}

// Save checkpoints only the router's variables and settings (not the
// optimizer's moments) with GoMLX's checkpoint format.
func (g *GraphModel) Save(dir string) error {
	clean := model.NewStore()
	for k, v := range g.Store.IterParams() {
		clean.SetParam(k, v)
	}
	// Sorted by path: the checkpoint keeps the store's creation order, which
	// for a resumed run is the map order its state was loaded in, and the
	// same weights must give the same bytes (parameters are already sorted).
	vars := slices.Collect(g.Store.Scope("/" + ScopeName).IterVariables())
	slices.SortFunc(vars, func(a, b *model.Variable) int { return strings.Compare(a.Path(), b.Path()) })
	for _, v := range vars {
		if _, err := v.CloneToStore(clean); err != nil {
			return fmt.Errorf("copying %s: %w", v.Path(), err)
		}
	}
	wdir := filepath.Join(dir, WeightsDir)
	h, err := checkpoint.Build(clean).Dir(wdir).Keep(1).Done()
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", wdir, err)
	}
	if err := h.Save(); err != nil {
		return fmt.Errorf("checkpoint %s: %w", wdir, err)
	}
	return nil
}
