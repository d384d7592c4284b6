package routers

import (
	"strings"
	"testing"
)

type fakeKind struct {
	name     string
	settings []Setting
}

func (k fakeKind) Name() string                    { return k.name }
func (k fakeKind) Settings() []Setting             { return k.settings }
func (k fakeKind) GoMLX() bool                     { return false }
func (k fakeKind) UsesGroups(Values) bool          { return false }
func (k fakeKind) Check(Values, int) error         { return nil }
func (k fakeKind) Fit(FitInput) (Model, error)     { return nil, nil }
func (k fakeKind) Load(string, int) (Model, error) { return nil, nil }

func panics(f func()) (p bool) {
	defer func() { p = recover() != nil }()
	f()
	return false
}

// TestRegistry: one declaration per setting, shared declarations allowed,
// conflicting ones and duplicate kinds refused at start-up.
func TestRegistry(t *testing.T) {
	shared := Int("fake_k", 4, Ours, "neighbours", AtLeast(1))
	Register(fakeKind{"fake_a", []Setting{shared, Float("fake_rate", 0.5, Paper, "rate", Fraction())}})
	Register(fakeKind{"fake_b", []Setting{shared}})
	if got := UsedBy("fake_k"); strings.Join(got, ",") != "fake_a,fake_b" {
		t.Errorf("fake_k used by %v", got)
	}
	if !panics(func() { Register(fakeKind{"fake_a", nil}) }) {
		t.Error("a second kind fake_a registered")
	}
	if !panics(func() { Declare(Int("fake_k", 5, Ours, "neighbours", AtLeast(1))) }) {
		t.Error("fake_k declared again with another default")
	}
	if !panics(func() { Declare(Setting{Key: "fake_bool", Default: true, Doc: "x", Origin: Ours}) }) {
		t.Error("a bool setting declared")
	}
	if _, err := Lookup("nope"); err == nil || !strings.Contains(err.Error(), "fake_a, fake_b") {
		t.Errorf("unknown kind: %v", err)
	}
	if d := Defaults(); d["fake_k"] != 4 || d["fake_rate"] != 0.5 {
		t.Errorf("defaults %v", d)
	}
	v := Values{"fake_k": 0, "fake_rate": 0.5}
	if err := v.Validate(); err == nil || err.Error() != "setting fake_k=0: want >= 1" {
		t.Errorf("fake_k=0: %v", err)
	}
	v = Values{"fake_k": 2, "fake_rate": 1.0}
	if err := v.Validate(); err == nil || err.Error() != "setting fake_rate=1: want [0, 1)" {
		t.Errorf("fake_rate=1: %v", err)
	}
	if (Values{}).Int("fake_k") != 4 {
		t.Error("a missing value does not read as its default")
	}
}
