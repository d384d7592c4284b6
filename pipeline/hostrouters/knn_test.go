package hostrouters

import (
	"path/filepath"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// TestKNNKind: the kNN router is found by its name alone: its setting
// with its default, fitting from the settings, and loading what it saved.
func TestKNNKind(t *testing.T) {
	k, err := routers.Lookup("knn")
	if err != nil {
		t.Fatal(err)
	}
	if d := routers.Defaults()[SettingKNN]; d != 20 {
		t.Errorf("knn_k default %v, want 20", d)
	}
	x := [][]float32{{1, 0}, {0.9, 0.1}, {0, 1}, {0.1, 0.9}}
	scores := [][]float64{{1, 0}, {1, 0}, {0, 1}, {0, 1}}
	m, err := k.Fit(routers.FitInput{Values: routers.Values{SettingKNN: 2}, Train: &routers.Examples{X: x}, Targets: scores})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := m.Scores(x)
	if got := Route(before); got[0] != 0 || got[2] != 1 {
		t.Errorf("routes %v", got)
	}
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := k.Load(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r := loaded.(hostModel).Router.(*KNN); r.K != 2 {
		t.Errorf("loaded K = %d, want 2", r.K)
	}
	after, _ := loaded.Scores(x)
	for i := range before {
		for j := range before[i] {
			if before[i][j] != after[i][j] {
				t.Fatalf("score [%d][%d]: %v before save, %v after load", i, j, before[i][j], after[i][j])
			}
		}
	}
	if _, err := LoadKNN(filepath.Join(dir, File)); err != nil {
		t.Errorf("the file is not a knn file: %v", err)
	}
}
