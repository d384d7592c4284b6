package stages

import (
	"encoding/json"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// countingKind is an Expensive encoder kind that counts the texts it
// encodes: a stand-in for a neural network.
type countingKind struct{}

var countedTexts atomic.Int64

const countingFormat = "routerdc-test-counting-encoder"

func init() { encode.Register(countingKind{}) }

func (countingKind) Name() string                          { return "test-counting" }
func (countingKind) Format() string                        { return countingFormat }
func (countingKind) Settings() []routers.Setting           { return nil }
func (countingKind) Expensive() bool                       { return true }
func (countingKind) Source(routers.Values) (string, error) { return "", nil }
func (countingKind) New(routers.Values, []string) (encode.Persistent, error) {
	return countingEncoder{}, nil
}
func (countingKind) Load(string) (encode.Persistent, error) { return countingEncoder{}, nil }

type countingEncoder struct{}

func (countingEncoder) Name() string { return "test-counting" }
func (countingEncoder) Dim() int     { return 8 }
func (countingEncoder) Encode(texts []string) ([][]float32, error) {
	countedTexts.Add(int64(len(texts)))
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, 8)
		for j := 0; j < len(t); j++ {
			v[int(t[j])%8]++
		}
		out[i] = v
	}
	return out, nil
}
func (countingEncoder) Save(path string) error {
	data, _ := json.Marshal(map[string]any{"format": countingFormat})
	return os.WriteFile(path, data, 0o644)
}

// An Expensive encoder embeds each distinct query of a run once: a second
// method with other router settings, and the evaluation of both, look the
// vectors up in the embed stage's table.
func TestEmbedStageEmbedsEachQueryOnce(t *testing.T) {
	c, err := cache.Open(t.TempDir(), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	col := datatest.RequireBuiltin(t)
	base := "router=routerdc;encoder=test-counting;group=task;samples_per_task=40;steps=10;eval_every=10;val_fraction=0"
	methods := []Method{
		{Name: "a", Kind: "sweep", Settings: []string{base + ";lambda=1"}},
		{Name: "b", Kind: "sweep", Settings: []string{base + ";lambda=0.5"}},
	}
	countedTexts.Store(0)
	outs, stats, err := Outcomes(Options{Data: col, Seeds: []int64{1}, Methods: methods, Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	if stats["embed"].Ran != 1 || stats["train"].Ran != 2 || outs["b"][0] == nil {
		t.Fatalf("stages: embed %+v train %+v", stats["embed"], stats["train"])
	}
	distinct := map[string]bool{}
	for _, task := range col.Tasks {
		for _, q := range task.Test.Queries {
			distinct[q.Question] = true
		}
		for _, d := range task.Train {
			for _, q := range d.Queries {
				distinct[q.Question] = true
			}
		}
	}
	first := countedTexts.Load()
	if first == 0 || first > int64(len(distinct)) {
		t.Errorf("encoded %d texts for a run with %d distinct queries, want each at most once", first, len(distinct))
	}
	// A warm rerun with a new method trains it from the cached table.
	methods = append(methods, Method{Name: "c", Kind: "sweep", Settings: []string{base + ";lambda=0"}})
	if _, stats, err = Outcomes(Options{Data: col, Seeds: []int64{1}, Methods: methods, Cache: c}); err != nil {
		t.Fatal(err)
	}
	if stats["train"].Ran != 1 || stats["embed"].Ran != 0 {
		t.Errorf("rerun: embed %+v train %+v, want the cached embed stage and one training", stats["embed"], stats["train"])
	}
	if n := countedTexts.Load(); n != first {
		t.Errorf("rerun encoded %d more texts, want 0", n-first)
	}
}
