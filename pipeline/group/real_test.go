package group_test

import (
	"os"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/group"
	"github.com/routerdc-go/routerdc/pipeline/train"
)

// TestGroupsRealData times the paper's grouping of the 5000 training queries
// (hashed features, 12 bits) and logs how the N=5 groups align with the
// released cluster ids and the task ids. Opt-in: it takes about a minute.
func TestGroupsRealData(t *testing.T) {
	if os.Getenv("ROUTERDC_TSNE_REAL") == "" {
		t.Skip("set ROUTERDC_TSNE_REAL=1 to run the 5000-query t-SNE")
	}
	set, err := train.Prepare(datatest.RequireBuiltin(t), 1000, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	qs := train.Questions(set.Train)
	enc := encode.NewHashed(encode.HashedConfig{Bits: 12})
	enc.Fit(qs)
	x, err := enc.Encode(qs)
	if err != nil {
		t.Fatal(err)
	}
	released := make([]int, len(set.Train))
	task := make([]int, len(set.Train))
	for i, r := range set.Train {
		released[i], task[i] = r.Cluster, r.Task
	}
	t.Logf("released clusters vs tasks: ARI %.3f NMI %.3f", group.ARI(released, task), group.NMI(released, task))

	start := time.Now()
	emb, err := group.TSNE(x, group.TSNEConfig{Seed: 1}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	tsneTime := time.Since(start)
	e32 := make([][]float32, len(emb))
	for i, r := range emb {
		e32[i] = make([]float32, len(r))
		for j, v := range r {
			e32[i][j] = float32(v)
		}
	}
	assign, _, err := group.KMeans(e32, 5, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("t-SNE %d x %d -> %d dims: %v", len(x), len(x[0]), len(emb[0]), tsneTime)
	t.Logf("t-SNE+k-means N=5 vs released: ARI %.3f NMI %.3f; vs tasks: ARI %.3f NMI %.3f",
		group.ARI(assign, released), group.NMI(assign, released), group.ARI(assign, task), group.NMI(assign, task))
	t.Logf("contingency (rows: ours, cols: released) %v", group.Contingency(assign, released))
	t.Logf("contingency (rows: ours, cols: tasks) %v", group.Contingency(assign, task))

	start = time.Now()
	km, _, err := group.KMeans(x, 5, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("k-means N=5 on features (%v) vs released: ARI %.3f NMI %.3f; vs tasks: ARI %.3f NMI %.3f",
		time.Since(start), group.ARI(km, released), group.NMI(km, released), group.ARI(km, task), group.NMI(km, task))
	t.Logf("contingency (rows: k-means, cols: tasks) %v", group.Contingency(km, task))
}
