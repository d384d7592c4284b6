package stages

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
)

// TestGroupStage: group=ours runs t-SNE once per seed and k-means per N,
// and a resumable training state is left only while training runs.
func TestGroupStage(t *testing.T) {
	c, err := cache.Open(t.TempDir(), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	base := "router=routerdc;group=ours;samples_per_task=80;steps=20;eval_every=10"
	methods := []Method{
		{Name: "N=3", Kind: "sweep", Settings: []string{base + ";clusters=3"}},
		{Name: "N=5", Kind: "sweep", Settings: []string{base + ";clusters=5"}},
	}
	outs, stats, err := Outcomes(Options{Data: datatest.RequireBuiltin(t), Seeds: []int64{1}, Methods: methods, Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	if stats["group"].Ran != 2 || stats["train"].Ran != 2 || outs["N=3"][0] == nil {
		t.Errorf("stages: group %+v train %+v", stats["group"], stats["train"])
	}
	tsne, _ := filepath.Glob(filepath.Join(c.Dir, "tsne", "*", "*", "tsne.json"))
	if len(tsne) != 1 {
		t.Errorf("%d t-SNE entries, want 1 shared by both N", len(tsne))
	}
	partial, _ := filepath.Glob(filepath.Join(c.Dir, "partial", "*"))
	if len(partial) != 0 {
		t.Errorf("resume state left behind after training finished: %v", partial)
	}
}
