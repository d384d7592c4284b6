package router

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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

// TestDamagedResumeStateSaysHowToRecover: a resume state that cannot be
// trusted (unreadable record, a changed weight file, "latest" naming a
// missing step) stops training with an error naming the directory to
// delete (or --force), not a bare decoding error or silently wrong weights.
func TestDamagedResumeStateSaysHowToRecover(t *testing.T) {
	b := backend.MustNew()
	ex := synthetic(128, 16, 5, 6)
	run := func(rs Resume) error {
		store := NewStore(2)
		if err := ApplySettings(store, []string{"steps=20;eval_every=10;dim=8"}); err != nil {
			t.Fatal(err)
		}
		_, err := TrainWith(b, store, ex, ex, nil, rs)
		return err
	}
	damage := map[string]func(t *testing.T, sd string){
		"state.json": func(t *testing.T, sd string) {
			os.WriteFile(filepath.Join(sd, "state.json"), []byte(`{"step": 10, "result": {`), 0o644)
		},
		"weights": func(t *testing.T, sd string) {
			bins, _ := filepath.Glob(filepath.Join(sd, "vars", "*.bin"))
			if len(bins) != 1 {
				t.Fatalf("%d checkpoint files in %s", len(bins), sd)
			}
			w, _ := os.ReadFile(bins[0])
			w[len(w)/2] ^= 1
			os.WriteFile(bins[0], w, 0o644)
		},
		"latest": func(t *testing.T, sd string) {
			os.WriteFile(filepath.Join(filepath.Dir(sd), latestFile), []byte("step-0000099"), 0o644)
		},
	}
	for what, f := range damage {
		t.Run(what, func(t *testing.T) {
			dir := t.TempDir()
			if err := run(Resume{Dir: dir, StopAfter: 10}); err != ErrStopped {
				t.Fatalf("stopped run: %v", err)
			}
			f(t, filepath.Join(dir, "step-0000010"))
			err := run(Resume{Dir: dir})
			if err == nil || !strings.Contains(err.Error(), "delete "+dir) || !strings.Contains(err.Error(), "--force") {
				t.Errorf("resuming from a damaged state: %v", err)
			}
		})
	}
}

// TestResumeStateWithoutHashesStartsOver: a state saved by the previous
// version (no file hashes) cannot be checked; training starts from step 1
// and ends as an uninterrupted run does.
func TestResumeStateWithoutHashesStartsOver(t *testing.T) {
	b := backend.MustNew()
	ex := synthetic(128, 16, 5, 7)
	run := func(rs Resume) (*TrainResult, error) {
		store := NewStore(2)
		if err := ApplySettings(store, []string{"steps=20;eval_every=10;dim=8"}); err != nil {
			t.Fatal(err)
		}
		return TrainWith(b, store, ex, ex, nil, rs)
	}
	full, err := run(Resume{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := run(Resume{Dir: dir, StopAfter: 10}); err != ErrStopped {
		t.Fatalf("stopped run: %v", err)
	}
	state := filepath.Join(dir, "step-0000010", "state.json")
	raw, _ := os.ReadFile(state)
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	delete(st, "files")
	// Pretend the first 10 steps had been different: starting over must
	// not keep them.
	st["result"].(map[string]any)["curve"] = []any{map[string]any{"step": 10, "loss": 123.0}}
	raw, _ = json.Marshal(st)
	os.WriteFile(state, raw, 0o644)
	got, err := run(Resume{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Curve) != len(full.Curve) || got.Curve[0] != full.Curve[0] {
		t.Errorf("curve %+v, uninterrupted %+v", got.Curve, full.Curve)
	}
}
