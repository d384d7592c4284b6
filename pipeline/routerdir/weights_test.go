package routerdir

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/backend"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/router"
)

// TestResumedWeightsByteIdentical: a training run stopped after a
// checkpoint and resumed saves the same weight files, byte for byte, as an
// uninterrupted run (the resume state loads variables in map order; the
// saved files must not depend on it).
func TestResumedWeightsByteIdentical(t *testing.T) {
	texts, ex := toy()
	enc := encode.NewHashed(encode.HashedConfig{Bits: 8})
	enc.Fit(texts)
	x, err := enc.Encode(texts)
	if err != nil {
		t.Fatal(err)
	}
	ex.X = x
	b := backend.MustNew()
	state := t.TempDir()
	run := func(rs router.Resume) (map[string][]byte, error) {
		store := router.NewStore(3)
		if err := router.ApplySettings(store, []string{"steps=40;eval_every=20;dim=8;hidden_layers=2"}); err != nil {
			t.Fatal(err)
		}
		if _, err := router.TrainWith(b, store, ex, ex, nil, rs); err != nil {
			return nil, err
		}
		parent := t.TempDir()
		if err := (&router.GraphModel{Store: store, Backend: b}).Save(parent); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(parent, router.WeightsDir)
		files := map[string][]byte{}
		for _, ext := range []string{".json", ".bin"} {
			found, _ := filepath.Glob(filepath.Join(dir, "*"+ext))
			if len(found) != 1 {
				t.Fatalf("%d %s files in %s", len(found), ext, dir)
			}
			if files[ext], err = os.ReadFile(found[0]); err != nil {
				t.Fatal(err)
			}
		}
		return files, nil
	}
	want, err := run(router.Resume{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run(router.Resume{Dir: state, StopAfter: 20}); err != router.ErrStopped {
		t.Fatalf("stopped run: %v", err)
	}
	got, err := run(router.Resume{Dir: state})
	if err != nil {
		t.Fatal(err)
	}
	for ext := range want {
		if !bytes.Equal(want[ext], got[ext]) {
			i := 0
			for i < min(len(want[ext]), len(got[ext])) && want[ext][i] == got[ext][i] {
				i++
			}
			t.Errorf("weights %s file: the resumed run's bytes differ from the uninterrupted run's from byte %d on (%d and %d bytes)", ext, i, len(got[ext]), len(want[ext]))
		}
	}
}
