package router

import (
	"slices"
	"testing"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/routerdc-go/routerdc/pipeline/backend"
)

// TestPredictorCacheIsBounded: predicting with many routers (an ablation
// run trains hundreds) keeps the compiled graphs and stores of only the
// last few; an evicted router still predicts the same logits.
func TestPredictorCacheIsBounded(t *testing.T) {
	b := backend.MustNew()
	ex := synthetic(8, 16, 5, 9)
	var stores []*model.Store
	var first [][]float32
	for i := range 3 * maxPredictors {
		store := NewStore(int64(i + 1))
		if err := ApplySettings(store, []string{"dim=8"}); err != nil {
			t.Fatal(err)
		}
		logits, err := Predict(b, store, ex.X, 5)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = logits
		}
		stores = append(stores, store)
		t.Cleanup(func() { Forget(store) })
	}
	predictorsMu.Lock()
	kept := make([]*model.Store, len(predictors))
	for i, p := range predictors {
		kept[i] = p.store
	}
	predictorsMu.Unlock()
	if want := stores[len(stores)-maxPredictors:]; !slices.Equal(kept, want) {
		t.Errorf("%d predictors kept after %d routers; want the last %d", len(kept), len(stores), maxPredictors)
	}
	again, err := Predict(b, stores[0], ex.X, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i := range first {
		if !slices.Equal(first[i], again[i]) {
			t.Fatalf("evicted router's logits changed: row %d %v, was %v", i, again[i], first[i])
		}
	}
}

// TestEvictedPredictorStillWorks: a predictor evicted while a caller holds
// it rebuilds its graph instead of running a freed one.
func TestEvictedPredictorStillWorks(t *testing.T) {
	b := backend.MustNew()
	ex := synthetic(8, 16, 5, 10)
	store := NewStore(1)
	if err := ApplySettings(store, []string{"dim=8"}); err != nil {
		t.Fatal(err)
	}
	p, err := PredictorFor(b, store, 5)
	if err != nil {
		t.Fatal(err)
	}
	want, err := p.Logits(ex.X)
	if err != nil {
		t.Fatal(err)
	}
	Forget(store)
	got, err := p.Logits(ex.X)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if !slices.Equal(want[i], got[i]) {
			t.Fatalf("row %d: %v after eviction, %v before", i, got[i], want[i])
		}
	}
}
