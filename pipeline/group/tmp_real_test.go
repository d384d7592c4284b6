package group_test

import (
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/group"
	"github.com/routerdc-go/routerdc/pipeline/train"
)

func TestTmpReal(t *testing.T) {
	dir, _, _ := data.TestDir()
	set, _ := train.Prepare(dir, data.Tasks, 1000, 0, 1)
	qs := train.Questions(set.Train)
	enc := encode.NewHashed(encode.HashedConfig{Bits: 12})
	enc.Fit(qs)
	x, _ := enc.Encode(qs)
	rel, task := make([]int, len(x)), make([]int, len(x))
	for i, r := range set.Train {
		rel[i], task[i] = r.Cluster, r.Task
	}
	t.Logf("released vs tasks ARI %.3f NMI %.3f", group.ARI(rel, task), group.NMI(rel, task))
	var st time.Time
	for _, seed := range []int64{2, 3} {
		st = time.Now()
		a, _, err := group.Groups(x, 5, group.TSNEConfig{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d (%v): vs released ARI %.3f NMI %.3f; vs tasks ARI %.3f NMI %.3f", seed, time.Since(st), group.ARI(a, rel), group.NMI(a, rel), group.ARI(a, task), group.NMI(a, task))
	}
	for _, seed := range []int64{2, 3} {
		a, _, _ := group.KMeans(x, 5, seed, 0)
		t.Logf("kmeans seed %d: vs released ARI %.3f NMI %.3f; vs tasks ARI %.3f NMI %.3f", seed, group.ARI(a, rel), group.NMI(a, rel), group.ARI(a, task), group.NMI(a, task))
	}
}
