package evaluate

import (
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/hostrouters"
)

// recorder scores each text by a hash of it and records the batch sizes.
type recorder struct {
	batches []int
	texts   []string
}

func (r *recorder) Scores(texts []string) ([][]float64, error) {
	r.batches = append(r.batches, len(texts))
	r.texts = append(r.texts, texts...)
	out := make([][]float64, len(texts))
	for i, s := range texts {
		h := fnv.New64a()
		h.Write([]byte(s))
		v := h.Sum64()
		out[i] = []float64{float64(v % 7), float64(v / 7 % 7), float64(v / 49 % 7)}
	}
	return out, nil
}

func bigDataset(n int) *data.Dataset {
	ds := &data.Dataset{Path: "big.json", LLMs: []string{"a", "b", "c"}}
	for i := range n {
		ds.Queries = append(ds.Queries, data.Query{
			Question: fmt.Sprintf("question %d about %s", i, []string{"algebra", "python code", "history", "chemistry"}[i%4]),
			Scores:   []float64{float64(i%3) / 2, float64(i%5) / 4, float64(i%2) * 0.7},
		})
	}
	return ds
}

// Dataset scores a big file in bounded batches (a 200 MB file used to be
// encoded in one call: one allocation of several GB for the features),
// in file order, with the result of scoring everything at once.
func TestDatasetScoresInBatches(t *testing.T) {
	ds := bigDataset(2*scoreBatch + 300)
	rec := &recorder{}
	res, err := Dataset(rec, ds, data.MultiAttempt)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{scoreBatch, scoreBatch, 300}; !slices.Equal(rec.batches, want) {
		t.Errorf("batch sizes %v, want %v", rec.batches, want)
	}
	for i, q := range ds.Queries {
		if rec.texts[i] != q.Question {
			t.Fatalf("text %d scored is %q, want %q (file order)", i, rec.texts[i], q.Question)
		}
	}
	all, _ := (&recorder{}).Scores(rec.texts)
	picks := make([]int, len(all))
	for i, row := range all {
		for t := range row {
			if row[t] > row[picks[i]] {
				picks[i] = t
			}
		}
	}
	if !slices.Equal(res.Picks, picks) || res.N != len(ds.Queries) || res.Accuracy != Accuracy(ds, data.MultiAttempt, picks) {
		t.Errorf("batched result differs from scoring everything at once")
	}
}

// hostScorer is what routerdir.Router does for a host router: encode, then score.
type hostScorer struct {
	enc *encode.Hashed
	r   hostrouters.Router
}

func (h hostScorer) Scores(texts []string) ([][]float64, error) {
	x, err := h.enc.Encode(texts)
	if err != nil {
		return nil, err
	}
	return h.r.Scores(x), nil
}

// With a real encoder and router the batched evaluation is identical,
// credit for credit, to scoring the whole file in one call.
func TestDatasetBatchedIsIdentical(t *testing.T) {
	ds := bigDataset(scoreBatch + 517)
	texts := make([]string, len(ds.Queries))
	scores := make([][]float64, len(ds.Queries))
	task := make([]int, len(ds.Queries))
	for i, q := range ds.Queries {
		texts[i], scores[i], task[i] = q.Question, q.Scores, i%4
	}
	enc := encode.NewHashed(encode.HashedConfig{Bits: 10})
	enc.Fit(texts)
	x, err := enc.Encode(texts)
	if err != nil {
		t.Fatal(err)
	}
	knn := hostrouters.NewKNN(7)
	if err := knn.Fit(x, scores, task); err != nil {
		t.Fatal(err)
	}
	s := hostScorer{enc, knn}
	res, err := Dataset(s, ds, data.MultiAttempt)
	if err != nil {
		t.Fatal(err)
	}
	once := hostrouters.Route(knn.Scores(x))
	if !slices.Equal(res.Picks, once) {
		t.Fatal("batched picks differ from one call over the whole file")
	}
	if want := Credits(ds, data.MultiAttempt, once); !slices.Equal(res.Credits, want) {
		t.Error("batched credits differ from one call over the whole file")
	}
}

type badScorer struct{ rows int }

func (b badScorer) Scores(texts []string) ([][]float64, error) {
	if b.rows < 0 {
		return nil, errors.New("encoder broke")
	}
	return make([][]float64, b.rows), nil
}

func TestDatasetScorerErrors(t *testing.T) {
	ds := bigDataset(10)
	if _, err := Dataset(badScorer{-1}, ds, data.Probability); err == nil || !strings.Contains(err.Error(), "big.json") ||
		!strings.Contains(err.Error(), "encoder broke") {
		t.Errorf("scorer error: %v, want it with the file name", err)
	}
	if _, err := Dataset(badScorer{3}, ds, data.Probability); err == nil || !strings.Contains(err.Error(), "3 rows for 10") {
		t.Errorf("short scores: %v, want an error, not a panic or a silent short result", err)
	}
}
