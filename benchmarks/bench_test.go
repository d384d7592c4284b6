// Package benchmarks measures the timing targets: training 1000 steps
// at batch 64 (with feature extraction), batched routing throughput and
// single-query latency; and the scoring stage's import and execution speed.
// Run with `just bench`; results go to report.md.
package benchmarks

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/router"
	"github.com/routerdc-go/routerdc/pipeline/routerdir"
	"github.com/routerdc-go/routerdc/pipeline/train"
)

var (
	trainedOnce sync.Once
	trained     *routerdir.Router
	trainedErr  error
)

// trainedRouter trains (once) the default RouterDC used by the routing
// benchmarks.
func trainedRouter(b *testing.B) *routerdir.Router {
	col := datatest.RequireBuiltin(b)
	trainedOnce.Do(func() {
		trained, trainedErr = train.Run(col, paperStore(1), nil)
	})
	if trainedErr != nil {
		b.Fatal(trainedErr)
	}
	return trained
}

func testQueries(b *testing.B) []string {
	ds, err := data.Load(filepath.Join(datatest.RequireDir(b), "split2_model7", "mmlu_test.json"))
	if err != nil {
		b.Fatal(err)
	}
	q := make([]string, len(ds.Queries))
	for i, x := range ds.Queries {
		q[i] = x.Question
	}
	return q
}

// paperStore is the default RouterDC with the released clusters as groups:
// our grouping stage (t-SNE) is a separate, cached stage, timed by
// BenchmarkGroupingStage.
func paperStore(seed int64) *model.Store {
	store := router.NewStore(seed)
	store.SetParam(router.ParamGroup, "cluster")
	return store
}

// BenchmarkTrainRouterDC: the `routerdc train` path (1000 steps, batch 64):
// data, encoder fit, features, training. train_s is the 1000 steps alone
// (with their 20 checkpoint evaluations on the 5000 training queries).
// Target: train_s <= 3 s on 2 cores.
func BenchmarkTrainRouterDC(b *testing.B) {
	col := datatest.RequireBuiltin(b)
	for i := 0; i < b.N; i++ {
		start, cpu := time.Now(), cpuSeconds()
		r, err := train.Run(col, paperStore(int64(i+1)), nil)
		if err != nil {
			b.Fatal(err)
		}
		rep := r.Meta.Training.(*train.Report)
		b.ReportMetric(time.Since(start).Seconds(), "wall_s")
		b.ReportMetric(cpuSeconds()-cpu, "cpu_s")
		b.ReportMetric(rep.Train.StepsPerS, "steps/s")
		b.ReportMetric(rep.Train.Seconds, "train_s")
		b.ReportMetric(rep.Timing.EncodeS, "encode_s")
	}
}

// BenchmarkGroupingStage: t-SNE of the 5000 training queries to 5
// dimensions plus k-means (computed once per seed and cached).
func BenchmarkGroupingStage(b *testing.B) {
	col := datatest.RequireBuiltin(b)
	p := router.ReadParams(router.NewStore(1))
	set, err := train.Prepare(col, p.SamplesPerTask, 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	enc, err := train.FitEncoder(set, p.Values)
	if err != nil {
		b.Fatal(err)
	}
	ex, err := train.Examples(enc, set.Train)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start, cpu := time.Now(), cpuSeconds()
		if _, err := train.OurGroups(ex.X, p, nil); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "wall_s")
		b.ReportMetric(cpuSeconds()-cpu, "cpu_s")
	}
}

// BenchmarkRouteBatched: MMLU's 4213 test queries routed in one call
// (encode + router). Target: >= 5000 queries/s.
func BenchmarkRouteBatched(b *testing.B) {
	r := trainedRouter(b)
	q := testQueries(b)
	if _, err := r.Route(q); err != nil { // compile the graph outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := r.Route(q); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(q)*b.N)/time.Since(start).Seconds(), "queries/s")
}

// BenchmarkRouteSingle: one query at a time. Target: p50 <= 1 ms.
func BenchmarkRouteSingle(b *testing.B) {
	r := trainedRouter(b)
	q := testQueries(b)[:500]
	if _, err := r.Route(q[:1]); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var lat []time.Duration
	for i := 0; i < b.N; i++ {
		for _, one := range q {
			t := time.Now()
			if _, err := r.Route([]string{one}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
}

// BenchmarkHashedEncode: the default hashed n-gram encoder (fitted on the
// training queries) over every released query, in batches of 1024 as
// `routerdc eval` encodes. No target; it was a log line in a test before.
func BenchmarkHashedEncode(b *testing.B) {
	dir := datatest.RequireDir(b)
	var train, all []string
	for _, f := range data.Files() {
		ds, err := data.Load(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			b.Fatal(err)
		}
		if strings.HasPrefix(f.Path, "split2_model7_cluster/") {
			continue // the same questions as split2_model7's training files
		}
		for _, q := range ds.Queries {
			all = append(all, q.Question)
			if strings.HasSuffix(f.Path, "train.json") {
				train = append(train, q.Question)
			}
		}
	}
	enc := encode.NewHashed(encode.HashedConfig{})
	start := time.Now()
	enc.Fit(train)
	b.ReportMetric(float64(len(train))/time.Since(start).Seconds(), "fit_queries/s")
	b.ResetTimer()
	start = time.Now()
	for i := 0; i < b.N; i++ {
		for lo := 0; lo < len(all); lo += 1024 {
			if _, err := enc.Encode(all[lo:min(lo+1024, len(all))]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(all)*b.N)/time.Since(start).Seconds(), "queries/s")
}

func TestMain(m *testing.M) {
	os.Setenv("ROUTERDC_QUIET", "1")
	os.Exit(m.Run())
}
