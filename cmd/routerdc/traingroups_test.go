package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
	"github.com/routerdc-go/routerdc/pipeline/engine"
)

// A small training set keeps the t-SNE of these tests short.
const smallTrain = "samples_per_task=40;steps=20;eval_every=10"

// TestTrainGroupsCached: the grouping of `routerdc train` (group=ours) is
// the pipeline's cached stage: a second call with the same data, seed and
// settings loads it without running the t-SNE, and gives the same groups
// as a call without a cache.
func TestTrainGroupsCached(t *testing.T) {
	col := datatest.RequireBuiltin(t)
	dir := t.TempDir()
	sets := []string{smallTrain}
	var log bytes.Buffer
	first, st1, err := trainGroups(col, 2, sets, dir, &log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := st1[engine.StageTSNE]; s == nil || s.Ran != 1 {
		t.Fatalf("first call: tsne stage %+v, want it run once", s)
	}
	second, st2, err := trainGroups(col, 2, sets, dir, &log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := st2[engine.StageTSNE]; s != nil && s.Ran > 0 {
		t.Errorf("second call ran the t-SNE again (%+v)", s)
	}
	if s := st2[engine.StageGroup]; s == nil || s.Cached != 1 {
		t.Errorf("second call: group stage %+v, want it from the cache", s)
	}
	uncached, st3, err := trainGroups(col, 2, sets, "", io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := st3[engine.StageTSNE]; s == nil || s.Ran != 1 {
		t.Errorf("without a cache: tsne stage %+v, want it run", s)
	}
	if len(first) != 200 || !slices.Equal(first, second) || !slices.Equal(first, uncached) {
		t.Errorf("groups differ: %d computed, %d cached, %d uncached", len(first), len(second), len(uncached))
	}
	if got := strings.Count(log.String(), "t-SNE + k-means"); got != 1 {
		t.Errorf("computing the grouping said %d times, want once:\n%s", got, log.String())
	}
	// Settings that need no groups run no stage.
	g, st, err := trainGroups(col, 2, []string{smallTrain, "group=cluster"}, dir, io.Discard, nil)
	if err != nil || g != nil || st != nil {
		t.Errorf("group=cluster: groups %v, stats %v, err %v; want none", g, st, err)
	}
}

// TestTrainTwiceSameRouter: two `routerdc train` runs with the same seed,
// the second one reading the first one's cached grouping, and one without
// a cache write the same router.
func TestTrainTwiceSameRouter(t *testing.T) {
	dir := datatest.RequireDir(t)
	bin := binary(t)
	cacheDir := filepath.Join(t.TempDir(), "cache")
	var outs []string
	for i, extra := range [][]string{{"--cache", cacheDir}, {"--cache", cacheDir}, {"--no-cache"}} {
		out := filepath.Join(t.TempDir(), "r")
		args := append([]string{"train", "--data", dir, "--out", out, "--seed", "4", "--set", smallTrain}, extra...)
		_, stderr, err := run(t, bin, "", args...)
		if err != nil {
			t.Fatalf("train %d: %v\n%s", i+1, err, stderr)
		}
		if cached := strings.Contains(stderr, "from the cache"); cached != (i == 1) {
			t.Errorf("train %d %v: said %q", i+1, extra, stderr)
		}
		outs = append(outs, out)
	}
	weights := func(out string) []byte {
		files, err := filepath.Glob(filepath.Join(out, "weights", "*.bin"))
		if err != nil || len(files) != 1 {
			t.Fatalf("%s: weights %v, %v", out, files, err)
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want := weights(outs[0])
	for _, out := range outs[1:] {
		if !bytes.Equal(weights(out), want) {
			t.Errorf("%s: weights differ from %s", out, outs[0])
		}
	}
}
