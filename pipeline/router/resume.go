package router

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
	"github.com/routerdc-go/routerdc/pipeline/cache"
)

// Resume makes training restartable: with Dir set, Train saves its state
// (all variables, optimizer moments included, the best checkpoint so far
// and the curve) at every checkpoint evaluation, and a later Train with the
// same settings and Dir continues from the last saved step. The batches of
// the finished steps are replayed on the host (cheap) so every random
// stream is where it was: a resumed run gives the same weights as an
// uninterrupted one.
type Resume struct {
	Dir string
	// StopAfter ends training after this step (0: never): to test resuming.
	StopAfter int
	// Monitor, when set, is evaluated at every checkpoint evaluation for
	// the curve only (report, never selection).
	Monitor *Examples
}

// ErrStopped is returned when Resume.StopAfter ends training early.
var ErrStopped = errors.New("training stopped early (Resume.StopAfter)")

type resumeState struct {
	Step int          `json:"step"`
	Res  *TrainResult `json:"result"`
	// Files are the SHA-256 of the saved variables' files, by path in the
	// step directory: a changed weight would otherwise be trained on.
	Files map[string]string `json:"files"`
}

const (
	latestFile = "latest"
	stateFile  = "state.json"
)

// damagedState is the error for a resume state that cannot be used: the
// run cannot fix it (the state is all it has of the finished steps), so it
// says how to start over.
func damagedState(dir, what string, err error) error {
	return fmt.Errorf("the saved training state in %s is damaged (%s: %v): delete %s, or rerun with --force, to train from the start",
		dir, what, err, dir)
}

// saveState writes the state of step into a fresh directory, then points
// "latest" at it: a run killed mid-save leaves the previous state intact.
func saveState(dir string, store *model.Store, step int, res *TrainResult, best map[string]*tensors.Tensor) error {
	name := fmt.Sprintf("step-%07d", step)
	sd := filepath.Join(dir, name)
	if err := os.RemoveAll(sd); err != nil {
		return err
	}
	if err := saveStore(store, filepath.Join(sd, "vars")); err != nil {
		return err
	}
	bestStore := model.NewStore()
	// Sorted, so the same state gives the same files.
	paths := make([]string, 0, len(best))
	for path := range best {
		paths = append(paths, path)
	}
	slices.Sort(paths)
	for _, path := range paths {
		c, err := best[path].LocalClone()
		if err != nil {
			return err
		}
		if _, err := bestStore.CreateVariable(path, c); err != nil {
			return err
		}
	}
	if err := saveStore(bestStore, filepath.Join(sd, "best")); err != nil {
		return err
	}
	files, err := cache.HashDir(sd, "")
	if err != nil {
		return err
	}
	b, err := json.Marshal(resumeState{Step: step, Res: res, Files: files})
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(sd, stateFile), b); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, latestFile), []byte(name)); err != nil {
		return err
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "step-") && e.Name() != name {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

func saveStore(store *model.Store, dir string) error {
	h, err := checkpoint.Build(store).Dir(dir).Keep(1).Done()
	if err != nil {
		return err
	}
	return h.Save()
}

// loadState restores the last saved state into store; ok is false when
// there is none, or when it was saved by a version that recorded no file
// hashes (it cannot be checked, so training starts over; its files are
// replaced at the first checkpoint). A state that fails its checks is an
// error saying how to start over.
func loadState(dir string, store *model.Store) (st resumeState, best map[string]*tensors.Tensor, ok bool, err error) {
	name, err := os.ReadFile(filepath.Join(dir, latestFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil, false, nil
	}
	if err != nil {
		return st, nil, false, damagedState(dir, latestFile, err)
	}
	step := strings.TrimSpace(string(name))
	sd := filepath.Join(dir, step)
	b, err := os.ReadFile(filepath.Join(sd, stateFile))
	if err != nil {
		return st, nil, false, damagedState(dir, filepath.Join(step, stateFile), err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, nil, false, damagedState(dir, filepath.Join(step, stateFile), err)
	}
	if st.Files == nil {
		return resumeState{}, nil, false, nil
	}
	got, err := cache.HashDir(sd, stateFile)
	if err != nil {
		return st, nil, false, damagedState(dir, step, err)
	}
	if file, why := cache.Compare(st.Files, got); file != "" {
		return st, nil, false, damagedState(dir, filepath.Join(step, filepath.FromSlash(file)), errors.New(why))
	}
	if _, err := checkpoint.Load(store).Dir(filepath.Join(sd, "vars")).Immediate().Done(); err != nil {
		return st, nil, false, damagedState(dir, filepath.Join(step, "vars"), err)
	}
	bestStore := model.NewStore()
	if _, err := checkpoint.Load(bestStore).Dir(filepath.Join(sd, "best")).Immediate().Done(); err != nil {
		return st, nil, false, damagedState(dir, filepath.Join(step, "best"), err)
	}
	best = map[string]*tensors.Tensor{}
	for v := range bestStore.IterVariables() {
		t, err := v.Value()
		if err != nil {
			return st, nil, false, err
		}
		best[v.Path()] = t
	}
	return st, best, true, nil
}
