package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeRouter gives each text the probabilities f returns.
type fakeRouter struct {
	llms []string
	f    func(text string) []float64
}

func (r fakeRouter) LLMs() []string { return r.llms }

func (r fakeRouter) Probabilities(texts []string) ([][]float64, error) {
	out := make([][]float64, len(texts))
	for i, t := range texts {
		out[i] = r.f(t)
	}
	return out, nil
}

// fixed always prefers the LLMs in the order given (a: 0.5, b: 0.3, c: 0.2).
func fixed(llms ...string) fakeRouter {
	return fakeRouter{llms: llms, f: func(string) []float64 {
		p := make([]float64, len(llms))
		rest := 1.0
		for i := range p {
			p[i] = rest / 2
			rest -= p[i]
		}
		p[len(p)-1] += rest
		return p
	}}
}

// upstream is a fake OpenAI-compatible server that answers with its name
// and the routed text, unless fail says otherwise.
type upstream struct {
	name string
	srv  *httptest.Server
	mu   sync.Mutex
	hits int
	// models records the "model" of each request.
	models []string
	// handle, if set, answers instead of the default.
	handle func(w http.ResponseWriter, r *http.Request, body map[string]any) bool
}

func newUpstream(t *testing.T, name string) *upstream {
	u := &upstream{name: name}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &body)
		u.mu.Lock()
		u.hits++
		m, _ := body["model"].(string)
		u.models = append(u.models, m)
		h := u.handle
		u.mu.Unlock()
		if h != nil && h(w, r, body) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"x","object":"chat.completion","choices":[{"message":{"role":"assistant","content":%q}}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`,
			u.name+"|"+lastUser(body))
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.hits
}

func lastUser(body map[string]any) string {
	if p, ok := body["prompt"].(string); ok {
		return p
	}
	msgs, _ := body["messages"].([]any)
	for i := len(msgs) - 1; i >= 0; i-- {
		m, _ := msgs[i].(map[string]any)
		if m["role"] == "user" {
			s, _ := m["content"].(string)
			return s
		}
	}
	return ""
}

// setup starts a gateway over the upstreams (mapped to the router's LLMs
// of the same names) with the extra YAML keys given.
func setup(t *testing.T, r Router, extra string, ups ...*upstream) (*Gateway, *httptest.Server, *bytes.Buffer) {
	t.Helper()
	return setupOpts(t, r, extra, Options{}, ups...)
}

func setupOpts(t *testing.T, r Router, extra string, o Options, ups ...*upstream) (*Gateway, *httptest.Server, *bytes.Buffer) {
	t.Helper()
	var y strings.Builder
	y.WriteString(extra + "\nllms:\n")
	for i, u := range ups {
		fmt.Fprintf(&y, "  %s: {base_url: %q, model: %s-served, cost_per_1k_tokens: %g}\n", u.name, u.srv.URL+"/v1", u.name, float64(len(ups)-i))
	}
	cfg, err := ParseConfig("upstreams.yaml", []byte(y.String()), r.LLMs(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	o.Config, o.Router, o.Log = cfg, r, log
	g, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(func() { srv.Close(); g.Close() })
	return g, srv, &log.Buffer
}

type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// chat posts a chat request with one user message.
func chat(t *testing.T, url, model, text string, hdr ...string) *http.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"model": model, "messages": []map[string]any{
		{"role": "system", "content": "be brief"}, {"role": "user", "content": text}}})
	return post(t, url+"/v1/chat/completions", string(body), hdr...)
}

func post(t *testing.T, url, body string, hdr ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// answer reads a chat answer: who answered and the text it echoed.
func answer(t *testing.T, resp *http.Response) (llm, content string) {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var v struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(b, &v); err != nil || len(v.Choices) == 0 {
		t.Fatalf("answer %s: %v", b, err)
	}
	return resp.Header.Get(HeaderLLM), v.Choices[0].Message.Content
}

// manualClock is the breakers' clock, moved by the test.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
