package hostrouters

import (
	"path/filepath"

	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// hostKind registers a host-side Router as a router kind: fitted on the
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
