package gateway

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The Prometheus text format (version 0.0.4) is written here by hand: the
// gateway needs counters and fixed-bucket histograms only, and the official
// client library would add a dozen modules to a build that has none of them.

// counterVec is a counter per label set; the label set is rendered once,
// as it appears between the braces.
type counterVec struct {
	name, help string
	mu         sync.Mutex
	vals       map[string]*atomic.Uint64
}

func newCounterVec(name, help string) *counterVec {
	return &counterVec{name: name, help: help, vals: map[string]*atomic.Uint64{}}
}

func (c *counterVec) inc(labels string) {
	c.mu.Lock()
	v := c.vals[labels]
	if v == nil {
		v = new(atomic.Uint64)
		c.vals[labels] = v
	}
	c.mu.Unlock()
	v.Add(1)
}

func (c *counterVec) write(w io.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", c.name, c.help, c.name)
	c.mu.Lock()
	keys := make([]string, 0, len(c.vals))
	for k := range c.vals {
		keys = append(keys, k)
	}
	c.mu.Unlock()
	slices.Sort(keys)
	for _, k := range keys {
		c.mu.Lock()
		v := c.vals[k].Load()
		c.mu.Unlock()
		fmt.Fprintf(w, "%s{%s} %d\n", c.name, k, v)
	}
}

// histogram has fixed upper bounds in seconds; counts are per bucket (not
// cumulative) until written.
type histogram struct {
	bounds []float64
	counts []atomic.Uint64 // len(bounds)+1: the last is +Inf
	sumNs  atomic.Int64
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i, _ := slices.BinarySearch(h.bounds, s)
	h.counts[i].Add(1)
	h.sumNs.Add(int64(d))
}

func (h *histogram) write(w io.Writer, name, labels string) {
	sep := ""
	if labels != "" {
		sep = ","
	}
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i].Load()
		fmt.Fprintf(w, "%s_bucket{%s%sle=\"%s\"} %d\n", name, labels, sep, strconv.FormatFloat(b, 'g', -1, 64), cum)
	}
	cum += h.counts[len(h.bounds)].Load()
	fmt.Fprintf(w, "%s_bucket{%s%sle=\"+Inf\"} %d\n", name, labels, sep, cum)
	braces := ""
	if labels != "" {
		braces = "{" + labels + "}"
	}
	fmt.Fprintf(w, "%s_sum%s %s\n", name, braces, strconv.FormatFloat(float64(h.sumNs.Load())/1e9, 'g', -1, 64))
	fmt.Fprintf(w, "%s_count%s %d\n", name, braces, cum)
}

var (
	latencyBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}
	routingBounds = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1}
)

// metrics are the gateway's counters; per-LLM series exist from the start,
// so a dashboard sees every LLM at zero.
type metrics struct {
	requests  *counterVec // by answering LLM ("" when none did) and status code
	attempts  *counterVec // upstream attempts by LLM and outcome
	fallbacks *counterVec // failed attempts followed by another LLM, by the LLM that failed
	latency   map[string]*histogram
	routing   *histogram
	inFlight  atomic.Int64
}

func newMetrics(llms []string) *metrics {
	m := &metrics{
		requests:  newCounterVec("routerdc_requests_total", "Requests answered, by the LLM that answered (none: the gateway did) and HTTP status."),
		attempts:  newCounterVec("routerdc_upstream_attempts_total", "Upstream attempts by LLM and outcome (ok, status_4xx, status_429, status_5xx, timeout, connection, client_gone)."),
		fallbacks: newCounterVec("routerdc_fallbacks_total", "Failed attempts that sent the request on to another LLM, by the LLM that failed."),
		latency:   map[string]*histogram{},
		routing:   newHistogram(routingBounds),
	}
	for _, l := range llms {
		m.latency[l] = newHistogram(latencyBounds)
	}
	return m
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// label renders key="value" pairs, escaped as the text format wants.
func label(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(kv[i+1]))
		b.WriteByte('"')
	}
	return b.String()
}

func (m *metrics) write(w io.Writer, llms []string, circuit func(string) string) {
	m.requests.write(w)
	m.attempts.write(w)
	m.fallbacks.write(w)
	const lat = "routerdc_request_duration_seconds"
	fmt.Fprintf(w, "# HELP %s Time from a request's arrival to the end of its answer, by the LLM that answered.\n# TYPE %s histogram\n", lat, lat)
	for _, l := range llms {
		m.latency[l].write(w, lat, label("llm", l))
	}
	const rt = "routerdc_routing_duration_seconds"
	fmt.Fprintf(w, "# HELP %s Time to route a request's text (encoder and router, batched).\n# TYPE %s histogram\n", rt, rt)
	m.routing.write(w, rt, "")
	fmt.Fprintf(w, "# HELP routerdc_requests_in_flight Requests being answered.\n# TYPE routerdc_requests_in_flight gauge\nrouterdc_requests_in_flight %d\n", m.inFlight.Load())
	fmt.Fprintf(w, "# HELP routerdc_circuit_open Whether an LLM's circuit breaker skips it (1) or not (0; half-open counts as 0).\n# TYPE routerdc_circuit_open gauge\n")
	for _, l := range llms {
		v := 0
		if circuit(l) == stateOpen {
			v = 1
		}
		fmt.Fprintf(w, "routerdc_circuit_open{%s} %d\n", label("llm", l), v)
	}
}

// millis is d in milliseconds, to 2 decimals, for the log.
func millis(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }
