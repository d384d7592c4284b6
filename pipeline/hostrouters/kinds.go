package hostrouters

import (
	"path/filepath"

	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// Keys of the host kinds' own settings.
const (
	SettingPriorLambda = "prior_lambda"
	SettingPriorIters  = "prior_iters"
	SettingPriorAlpha  = "prior_alpha"
	SettingPriorPower  = "prior_power"
	SettingPriorTemp   = "prior_task_temp"
)

func init() {
	register(hostKind{name: "task", fileKind: kindTaskLevel,
		empty: func() Router { return &TaskLevel{} },
		fit:   func(routers.Values, int64) Router { return NewTaskLevel() }})
	register(hostKind{name: "lora", fileKind: kindLora,
		empty: func() Router { return &LoraRetriever{} },
		fit:   func(v routers.Values, seed int64) Router { return NewLoraRetriever(v.Int("clusters"), seed) }})
	register(hostKind{name: "prior", fileKind: kindPrior, settings: []routers.Setting{
		settingKNN,
		routers.Float(SettingPriorLambda, 0.01, routers.Ours, "> 0: per-task logistic regressions with this L2 weight; 0: shrunk kNN", routers.AtLeast(0.0)),
		routers.Int(SettingPriorIters, 200, routers.Ours, "logistic regression steps", routers.AtLeast(1)),
		routers.Float(SettingPriorAlpha, 10.0, routers.Ours, "kNN mode: pseudo-count of the task prior", routers.Above(0.0)),
		routers.Float(SettingPriorPower, 1.0, routers.Ours, "kNN mode: neighbour weight = max(cos,0)^power", routers.Above(0.0)),
		routers.Float(SettingPriorTemp, 0.0, routers.Ours, "task posterior softmax temperature (0: nearest centroid)", routers.AtLeast(0.0)),
	},
		empty: func() Router { return &TaskPrior{} },
		fit: func(v routers.Values, _ int64) Router {
			return &TaskPrior{K: v.Int(SettingKNN), Alpha: v.Float(SettingPriorAlpha), TaskTemp: v.Float(SettingPriorTemp),
				Power: v.Float(SettingPriorPower), Lambda: v.Float(SettingPriorLambda), Iters: v.Int(SettingPriorIters)}
		}})
}

// hostKind registers a baselines Router as a router kind: fitted on the
// host, kept in the router directory as File.
type hostKind struct {
	name     string // the "router" setting
	fileKind string // the "kind" field of its File
	settings []routers.Setting
	empty    func() Router // an unfitted router to decode a file into
	fit      func(v routers.Values, seed int64) Router
}

// fileKinds maps a File's "kind" to its router, for Load.
var fileKinds = map[string]func() Router{}

func register(k hostKind) {
	routers.Register(k)
	fileKinds[k.fileKind] = k.empty
}

func (k hostKind) Name() string                              { return k.name }
func (k hostKind) Settings() []routers.Setting               { return k.settings }
func (k hostKind) GoMLX() bool                               { return false }
func (k hostKind) UsesGroups(routers.Values) bool            { return false }
func (k hostKind) Check(v routers.Values, numLLMs int) error { return nil }

func (k hostKind) Fit(in routers.FitInput) (routers.Model, error) {
	r := k.fit(in.Values, in.Seed)
	if err := r.Fit(in.Train.X, in.Targets, in.Train.Task); err != nil {
		return nil, err
	}
	return Model(r), nil
}

func (k hostKind) Load(dir string, _ int) (routers.Model, error) {
	r, err := loadFile(filepath.Join(dir, File), k.fileKind, k.empty())
	if err != nil {
		return nil, err
	}
	return Model(r), nil
}

// File is the name of a host router's file inside a router directory.
const File = "baseline.json"

// Model makes a fitted Router a routers.Model.
func Model(r Router) routers.Model { return hostModel{r} }

type hostModel struct{ Router }

func (m hostModel) Scores(x [][]float32) ([][]float64, error) { return m.Router.Scores(x), nil }
func (m hostModel) Save(dir string) error                     { return m.Router.Save(filepath.Join(dir, File)) }
