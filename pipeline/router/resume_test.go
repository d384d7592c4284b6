package router

import (
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/backend"
)

// TestResumeAfterLastStepKeepsRate: a run killed after saving its last
// step and resumed trains nothing; its result still reports the training
// time and rate of the run that did the steps, not 0 steps per second.
func TestResumeAfterLastStepKeepsRate(t *testing.T) {
	b := backend.MustNew()
	ex := synthetic(128, 16, 5, 4)
	dir := t.TempDir()
	run := func(rs Resume) (*TrainResult, error) {
		store := NewStore(2)
		if err := ApplySettings(store, []string{"steps=20;eval_every=10;dim=8"}); err != nil {
			t.Fatal(err)
		}
		return TrainWith(b, store, ex, ex, nil, rs)
	}
	if _, err := run(Resume{Dir: dir, StopAfter: 20}); err != ErrStopped {
		t.Fatalf("stopped run: %v", err)
	}
	res, err := run(Resume{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !(res.StepsPerS > 0) || !(res.Seconds > 0) {
		t.Errorf("resumed after the last step: %v s, %v steps/s; want the first run's time and rate", res.Seconds, res.StepsPerS)
	}
	if want := 20 / res.Seconds; res.StepsPerS != want {
		t.Errorf("steps_per_second %v, want all 20 steps over the recorded %v s = %v", res.StepsPerS, res.Seconds, want)
	}
}
