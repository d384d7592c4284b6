package router

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// Named hyperparameters, declared (default, description, range) in
// commonSettings or by the kind that reads them. Every one can be
// overridden from the command line (`--set lambda=0.5`); they are saved with
// the trained router.
const (
	ParamRouter         = "router"           // routerdc | cosine | zooter | knn | task | lora
	ParamEncoderBits    = encode.ParamBits   // hashed n-gram features: 2^bits buckets
	ParamDim            = "dim"              // query embedding size p
	ParamHiddenLayers   = "hidden_layers"    // extra tanh layers before the projection
	ParamActivation     = "activation"       // tanh | relu | gelu
	ParamInputDropout   = "input_dropout"    // dropout rate on the encoder features while training
	ParamLLMInitStd     = "llm_init_std"     // LLM embeddings ~ N(0, std^2)
	ParamSimilarity     = "similarity"       // cosine | inner
	ParamTemperature    = "temperature"      // logits = sim / temperature
	ParamKPos           = "k_pos"            // K+
	ParamKNeg           = "k_neg"            // K-
	ParamNegThreshold   = "neg_threshold"    // negatives scoring above this are dropped
	ParamH              = "h"                // sample-sample negatives per query
	ParamLambda         = "lambda"           // weight of the sample-sample loss
	ParamGroup          = "group"            // cluster | task | ours: the sample-sample group id
	ParamTarget         = "target"           // score | credit: what the losses learn from
	ParamZooterTemp     = "zooter_temp"      // softmax temperature of ZOOTER's reward target
	ParamLearningRate   = "learning_rate"    // AdamW
	ParamWeightDecay    = "weight_decay"     // AdamW
	ParamSteps          = "steps"            // training steps
	ParamBatchSize      = "batch_size"       // queries per step
	ParamEvalEvery      = "eval_every"       // steps between checkpoint evaluations
	ParamSelect         = "select"           // train | val: data used to pick the checkpoint
	ParamSamplesPerTask = "samples_per_task" // each training task truncated/replicated to this (0: all rows)
	ParamValFraction    = "val_fraction"     // share of each training file held out for validation
	ParamClusters       = "clusters"         // k-means groups of group=ours and of LoraRetriever
	ParamBaselineLambda = "baseline_lambda"  // sample-sample loss weight for cosine/zooter (paper Tables 11-12)
	ParamLLMs           = "llms"             // train and route among the first k LLMs of the file (0: all; paper Table 8)
	ParamExcludeLLM     = "exclude_llm"      // never route to this LLM, chosen at inference (paper Table 3)
	ParamCostRate       = "cost_rate"        // training target = score - cost_rate * cost (RouterBench)
)

// commonSettings are the settings every kind shares (data, encoder,
// training); each kind declares its own beside its code. The defaults are
// the paper's official settings where the paper has one. Deviations, all
// forced by our offline encoder (a projection trained from scratch instead
// of a fine-tuned mDeBERTa), are marked routers.Ours: learning_rate 5e-3
// instead of 5e-5, and the encoder settings: dim 64 (p = 768 in the paper;
// on hashed features 64 validates as well as 256 or 1024 and trains 3x
// faster) and input_dropout 0.9, not in the paper: it regularises the
// projection trained from scratch on sparse hashed features (without it the
// projection memorises the training queries: 73% training vs 56% validation
// routing accuracy; with it validation accuracy rises by ~2.5 points, chosen
// on a val_fraction=0.2 split over 3 seeds). mDeBERTa needs none.
var commonSettings = []routers.Setting{
	routers.StringCheck(ParamRouter, KindRouterDC, routers.Paper, "router kind",
		func() string { return "want one of " + strings.Join(routers.Names(), ", ") },
		func(v string) bool { _, err := routers.Lookup(v); return err == nil }),
	routers.Int(ParamDim, 64, routers.Ours, "query embedding size p (paper: 768; 64 validates as well on hashed features)",
		routers.AtLeast(1)),
	routers.Int(ParamHiddenLayers, 0, routers.Ours, "extra layers before the projection", routers.AtLeast(0)),
	routers.String(ParamActivation, "tanh", routers.Ours, "activation of the hidden layers", "tanh", "relu", "gelu"),
	routers.Float(ParamInputDropout, 0.9, routers.Ours, "dropout on the encoder features while training (regularises the projection trained from scratch)",
		routers.Fraction()),
	routers.Float(ParamLLMInitStd, 0.78, routers.Paper, "LLM embeddings ~ N(0, std^2)", routers.Any[float64]()),
	routers.String(ParamSimilarity, "cosine", routers.Paper, "similarity of query and LLM embeddings", "cosine", "inner"),
	routers.Float(ParamTemperature, 1.0, routers.Paper, "logits = similarity / temperature", routers.Above(0.0)),
	routers.StringCheck(ParamGroup, GroupOurs, routers.Paper, "sample-sample groups: ours (t-SNE + k-means, the paper's recipe), cluster (released ids) or task",
		func() string {
			return "want cluster (released), task or ours (t-SNE + k-means into `clusters` groups)"
		},
		func(v string) bool { return v == "cluster" || v == "task" || v == GroupOurs }),
	routers.String(ParamTarget, "score", routers.Paper, "what the router learns from: score (released) or credit (metric's credit)", "score", "credit"),
	routers.Float(ParamLearningRate, 5e-3, routers.Ours, "AdamW learning rate (paper: 5e-5 for a fine-tuned mDeBERTa)", routers.Above(0.0)),
	routers.Float(ParamWeightDecay, 0.01, routers.Paper, "AdamW weight decay", routers.AtLeast(0.0)),
	routers.Int(ParamSteps, 1000, routers.Paper, "training steps", routers.AtLeast(1)),
	routers.Int(ParamBatchSize, 64, routers.Paper, "queries per step", routers.AtLeast(2)),
	routers.Int(ParamEvalEvery, 50, routers.Paper, "steps between checkpoint evaluations", routers.AtLeast(1)),
	routers.String(ParamSelect, "train", routers.Paper, "data that picks the checkpoint", "train", "val"),
	routers.Int(ParamSamplesPerTask, 1000, routers.Paper, "each training task truncated/replicated to this many rows (0: all rows)",
		routers.AtLeast(0)),
	routers.Float(ParamValFraction, 0.0, routers.Paper, "share of each training file held out for validation (0: none, as the paper)",
		routers.Fraction()),
	routers.Int(ParamClusters, 5, routers.Paper, "k-means groups of group=ours and of LoraRetriever", routers.AtLeast(1)),
	routers.Int(ParamLLMs, 0, routers.Paper, "train and route among the first k LLMs of the file (0: all; paper Table 8)",
		routers.ZeroOrAtLeast(2, "all")),
	routers.String(ParamExcludeLLM, "", routers.Paper, "never route to this LLM, chosen at inference (paper Table 3)"),
	routers.Float(ParamCostRate, 0.0, routers.Ours, "training target = score - cost_rate x cost in dollars per query, as RouterBench's training "+
		"script (0: costs ignored; needs costs in the data)", routers.AtLeast(0.0)),
}

func init() { routers.Declare(commonSettings...) }

// DefaultParams maps every declared setting (of every linked kind) to its
// default.
func DefaultParams() map[string]any { return routers.Defaults() }

// Kinds lists every registered router kind, sorted.
func Kinds() []string { return routers.Names() }

// GroupOurs selects our grouping stage (t-SNE + k-means) for the
// sample-sample loss.
const GroupOurs = "ours"

// UsesOurGroups says whether training needs the grouping stage: group=ours
// and a kind whose settings use the sample-sample loss.
func UsesOurGroups(p Params) bool {
	if p.Group != GroupOurs {
		return false
	}
	k, err := routers.Lookup(p.Router)
	return err == nil && k.UsesGroups(p.values())
}

// IsGraphKind says whether the kind is trained with GoMLX.
func IsGraphKind(kind string) bool {
	k, err := routers.Lookup(kind)
	return err == nil && k.GoMLX()
}

// NewStore returns a model store holding the default params and the seed.
func NewStore(seed int64) *model.Store {
	store := model.NewStore()
	store.SetParams(DefaultParams())
	store.SetParam(model.ParamInitialSeed, seed)
	return store
}

// ApplySettings applies "key=value" overrides (each may hold several
// separated by ';') and validates the result. Unknown keys are an error.
func ApplySettings(store *model.Store, settings []string) error {
	for _, s := range settings {
		as, err := routers.Parse(s)
		if err != nil {
			return err // names the setting: the caller says where it came from
		}
		for _, a := range as {
			store.SetParam(a.Key, a.Value)
		}
	}
	return Validate(store)
}

// ParamNames lists the known settings, sorted.
func ParamNames() []string {
	var names []string
	for _, s := range routers.Settings() {
		names = append(names, s.Key)
	}
	return names
}

// Validate checks every setting against its declared range, then what the
// settings decide together (before any data is read).
func Validate(store *model.Store) error {
	v := routers.Read(store)
	if err := v.Validate(); err != nil {
		return err
	}
	if v.String(ParamSelect) == "val" && v.Float(ParamValFraction) <= 0 {
		return fmt.Errorf("setting %s=%v: select=val needs val_fraction > 0", ParamSelect, v.String(ParamSelect))
	}
	k, err := routers.Lookup(v.String(ParamRouter))
	if err != nil {
		return err
	}
	return k.Check(v, 0)
}

// Params is a typed snapshot of the common settings and those of the GoMLX
// kinds, for host-side code; Values holds every setting (kind-specific
// ones included).
type Params struct {
	Router                         string
	EncoderBits, Dim, HiddenLayers int
	Activation, Similarity         string
	InputDropout                   float64
	LLMInitStd, Temperature        float64
	KPos, KNeg, H                  int
	NegThreshold, Lambda           float64
	Group, Target                  string
	ZooterTemp                     float64
	LearningRate, WeightDecay      float64
	Steps, BatchSize, EvalEvery    int
	Select                         string
	SamplesPerTask                 int
	ValFraction                    float64
	Clusters                       int
	BaselineLambda                 float64
	LLMs                           int
	ExcludeLLM                     string
	CostRate                       float64
	Seed                           int64
	// Values are all settings as read (nil in hand-built Params).
	Values routers.Values
}

// values are p's settings; hand-built Params (tests) carry the typed
// fields only.
func (p Params) values() routers.Values {
	if p.Values != nil {
		return p.Values
	}
	return routers.Values{
		ParamRouter: p.Router, ParamKPos: p.KPos, ParamKNeg: p.KNeg, ParamH: p.H, ParamLambda: p.Lambda,
		ParamBaselineLambda: p.BaselineLambda, ParamBatchSize: p.BatchSize, ParamGroup: p.Group,
	}
}

// ReadParams reads the settings from the store's root scope (each missing
// one at its declared default).
func ReadParams(store *model.Store) Params {
	v := routers.Read(store)
	return Params{
		Router:         v.String(ParamRouter),
		EncoderBits:    v.Int(ParamEncoderBits),
		Dim:            v.Int(ParamDim),
		HiddenLayers:   v.Int(ParamHiddenLayers),
		Activation:     v.String(ParamActivation),
		InputDropout:   v.Float(ParamInputDropout),
		LLMInitStd:     v.Float(ParamLLMInitStd),
		Similarity:     v.String(ParamSimilarity),
		Temperature:    v.Float(ParamTemperature),
		KPos:           v.Int(ParamKPos),
		KNeg:           v.Int(ParamKNeg),
		NegThreshold:   v.Float(ParamNegThreshold),
		H:              v.Int(ParamH),
		Lambda:         v.Float(ParamLambda),
		Group:          v.String(ParamGroup),
		Target:         v.String(ParamTarget),
		ZooterTemp:     v.Float(ParamZooterTemp),
		LearningRate:   v.Float(ParamLearningRate),
		WeightDecay:    v.Float(ParamWeightDecay),
		Steps:          v.Int(ParamSteps),
		BatchSize:      v.Int(ParamBatchSize),
		EvalEvery:      v.Int(ParamEvalEvery),
		Select:         v.String(ParamSelect),
		SamplesPerTask: v.Int(ParamSamplesPerTask),
		ValFraction:    v.Float(ParamValFraction),
		Clusters:       v.Int(ParamClusters),
		BaselineLambda: v.Float(ParamBaselineLambda),
		LLMs:           v.Int(ParamLLMs),
		ExcludeLLM:     v.String(ParamExcludeLLM),
		CostRate:       v.Float(ParamCostRate),
		Seed:           model.GetParamOr(store.Scope("/"), model.ParamInitialSeed, int64(0)),
		Values:         v,
	}
}
