package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestForwardsWithUpstreamModelAndHeaders(t *testing.T) {
	a, b := newUpstream(t, "a"), newUpstream(t, "b")
	_, srv, log := setup(t, fixed("a", "b"), "", a, b)
	resp := chat(t, srv.URL, "router", "hello there")
	if p := resp.Header.Get(HeaderProbability); p != "0.500000" {
		t.Errorf("%s = %q, want the router's 0.500000", HeaderProbability, p)
	}
	llm, content := answer(t, resp)
	if llm != "a" || content != "a|hello there" {
		t.Errorf("answered by %q with %q, want a with a|hello there", llm, content)
	}
	if a.models[0] != "a-served" {
		t.Errorf("upstream got model %q, want the file's a-served", a.models[0])
	}
	// A mapped name passes through unrouted.
	resp = chat(t, srv.URL, "b", "hi")
	if llm, _ := answer(t, resp); llm != "b" || resp.Header.Get(HeaderProbability) != "" {
		t.Errorf("model b answered by %q (probability %q)", llm, resp.Header.Get(HeaderProbability))
	}
	// Completions route on the prompt.
	resp = post(t, srv.URL+"/v1/completions", `{"model":"router","prompt":"2+2="}`)
	if llm, content := answer(t, resp); llm != "a" || content != "a|2+2=" {
		t.Errorf("completions: %q %q", llm, content)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d log lines for 3 requests:\n%s", len(lines), log)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"llm": "a", "chosen": "a", "probability": 0.5, "w": 0.0, "attempts": 1.0, "status": 200.0,
		"upstream_status": 200.0, "total_tokens": 5.0} {
		if rec[k] != want {
			t.Errorf("log %s = %v, want %v (line %s)", k, rec[k], want, lines[0])
		}
	}
	if _, ok := rec["time"]; !ok {
		t.Errorf("log line has no time: %s", lines[0])
	}
}

func TestRoutedText(t *testing.T) {
	for _, c := range []struct{ path, body, want, err string }{
		{"/chat/completions", `{"messages":[{"role":"user","content":"first"},{"role":"assistant","content":"x"},{"role":"user","content":"last"}]}`, "last", ""},
		{"/chat/completions", `{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"b"}]}]}`, "a\nb", ""},
		{"/chat/completions", `{"messages":[{"role":"system","content":"s"}]}`, "", "no message with role"},
		{"/chat/completions", `{"messages":[]}`, "", "non-empty"},
		{"/chat/completions", `{}`, "", `"messages" is required`},
		{"/completions", `{"prompt":["p1","p2"]}`, "p1\np2", ""},
		{"/completions", `{"prompt":3}`, "", "string"},
		{"/completions", `{}`, "", `"prompt" is required`},
	} {
		var req map[string]json.RawMessage
		json.Unmarshal([]byte(c.body), &req)
		got, err := routedText(c.path, req)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want one with %q", c.body, err, c.err)
			}
		} else if err != nil || got != c.want {
			t.Errorf("%s: %q, %v, want %q", c.body, got, err, c.want)
		}
	}
}

// skewed gives "cheap" (the last LLM) a probability that grows with the
// number in the text, so a growing W moves more texts to it.
func skewed(llms ...string) fakeRouter {
	return fakeRouter{llms: llms, f: func(text string) []float64 {
		var k float64
		fmt.Sscanf(text, "q%g", &k)
		p := make([]float64, len(llms))
		p[len(p)-1] = k / 100 * 0.9
		for i := range len(p) - 1 {
			p[i] = (1 - p[len(p)-1]) / float64(len(p)-1)
		}
		return p
	}}
}

func TestCostAwareMovesToCheaper(t *testing.T) {
	exp, mid, cheap := newUpstream(t, "exp"), newUpstream(t, "mid"), newUpstream(t, "cheap")
	// Costs 3, 2, 1: normalised 1, 2/3, 1/3.
	_, srv, _ := setup(t, skewed("exp", "mid", "cheap"), "", exp, mid, cheap)
	prev := -1
	for _, w := range []string{"0", "0.1", "0.3", "0.6", "2"} {
		n := 0
		for k := range 50 {
			if llm, _ := answer(t, chat(t, srv.URL, "router:"+w, fmt.Sprintf("q%d", 2*k))); llm == "cheap" {
				n++
			}
		}
		if n < prev {
			t.Errorf("router:%s sends %d of 50 to the cheapest LLM, fewer than a smaller W (%d)", w, n, prev)
		}
		if w == "2" && n != 50 {
			t.Errorf("router:2 sends %d of 50 to the cheapest LLM, want all (its cost gap outweighs any probability)", n)
		}
		prev = n
	}
	if prev == 0 {
		t.Error("no W moved traffic to the cheapest LLM")
	}
	resp := chat(t, srv.URL, "router:-1", "q1")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("router:-1: status %d, want 400", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestStreamingArrivesInPieces(t *testing.T) {
	a := newUpstream(t, "a")
	release := make(chan struct{})
	a.handle = func(w http.ResponseWriter, r *http.Request, body map[string]any) bool {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n")
		w.(http.Flusher).Flush()
		<-release // the second piece waits for the client to have read the first
		io.WriteString(w, "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\ndata: [DONE]\n\n")
		return true
	}
	_, srv, log := setup(t, fixed("a"), "", a)
	resp := post(t, srv.URL+"/v1/chat/completions", `{"model":"router","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	defer resp.Body.Close()
	if resp.Header.Get(HeaderLLM) != "a" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("headers %v", resp.Header)
	}
	rd := bufio.NewReader(resp.Body)
	type piece struct {
		s   string
		err error
	}
	firstc := make(chan piece, 1)
	go func() {
		s, err := rd.ReadString('\n')
		firstc <- piece{s, err}
	}()
	var first piece
	select {
	case first = <-firstc:
	case <-time.After(10 * time.Second): // a buffering gateway never sends it
		close(release)
		t.Fatal("the first piece did not arrive while the upstream held back the rest")
	}
	if first.err != nil || !strings.Contains(first.s, "Hel") {
		t.Fatalf("first piece %q, %v", first.s, first.err)
	}
	close(release)
	rest, _ := io.ReadAll(rd)
	if !strings.Contains(string(rest), `"lo"`) || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Errorf("rest of the stream %q", rest)
	}
	resp.Body.Close()
	srv.Close() // waits for the handler, so its log line is written
	if !strings.Contains(log.String(), `"total_tokens":3`) {
		t.Errorf("the stream's usage is not in the log: %s", log)
	}
}

func TestFallback(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	stuck := make(chan struct{})
	defer close(stuck)
	for _, c := range []struct {
		name, outcome string
		fail          func(*upstream)
	}{
		{"dead", "connection", func(u *upstream) { u.srv.URL = deadURL }},
		{"500", "status_5xx", func(u *upstream) {
			u.handle = func(w http.ResponseWriter, _ *http.Request, _ map[string]any) bool { w.WriteHeader(500); return true }
		}},
		{"429", "status_429", func(u *upstream) {
			u.handle = func(w http.ResponseWriter, _ *http.Request, _ map[string]any) bool { w.WriteHeader(429); return true }
		}},
		{"timeout", "timeout", func(u *upstream) {
			u.handle = func(w http.ResponseWriter, r *http.Request, _ map[string]any) bool {
				select {
				case <-stuck:
				case <-r.Context().Done():
				}
				return true
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := newUpstream(t, "a"), newUpstream(t, "b")
			c.fail(a)
			_, srv, log := setup(t, fixed("a", "b"), "timeout: 100ms", a, b)
			llm, content := answer(t, chat(t, srv.URL, "router", "hi"))
			if llm != "b" || content != "b|hi" {
				t.Errorf("answered by %q (%q), want the fallback b", llm, content)
			}
			if l := log.String(); !strings.Contains(l, `"chosen":"a"`) || !strings.Contains(l, `"llm":"b"`) || !strings.Contains(l, `"attempts":2`) {
				t.Errorf("log does not say chosen a, answered by b after 2 attempts: %s", l)
			}
			m := metricsText(t, srv.URL)
			for _, want := range []string{
				fmt.Sprintf(`routerdc_upstream_attempts_total{llm="a",outcome=%q} 1`, c.outcome),
				`routerdc_fallbacks_total{llm="a"} 1`,
				`routerdc_requests_total{llm="b",code="200"} 1`,
			} {
				if !strings.Contains(m, want) {
					t.Errorf("metrics lack %s:\n%s", want, m)
				}
			}
		})
	}

	// Other 4xx come back as they are; no fallback.
	a, b := newUpstream(t, "a"), newUpstream(t, "b")
	a.handle = func(w http.ResponseWriter, _ *http.Request, _ map[string]any) bool {
		w.WriteHeader(400)
		io.WriteString(w, `{"error":{"message":"context too long"}}`)
		return true
	}
	_, srv, _ := setup(t, fixed("a", "b"), "", a, b)
	resp := chat(t, srv.URL, "router", "hi")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "context too long") || b.count() != 0 {
		t.Errorf("upstream 400: got %d %s, b called %d times; want a's 400 as it is", resp.StatusCode, body, b.count())
	}

	// All fail: one OpenAI-style 502 that names each attempt.
	a.handle = func(w http.ResponseWriter, _ *http.Request, _ map[string]any) bool { w.WriteHeader(503); return true }
	b.handle = a.handle
	resp = chat(t, srv.URL, "router", "hi")
	e := readError(t, resp)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(e.Error.Message, "a: HTTP 503") || !strings.Contains(e.Error.Message, "b: HTTP 503") {
		t.Errorf("all upstreams failing: %d %+v", resp.StatusCode, e)
	}
}

func TestMaxAttempts(t *testing.T) {
	ups := []*upstream{newUpstream(t, "a"), newUpstream(t, "b"), newUpstream(t, "c")}
	for _, u := range ups[:2] {
		u.handle = func(w http.ResponseWriter, _ *http.Request, _ map[string]any) bool { w.WriteHeader(500); return true }
	}
	_, srv, _ := setup(t, fixed("a", "b", "c"), "max_attempts: 2", ups...)
	resp := chat(t, srv.URL, "router", "hi")
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || ups[2].count() != 0 {
		t.Errorf("max_attempts 2: status %d, c called %d times; want 502 without calling c", resp.StatusCode, ups[2].count())
	}
}

func TestCircuitBreaker(t *testing.T) {
	a, b := newUpstream(t, "a"), newUpstream(t, "b")
	var mu sync.Mutex
	aDown := true
	a.handle = func(w http.ResponseWriter, _ *http.Request, _ map[string]any) bool {
		mu.Lock()
		defer mu.Unlock()
		if aDown {
			w.WriteHeader(500)
		}
		return aDown
	}
	clock := &manualClock{t: time.Unix(1e9, 0)}
	_, srv, _ := setupOpts(t, fixed("a", "b"), "breaker_failures: 2\nbreaker_cooldown: 1m", Options{Now: clock.now}, a, b)
	for range 5 {
		if llm, _ := answer(t, chat(t, srv.URL, "router", "hi")); llm != "b" {
			t.Fatalf("answered by %s, want b", llm)
		}
	}
	if a.count() != 2 {
		t.Errorf("a was tried %d times; the circuit should open after 2 failures", a.count())
	}
	if m := metricsText(t, srv.URL); !strings.Contains(m, `routerdc_circuit_open{llm="a"} 1`) {
		t.Errorf("metrics do not show a's circuit open:\n%s", m)
	}
	if h := get(t, srv.URL+"/healthz"); !strings.Contains(h, `"a":"open"`) {
		t.Errorf("healthz %s", h)
	}
	clock.add(61 * time.Second) // cool-down over: one trial, which fails and reopens
	answer(t, chat(t, srv.URL, "router", "hi"))
	answer(t, chat(t, srv.URL, "router", "hi"))
	if a.count() != 3 {
		t.Errorf("after the cool-down a was tried %d times in all, want 3 (one trial)", a.count())
	}
	mu.Lock()
	aDown = false
	mu.Unlock()
	clock.add(61 * time.Second)
	for range 3 {
		if llm, _ := answer(t, chat(t, srv.URL, "router", "hi")); llm != "a" {
			t.Errorf("a recovered, its trial succeeded: answered by %s, want a", llm)
		}
	}
	// Every circuit open and cooling down: a clear 503, no upstream called.
	mu.Lock()
	aDown = true
	mu.Unlock()
	b.handle = a.handle
	for range 2 {
		chat(t, srv.URL, "router", "hi").Body.Close()
	}
	before := a.count() + b.count()
	resp := chat(t, srv.URL, "router", "hi")
	e := readError(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || e.Error.Code != "upstreams_unavailable" || resp.Header.Get("Retry-After") != "60" ||
		a.count()+b.count() != before {
		t.Errorf("all circuits open: %d %+v Retry-After %q, %d upstream calls", resp.StatusCode, e, resp.Header.Get("Retry-After"), a.count()+b.count()-before)
	}
}

func readError(t *testing.T, resp *http.Response) apiError {
	t.Helper()
	defer resp.Body.Close()
	var e apiError
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
		t.Errorf("status %d: body %q is not an OpenAI-style error", resp.StatusCode, b)
	}
	return e
}

func get(t *testing.T, url string, hdr ...string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func metricsText(t *testing.T, url string) string { return get(t, url+"/metrics") }

func TestClientErrors(t *testing.T) {
	a := newUpstream(t, "a")
	_, srv, _ := setupOpts(t, fixed("a"), "max_body_mib: 0.001", Options{APIKeys: []string{"k1", " k2 "}}, a)
	auth := []string{"Authorization", "Bearer k2"}
	for _, c := range []struct {
		name, body string
		hdr        []string
		status     int
		code       string
	}{
		{"no key", `{"model":"router","messages":[{"role":"user","content":"x"}]}`, nil, 401, "invalid_api_key"},
		{"wrong key", `{"model":"router","messages":[{"role":"user","content":"x"}]}`, []string{"Authorization", "Bearer k3"}, 401, "invalid_api_key"},
		{"malformed", `{"model":"router",`, auth, 400, "invalid_json"},
		{"no messages", `{"model":"router"}`, auth, 400, "invalid_request"},
		{"no model", `{"messages":[{"role":"user","content":"x"}]}`, auth, 400, "missing_model"},
		{"bad W", `{"model":"router:x","messages":[{"role":"user","content":"x"}]}`, auth, 400, "invalid_model"},
		{"unknown model", `{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}`, auth, 404, "model_not_found"},
		{"too large", `{"model":"router","messages":[{"role":"user","content":"` + strings.Repeat("x", 2000) + `"}]}`, auth, 413, "request_too_large"},
	} {
		resp := post(t, srv.URL+"/v1/chat/completions", c.body, c.hdr...)
		e := readError(t, resp)
		if resp.StatusCode != c.status || e.Error.Code != c.code {
			t.Errorf("%s: %d %+v, want %d %s", c.name, resp.StatusCode, e, c.status, c.code)
		}
	}
	if a.count() != 0 {
		t.Errorf("bad requests reached the upstream %d times", a.count())
	}
	if llm, _ := answer(t, chat(t, srv.URL, "router", "x", auth...)); llm != "a" {
		t.Errorf("a good key: answered by %q", llm)
	}
	if m := get(t, srv.URL+"/v1/models"); !strings.Contains(m, "invalid_api_key") {
		t.Errorf("/v1/models without a key: %s", m)
	}
	var list struct {
		Data []struct{ ID string } `json:"data"`
	}
	json.Unmarshal([]byte(get(t, srv.URL+"/v1/models", auth...)), &list)
	var ids []string
	for _, d := range list.Data {
		ids = append(ids, d.ID)
	}
	if strings.Join(ids, ",") != "router,router:W,a" {
		t.Errorf("/v1/models lists %v", ids)
	}
}

func TestGracefulShutdown(t *testing.T) {
	a := newUpstream(t, "a")
	arrived, release := make(chan struct{}), make(chan struct{})
	a.handle = func(w http.ResponseWriter, _ *http.Request, _ map[string]any) bool {
		arrived <- struct{}{}
		<-release
		return false // the usual answer
	}
	cfg, _ := ParseConfig("u.yaml", []byte(fmt.Sprintf("llms:\n  a: {base_url: %q}\n", a.srv.URL)), []string{"a"}, nil)
	g, err := New(Options{Config: cfg, Router: fixed("a")})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- g.Serve(ctx, l, 10*time.Second) }()

	got := make(chan string, 2)
	for range 2 {
		go func() {
			resp, err := http.Post(url+"/v1/chat/completions", "application/json",
				strings.NewReader(`{"model":"router","messages":[{"role":"user","content":"in flight"}]}`))
			if err != nil {
				got <- err.Error()
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			got <- fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Header.Get(HeaderLLM), b)
		}()
	}
	<-arrived
	<-arrived
	stop() // as SIGTERM does
	// New connections are refused once the listener is closed.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections 5 s after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) with requests in flight", err)
	default:
	}
	close(release)
	for range 2 {
		if r := <-got; !strings.HasPrefix(r, "200 a ") || !strings.Contains(r, "a|in flight") {
			t.Errorf("in-flight request got %s", r)
		}
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestConcurrentFaults: 2000 requests at once through upstreams that fail
// in turn (500s, dropped connections); every request gets exactly one
// answer, its own, and no upstream answers one request twice.
func TestConcurrentFaults(t *testing.T) {
	const n = 2000
	names := []string{"a", "b", "c"}
	var mu sync.Mutex
	served := map[string]int{} // request id -> successful upstream answers
	calls := 0
	ups := make([]*upstream, len(names))
	for i, name := range names {
		ups[i] = newUpstream(t, name)
		ups[i].handle = func(w http.ResponseWriter, r *http.Request, body map[string]any) bool {
			id := lastUser(body)
			mu.Lock()
			calls++
			k := calls
			mu.Unlock()
			switch {
			case name != "c" && k%3 == 0:
				w.WriteHeader(http.StatusInternalServerError)
				return true
			case name != "c" && k%5 == 0:
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close() // the connection dies without an answer
				}
				return true
			}
			mu.Lock()
			served[id]++
			mu.Unlock()
			return false
		}
	}
	// Each request's text decides its order of LLMs; c, which never
	// fails, is within every request's 3 attempts.
	r := fakeRouter{llms: names, f: func(text string) []float64 {
		h := fnv.New32a()
		h.Write([]byte(text))
		switch h.Sum32() % 3 {
		case 0:
			return []float64{0.5, 0.3, 0.2}
		case 1:
			return []float64{0.3, 0.5, 0.2}
		}
		return []float64{0.2, 0.3, 0.5}
	}}
	_, srv, log := setup(t, r, "breaker_failures: 1000000", ups...)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	errs := make(chan string, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("req-%d", i)
			<-start
			body := fmt.Sprintf(`{"model":"router","messages":[{"role":"user","content":%q}]}`, id)
			resp, err := client.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
			if err != nil {
				errs <- id + ": " + err.Error()
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.Contains(string(b), "|"+id+`"`) {
				errs <- fmt.Sprintf("%s: %d %s", id, resp.StatusCode, b)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	bad := 0
	for e := range errs {
		if bad++; bad <= 5 {
			t.Error(e)
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d requests lost or wrongly answered", bad, n)
	}
	srv.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(served) != n {
		t.Errorf("upstreams answered %d distinct requests, want %d", len(served), n)
	}
	for id, k := range served {
		if k != 1 {
			t.Errorf("%s answered %d times by upstreams", id, k)
		}
	}
	if calls <= n {
		t.Errorf("%d upstream calls for %d requests: the faults did not happen", calls, n)
	}
	if lines := strings.Count(log.String(), `"msg":"request"`); lines != n {
		t.Errorf("%d request log lines, want %d", lines, n)
	}
}

// A stream that cannot start (the upstream answers 500) falls back like any
// request; the client sees only the second LLM's stream.
func TestStreamFallback(t *testing.T) {
	a, b := newUpstream(t, "a"), newUpstream(t, "b")
	a.handle = func(w http.ResponseWriter, _ *http.Request, _ map[string]any) bool { w.WriteHeader(500); return true }
	b.handle = func(w http.ResponseWriter, _ *http.Request, _ map[string]any) bool {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"delta\":{\"content\":\"from b\"}}]}\n\ndata: [DONE]\n\n")
		return true
	}
	_, srv, _ := setup(t, fixed("a", "b"), "", a, b)
	resp := post(t, srv.URL+"/v1/chat/completions", `{"model":"router","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get(HeaderLLM) != "b" || string(body) != "data: {\"choices\":[{\"delta\":{\"content\":\"from b\"}}]}\n\ndata: [DONE]\n\n" {
		t.Errorf("%d from %q: %q", resp.StatusCode, resp.Header.Get(HeaderLLM), body)
	}
	if b.models[0] != "b-served" {
		t.Errorf("b got model %q", b.models[0])
	}
}
