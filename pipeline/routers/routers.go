// Package routers is the registry of router kinds. A kind (the value of the
// "router" setting) is one file: it implements Kind, declares its own
// settings, and calls Register from init(). The settings, the CLI and the
// router directory find kinds here by name, so adding a kind touches no
// other file.
//
// The GoMLX kinds (routerdc, cosine, zooter) register from pipeline/router,
// the host kinds (knn, task, lora, prior) from pipeline/hostrouters; a program
// sees a kind once it links that package (pipeline/routerdir links both).
package routers

import (
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/ml/model"
)

// Kind is one router kind.
type Kind interface {
	// Name is the value of the "router" setting.
	Name() string
	// Settings are the settings only this kind reads (the common ones are
	// declared by pipeline/router). A setting two kinds share is the same
	// declaration listed by both.
	Settings() []Setting
	// GoMLX says whether the kind trains with GoMLX: its scores are logits,
	// its numbers depend on the backend version, and training has a curve.
	GoMLX() bool
	// UsesGroups says whether fitting with these settings uses the
	// sample-sample groups (the "group" setting).
	UsesGroups(v Values) bool
	// Check rejects settings that cannot apply: with numLLMs = 0 only what
	// the settings alone decide; with the data's number of LLMs, also the
	// bounds it sets. It runs before anything is fitted.
	Check(v Values, numLLMs int) error
	// Fit trains a router.
	Fit(in FitInput) (Model, error)
	// Load reads what Model.Save wrote into a router directory.
	Load(dir string, numLLMs int) (Model, error)
}

// Model is a fitted router.
type Model interface {
	// Scores returns one value per LLM for each row of x (higher is better).
	Scores(x [][]float32) ([][]float64, error)
	// Save writes the router's own files into the router directory dir.
	Save(dir string) error
}

// Examples are encoded queries with their scores.
type Examples struct {
	X [][]float32
	// Scores are the raw per-LLM scores, in the dataset's LLM order.
	Scores [][]float64
	// Credit marks probability-metric queries (credit = score > 0); the
	// others are multi-attempt (credit = score).
	Credit []bool
	Task   []int // index into the task list
	Group  []int // released cluster id (or our own grouping)
	// Costs are each LLM's cost per query in dollars (nil: the data has
	// none).
	Costs [][]float64
}

// Len is the number of examples.
func (e *Examples) Len() int { return len(e.X) }

// FitInput is everything a kind may fit on.
type FitInput struct {
	// Store holds the settings; GoMLX kinds train their variables in it.
	Store *model.Store
	// Values are the settings read from Store.
	Values Values
	Seed   int64
	Train  *Examples
	// Targets are what the router learns from, one row per training query
	// (the "target" setting applied to Train.Scores).
	Targets [][]float64
	// Select are the rows that pick the checkpoint (GoMLX kinds).
	Select *Examples
	// Monitor rows are scored at every checkpoint for the training curves;
	// they never steer training (nil: none).
	Monitor   *Examples
	ResumeDir string
	Progress  io.Writer
}

var (
	kinds    = map[string]Kind{}
	settings = map[string]Setting{}
	usedBy   = map[string][]string{}
)

// Register makes a kind known and declares its settings. It panics on a
// second kind of the same name or a conflicting setting: both are
// programming errors found at start-up.
func Register(k Kind) {
	if _, dup := kinds[k.Name()]; dup {
		panic("routers: kind " + k.Name() + " registered twice")
	}
	kinds[k.Name()] = k
	for _, s := range k.Settings() {
		declare(s)
		usedBy[s.Key] = append(usedBy[s.Key], k.Name())
	}
}

// Declare declares settings every kind shares.
func Declare(ss ...Setting) {
	for _, s := range ss {
		declare(s)
	}
}

func declare(s Setting) {
	if old, ok := settings[s.Key]; ok {
		if old.Default != s.Default || old.Doc != s.Doc || old.Origin != s.Origin {
			panic("routers: setting " + s.Key + " declared twice, differently")
		}
		return
	}
	switch s.Default.(type) {
	case int, float64, string:
	default:
		panic(fmt.Sprintf("routers: setting %s: default %v is a %T, want int, float64 or string", s.Key, s.Default, s.Default))
	}
	settings[s.Key] = s
}

// Lookup returns the registered kind of that name.
func Lookup(name string) (Kind, error) {
	if k, ok := kinds[name]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown router kind %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Names lists the registered kinds, sorted.
func Names() []string {
	var out []string
	for n := range kinds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Settings lists every declared setting, sorted by key.
func Settings() []Setting {
	var out []Setting
	for _, s := range settings {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// UsedBy lists the kinds that declared the setting (none: every kind).
func UsedBy(key string) []string {
	out := slices.Clone(usedBy[key])
	sort.Strings(out)
	return out
}

// Defaults maps every declared setting to its default.
func Defaults() map[string]any {
	out := map[string]any{}
	for k, s := range settings {
		out[k] = s.Default
	}
	return out
}

// Lookup of one declared setting.
func setting(key string) Setting {
	s, ok := settings[key]
	if !ok {
		panic("routers: setting " + key + " is not declared")
	}
	return s
}

// Values are settings read from a store: every declared key with its value,
// of its default's type.
type Values map[string]any

// Read reads every declared setting from the store's root scope (the
// default where the store has none).
func Read(store *model.Store) Values {
	sc := store.Scope("/")
	v := Values{}
	for k, s := range settings {
		switch d := s.Default.(type) {
		case int:
			v[k] = model.GetParamOr(sc, k, d)
		case float64:
			v[k] = model.GetParamOr(sc, k, d)
		case string:
			v[k] = model.GetParamOr(sc, k, d)
		}
	}
	return v
}

// Int is an int setting's value.
func (v Values) Int(key string) int { return get[int](v, key) }

// Float is a float setting's value.
func (v Values) Float(key string) float64 { return get[float64](v, key) }

// String is a string setting's value.
func (v Values) String(key string) string { return get[string](v, key) }

func get[T any](v Values, key string) T {
	x, ok := v[key]
	if !ok {
		// Values built by hand (tests) may leave settings at their default.
		x = setting(key).Default
	}
	t, ok := x.(T)
	if !ok {
		panic(fmt.Sprintf("routers: setting %s is a %T, read as %v", key, x, reflect.TypeFor[T]()))
	}
	return t
}

// Validate runs every declared setting's range check.
func (v Values) Validate() error {
	for _, s := range Settings() {
		x, ok := v[s.Key]
		if !ok || s.check == nil {
			continue
		}
		if want := s.check(x); want != "" {
			return fmt.Errorf("setting %s=%v: %s", s.Key, x, want)
		}
	}
	return nil
}

// Default is a declared setting's default.
func Default(key string) any { return setting(key).Default }
