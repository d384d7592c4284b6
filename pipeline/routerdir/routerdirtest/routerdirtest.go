// Package routerdirtest makes small router directories for tests that need
// a trained router but not the released data. Import it only from _test.go
// files (it imports testing).
package routerdirtest

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/hostrouters"
	"github.com/routerdc-go/routerdc/pipeline/routerdir"
)

// ToyKNN saves a kNN router over two LLMs under a temporary directory and
// returns the directory: equations go to LLM "m", Python functions to "c".
func ToyKNN(t testing.TB) string {
	t.Helper()
	var texts []string
	var scores [][]float64
	var task []int
	for i := range 60 {
		if i%2 == 0 {
			texts = append(texts, fmt.Sprintf("solve the equation %d x + 3 = 7", i))
			scores = append(scores, []float64{0.9, 0.1})
		} else {
			texts = append(texts, fmt.Sprintf("write a python function number %d", i))
			scores = append(scores, []float64{0.1, 0.9})
		}
		task = append(task, i%2)
	}
	return SaveKNN(t, []string{"m", "c"}, texts, scores, task)
}

// SaveKNN fits a 3-nearest-neighbour router over llms on the texts (a
// hashed encoder with 2^10 buckets fitted on them; scores and task per
// text), saves it under a temporary directory and returns the directory.
func SaveKNN(t testing.TB, llms, texts []string, scores [][]float64, task []int) string {
	t.Helper()
	enc := encode.NewHashed(encode.HashedConfig{Bits: 10})
	enc.Fit(texts)
	x, err := enc.Encode(texts)
	if err != nil {
		t.Fatal(err)
	}
	knn := hostrouters.NewKNN(3)
	if err := knn.Fit(x, scores, task); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "knn")
	r := routerdir.NewHostRouter(routerdir.Meta{Kind: "knn", LLMs: llms, Encoder: enc.Name()}, enc, knn)
	if err := r.Save(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}
