package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/group"
	"github.com/routerdc-go/routerdc/pipeline/router"
	"github.com/routerdc-go/routerdc/pipeline/routerdir"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// Timing of one training run, recorded with every result.
type Timing struct {
	PrepareS float64 `json:"prepare_s"`
	EncodeS  float64 `json:"encode_s"`
	FitS     float64 `json:"fit_s"`
	TotalS   float64 `json:"total_s"`
}

// Report is what a run records beside the router.
type Report struct {
	Timing   Timing              `json:"timing"`
	Train    *router.TrainResult `json:"train,omitempty"`
	NumTrain int                 `json:"num_train"`
	NumVal   int                 `json:"num_val"`
	// ValAcc is the mean per-task routing accuracy on the held-out
	// validation rows (val_fraction > 0): the number to tune settings on.
	ValAcc float64 `json:"val_acc,omitempty"`
	// ValTasks is ValAcc per training task.
	ValTasks map[string]float64 `json:"val_tasks,omitempty"`
}

// ReportOf is the training report of a router: the one Run attached, or
// the one a loaded router directory carries (decoded from its meta.json).
func ReportOf(r *routerdir.Router) (*Report, error) {
	switch t := r.Meta.Training.(type) {
	case *Report:
		return t, nil
	case nil:
		return nil, errors.New("the router has no training report")
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		var rep Report
		if err := json.Unmarshal(b, &rep); err != nil {
			return nil, fmt.Errorf("the router's training report: %w", err)
		}
		return &rep, nil
	}
}

// Run trains the router described by the store's settings on the training
// tasks of the collection and returns it ready to route.
func Run(col *data.Collection, store *model.Store, progress io.Writer) (*routerdir.Router, error) {
	return RunWith(col, store, nil, progress)
}

// FitEncoder builds the settings' encoder, fitted (when its kind fits) on
// the distinct training questions (replication would skew document
// frequencies towards HumanEval): the pipeline's embed stage.
func FitEncoder(set *Set, v routers.Values) (encode.Persistent, error) {
	return encode.New(v, distinct(Questions(set.Train)))
}

// RunWith is Run with an already fitted encoder (nil: fit one), so the
// pipeline can reuse a cached embed stage.
func RunWith(col *data.Collection, store *model.Store, enc encode.Persistent, progress io.Writer) (*routerdir.Router, error) {
	return RunWithOptions(col, store, Options{Encoder: enc}, progress)
}

// Options are the pipeline's hooks into a training run.
type Options struct {
	// Encoder is an already fitted encoder (nil: fit one).
	Encoder encode.Persistent
	// Groups are precomputed group=ours assignments of the training rows
	// (nil: computed here).
	Groups []int
	// ResumeDir keeps GoMLX training restartable (see router.Resume).
	ResumeDir string
	// Monitor rows (test queries) are scored at every checkpoint evaluation
	// for the training-curves figure; they never steer training.
	Monitor []Row
}

// RunWithOptions is Run with the pipeline's hooks.
func RunWithOptions(col *data.Collection, store *model.Store, o Options, progress io.Writer) (*routerdir.Router, error) {
	enc := o.Encoder
	start := time.Now()
	if err := router.Validate(store); err != nil {
		return nil, err
	}
	p := router.ReadParams(store)
	kind, err := routers.Lookup(p.Router)
	if err != nil {
		return nil, err
	}
	set, err := Prepare(col, p.SamplesPerTask, p.ValFraction, p.Seed)
	if err != nil {
		return nil, err
	}
	if err := restrictLLMs(set, p); err != nil {
		return nil, err
	}
	if err := kind.Check(p.Values, len(set.LLMs)); err != nil {
		return nil, err
	}
	rep := &Report{NumTrain: len(set.Train), NumVal: len(set.Val)}
	rep.Timing.PrepareS = time.Since(start).Seconds()

	t0 := time.Now()
	if enc == nil {
		if enc, err = FitEncoder(set, p.Values); err != nil {
			return nil, err
		}
		if encode.ExpensiveKind(p.Values) {
			enc = encode.Shared(enc)
		}
	}
	if err := checkFeatureMemory(len(set.Train)+len(set.Val)+len(o.Monitor), enc.Dim()); err != nil {
		return nil, err
	}
	trainEx, err := Examples(enc, set.Train)
	if err != nil {
		return nil, err
	}
	valEx, err := Examples(enc, set.Val)
	if err != nil {
		return nil, err
	}
	rep.Timing.EncodeS = time.Since(t0).Seconds()

	meta := routerdir.Meta{
		Exclude:  p.ExcludeLLM,
		Kind:     p.Router,
		LLMs:     set.LLMs,
		Seed:     p.Seed,
		Settings: Settings(store),
		Encoder:  enc.Name(),
		Versions: routerdir.CurrentVersions(),
	}
	for _, t := range set.Tasks {
		meta.Tasks = append(meta.Tasks, t.Name)
	}

	t1 := time.Now()
	in := routers.FitInput{Store: store, Values: p.Values, Seed: p.Seed, Train: trainEx, Select: trainEx,
		ResumeDir: o.ResumeDir, Progress: progress}
	if p.Select == "val" {
		in.Select = valEx
	}
	if router.UsesOurGroups(p) {
		groups := o.Groups
		if groups == nil {
			if groups, err = OurGroups(trainEx.X, p, progress); err != nil {
				return nil, err
			}
		}
		if len(groups) != trainEx.Len() {
			return nil, fmt.Errorf("%d group ids for %d training rows", len(groups), trainEx.Len())
		}
		trainEx.Group = groups
	}
	if in.Targets, err = router.TargetScores(p, trainEx); err != nil {
		return nil, err
	}
	if len(o.Monitor) > 0 {
		if in.Monitor, err = Examples(enc, o.Monitor); err != nil {
			return nil, err
		}
	}
	m, err := kind.Fit(in)
	if err != nil {
		return nil, fmt.Errorf("fitting %s: %w", p.Router, err)
	}
	if g, ok := m.(*router.GraphModel); ok {
		rep.Train = g.Result
	}
	r, err := routerdir.New(meta, enc, m)
	if err != nil {
		return nil, err
	}
	rep.Timing.FitS = time.Since(t1).Seconds()
	if valEx.Len() > 0 {
		s, err := r.ScoresFromFeatures(valEx.X)
		if err != nil {
			return nil, err
		}
		picks := router.Argmax(s)
		rep.ValAcc = router.MeanTaskAccuracy(valEx, picks)
		rep.ValTasks = map[string]float64{}
		for i, a := range router.TaskAccuracies(valEx, picks) {
			rep.ValTasks[set.Tasks[i].Name] = a
		}
	}
	rep.Timing.TotalS = time.Since(start).Seconds()
	r.Meta.Training = rep
	return r, nil
}

// Examples encodes rows for the router packages.
func Examples(enc encode.Encoder, rows []Row) (*router.Examples, error) {
	ex := &router.Examples{}
	if len(rows) == 0 {
		return ex, nil
	}
	if err := checkFeatureMemory(len(rows), enc.Dim()); err != nil {
		return nil, err
	}
	x, err := enc.Encode(Questions(rows))
	if err != nil {
		return nil, err
	}
	ex.X = x
	for _, r := range rows {
		ex.Scores = append(ex.Scores, r.Scores)
		ex.Credit = append(ex.Credit, r.Credit)
		ex.Task = append(ex.Task, r.Task)
		ex.Group = append(ex.Group, r.Cluster)
		if r.Costs != nil {
			ex.Costs = append(ex.Costs, r.Costs)
		}
	}
	if len(ex.Costs) != len(rows) {
		ex.Costs = nil // costs for some rows only: none
	}
	return ex, nil
}

func distinct(texts []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range texts {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// Settings copies the store's root params (the named hyperparameters).
func Settings(store *model.Store) map[string]any {
	out := map[string]any{}
	for k, v := range store.IterParams() {
		out[strings.TrimPrefix(k, "/")] = v
	}
	return out
}

// restrictLLMs keeps the first `llms` LLMs of the file order (paper Table
// 8) and checks that exclude_llm names one of them.
func restrictLLMs(set *Set, p router.Params) error {
	if p.LLMs > 0 {
		if p.LLMs > len(set.LLMs) {
			return fmt.Errorf("setting llms=%d: the data has %d LLMs", p.LLMs, len(set.LLMs))
		}
		set.LLMs = set.LLMs[:p.LLMs]
		for _, rows := range [][]Row{set.Train, set.Val} {
			for i := range rows {
				rows[i].Scores = rows[i].Scores[:p.LLMs]
				if rows[i].Costs != nil {
					rows[i].Costs = rows[i].Costs[:p.LLMs]
				}
			}
		}
	}
	if p.ExcludeLLM != "" && !slices.Contains(set.LLMs, p.ExcludeLLM) {
		return fmt.Errorf("setting exclude_llm=%q: not one of the LLMs %v", p.ExcludeLLM, set.LLMs)
	}
	return nil
}

// TSNE is the first half of the grouping stage: the training features
// reduced to 5 dimensions by t-SNE, seeded. It does not depend on the number
// of groups, so the pipeline caches it once per seed.
func TSNE(x [][]float32, seed int64, progress io.Writer) ([][]float64, error) {
	emb, err := group.TSNE(x, group.TSNEConfig{Seed: seed}, progress)
	if err != nil {
		return nil, fmt.Errorf("grouping stage (t-SNE): %w", err)
	}
	return emb, nil
}

// GroupsFromTSNE is the second half: k-means of the t-SNE embedding into
// `clusters` groups, seeded.
func GroupsFromTSNE(emb [][]float64, p router.Params) ([]int, error) {
	e32 := make([][]float32, len(emb))
	for i, r := range emb {
		e32[i] = make([]float32, len(r))
		for j, v := range r {
			e32[i][j] = float32(v)
		}
	}
	assign, _, err := group.KMeans(e32, p.Clusters, p.Seed, 0)
	if err != nil {
		return nil, fmt.Errorf("grouping stage (k-means): %w", err)
	}
	return assign, nil
}

// OurGroups is the whole grouping stage: t-SNE of the training features to
// 5 dimensions, then k-means into `clusters` groups (the paper's recipe;
// group=ours uses them in the sample-sample loss).
func OurGroups(x [][]float32, p router.Params, progress io.Writer) ([]int, error) {
	emb, err := TSNE(x, p.Seed, progress)
	if err != nil {
		return nil, err
	}
	return GroupsFromTSNE(emb, p)
}
