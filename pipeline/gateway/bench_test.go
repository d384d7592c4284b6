package gateway

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The gateway's throughput and added latency against fake upstreams on
// loopback that answer at once (`just bench` does not run these; see
// benchmarks/gateway.md):
//
//	go test ./pipeline/gateway -run '^$' -bench . -benchtime 20000x

const benchAnswer = `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"4"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}`

// benchSetup starts two fake upstreams and a gateway over a saved kNN
// router (hashed encoder: real encoding and routing, a small model).
func benchSetup(b *testing.B) (gw, direct string) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, benchAnswer)
	}))
	b.Cleanup(up.Close)
	r := savedKNN(b)
	y := fmt.Sprintf("llms:\n  m: {base_url: %q, cost_per_1k_tokens: 0.002}\n  c: {base_url: %q, cost_per_1k_tokens: 0.001}\n", up.URL+"/v1", up.URL+"/v1")
	cfg, err := ParseConfig("bench.yaml", []byte(y), r.Meta.LLMs, nil)
	if err != nil {
		b.Fatal(err)
	}
	g, err := New(Options{Config: cfg, Router: FromDir(r), Log: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(g)
	b.Cleanup(func() { srv.Close(); g.Close() })
	return srv.URL, up.URL + "/v1"
}

var benchBodies = func() []string {
	var out []string
	for i := range 64 {
		q := fmt.Sprintf("solve the equation %d x + 3 = 7", i)
		if i%2 == 1 {
			q = fmt.Sprintf("write a python function that returns %d", i)
		}
		out = append(out, fmt.Sprintf(`{"model":"router:0.1","messages":[{"role":"system","content":"be brief"},{"role":"user","content":%q}]}`, q))
	}
	return out
}()

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxIdleConns: 512, DisableCompression: true}}
}

// load sends n requests from `clients` goroutines to url and returns each
// request's latency.
func load(b *testing.B, c *http.Client, url string, clients, n int) []time.Duration {
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	var failed sync.Once
	for k := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k; i < n; i += clients {
				t0 := time.Now()
				resp, err := c.Post(url, "application/json", strings.NewReader(benchBodies[i%len(benchBodies)]))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				lat[i] = time.Since(t0)
				if err != nil || resp.StatusCode != 200 {
					failed.Do(func() { b.Errorf("request %d: %v", i, err) })
				}
			}
		}()
	}
	wg.Wait()
	return lat
}

func pct(lat []time.Duration, p float64) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// BenchmarkGatewayThroughput: requests/s through the gateway at 1, 16 and
// 128 concurrent clients (keep-alive connections, as an SDK keeps them).
func BenchmarkGatewayThroughput(b *testing.B) {
	gw, _ := benchSetup(b)
	for _, clients := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			c := benchClient()
			defer c.CloseIdleConnections()
			load(b, c, gw+"/v1/chat/completions", clients, 2*clients) // warm the connections
			b.ResetTimer()
			t0 := time.Now()
			load(b, c, gw+"/v1/chat/completions", clients, b.N)
			b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "req/s")
		})
	}
}

// BenchmarkGatewayAddedLatency: at 16 clients, each request's latency
// through the gateway against the same request sent to the upstream
// directly; the difference of the percentiles is what the gateway adds.
func BenchmarkGatewayAddedLatency(b *testing.B) {
	gw, direct := benchSetup(b)
	const clients = 16
	c := benchClient()
	defer c.CloseIdleConnections()
	load(b, c, direct+"/chat/completions", clients, 2*clients)
	load(b, c, gw+"/v1/chat/completions", clients, 2*clients)
	b.ResetTimer()
	d := load(b, c, direct+"/chat/completions", clients, b.N)
	g := load(b, c, gw+"/v1/chat/completions", clients, b.N)
	b.StopTimer()
	ms := func(x time.Duration) float64 { return float64(x) / 1e6 }
	b.ReportMetric(ms(pct(d, 0.5)), "direct-p50-ms")
	b.ReportMetric(ms(pct(d, 0.99)), "direct-p99-ms")
	b.ReportMetric(ms(pct(g, 0.5)), "gateway-p50-ms")
	b.ReportMetric(ms(pct(g, 0.99)), "gateway-p99-ms")
	b.ReportMetric(ms(pct(g, 0.5)-pct(d, 0.5)), "added-p50-ms")
	b.ReportMetric(ms(pct(g, 0.99)-pct(d, 0.99)), "added-p99-ms")
}

// BenchmarkGatewayMemory: 100,000 requests at 16 clients (whatever b.N);
// the live heap and goroutines after the first 10,000 and after all of
// them, each after a GC. Flat means the second is not above the first by
// more than noise.
func BenchmarkGatewayMemory(b *testing.B) {
	gw, _ := benchSetup(b)
	c := benchClient()
	defer c.CloseIdleConnections()
	heap := func() (float64, int) {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc) / (1 << 20), runtime.NumGoroutine()
	}
	for range b.N {
		load(b, c, gw+"/v1/chat/completions", 16, 10_000)
		h1, g1 := heap()
		load(b, c, gw+"/v1/chat/completions", 16, 90_000)
		h2, g2 := heap()
		b.ReportMetric(h1, "heap-MiB-at-10k")
		b.ReportMetric(h2, "heap-MiB-at-100k")
		b.ReportMetric(float64(g1), "goroutines-at-10k")
		b.ReportMetric(float64(g2), "goroutines-at-100k")
	}
}
