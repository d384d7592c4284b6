package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// fake is a deterministic OpenAI-compatible server for the tests. A prompt
// names its query with "id=<id>"; log-probabilities and generations are
// looked up by that id.
type fake struct {
	// echo is "yes" (vLLM), "refuse" (llama.cpp: 400) or "ignore" (answers
	// 200 without prompt logprobs).
	echo string
	// n is "yes" (honours n), "ignore" (one choice, as Ollama) or "reject" (400).
	n string
	// tokenLP gives the echo logprob of tokens after "Answer:" by id and
	// token text (with its leading space); other tokens get -1.
	tokenLP map[string]map[string]float64
	// top gives the first generated token's top logprobs by id.
	top map[string]map[string]float64
	// fault, when set, may answer a request itself: call is the 1-based
	// count of requests for that id so far (this one included).
	fault func(w http.ResponseWriter, r *http.Request, id string, call int) bool
	// onRequest is called for every request before anything else.
	onRequest func(id string, req fakeReq)

	mu    sync.Mutex
	calls map[string]int
	reqs  []fakeReq
}

type fakeReq struct {
	Path        string
	ID          string
	Model       string `json:"model"`
	Prompt      string `json:"prompt"`
	Messages    []struct{ Role, Content string }
	MaxTokens   *int            `json:"max_tokens"`
	Echo        bool            `json:"echo"`
	Logprobs    json.RawMessage `json:"logprobs"`
	TopLogprobs int             `json:"top_logprobs"`
	N           int             `json:"n"`
	Seed        *int64          `json:"seed"`
	Temperature float64         `json:"temperature"`
	Stop        []string        `json:"stop"`
	Auth        string
}

var idRE = regexp.MustCompile(`id=(\S+)`)

func newFake(t *testing.T, f *fake) *httptest.Server {
	return newFakeWith(t, f, nil)
}

// newFakeWith lets a test configure the server (e.g. Config.ConnState)
// before it starts.
func newFakeWith(t *testing.T, f *fake, configure func(*httptest.Server)) *httptest.Server {
	f.calls = map[string]int{}
	if f.echo == "" {
		f.echo = "yes"
	}
	if f.n == "" {
		f.n = "yes"
	}
	srv := httptest.NewUnstartedServer(f)
	if configure != nil {
		configure(srv)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func (f *fake) requests() []fakeReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeReq(nil), f.reqs...)
}

func (f *fake) callsFor(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req fakeReq
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.Path = r.URL.Path
	req.Auth = r.Header.Get("Authorization")
	prompt := req.Prompt
	if len(req.Messages) > 0 {
		prompt = req.Messages[len(req.Messages)-1].Content
	}
	if m := idRE.FindStringSubmatch(prompt); m != nil {
		req.ID = m[1]
	}
	f.mu.Lock()
	f.calls[req.ID]++
	call := f.calls[req.ID]
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	if f.onRequest != nil {
		f.onRequest(req.ID, req)
	}
	if f.fault != nil && f.fault(w, r, req.ID, call) {
		return
	}
	chat := r.URL.Path == "/v1/chat/completions"
	if !chat && r.URL.Path != "/v1/completions" {
		http.NotFound(w, r)
		return
	}
	wantsTop := req.MaxTokens != nil && *req.MaxTokens == 1 && len(req.Logprobs) > 0 && string(req.Logprobs) != "false"
	switch {
	case req.Echo:
		f.serveEcho(w, req)
	case wantsTop:
		f.serveTop(w, req, chat)
	default:
		f.serveGen(w, req, chat)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error"}})
}

var tokenRE = regexp.MustCompile(`\s*\S+`)

// serveEcho tokenises the prompt at spaces and reports offsets in
// characters, as vLLM does.
func (f *fake) serveEcho(w http.ResponseWriter, req fakeReq) {
	switch f.echo {
	case "refuse":
		apiError(w, http.StatusBadRequest, "Only no echo is supported")
		return
	case "ignore":
		writeJSON(w, 200, map[string]any{"choices": []any{map[string]any{"index": 0, "text": " A"}}})
		return
	}
	p := req.Prompt
	answer := strings.LastIndex(p, "Answer:") + len("Answer:")
	var (
		tokens  []string
		lps     []*float64
		offsets []int
	)
	for _, loc := range tokenRE.FindAllStringIndex(p, -1) {
		tok := p[loc[0]:loc[1]]
		var lp *float64
		if len(tokens) > 0 {
			v := -1.0
			if loc[0] >= answer {
				v = -5
				if x, ok := f.tokenLP[req.ID][tok]; ok {
					v = x
				}
			}
			lp = &v
		}
		tokens = append(tokens, tok)
		lps = append(lps, lp)
		offsets = append(offsets, utf8.RuneCountInString(p[:loc[0]]))
	}
	writeJSON(w, 200, map[string]any{"choices": []any{map[string]any{
		"index": 0, "text": p,
		"logprobs": map[string]any{"tokens": tokens, "token_logprobs": lps, "text_offset": offsets, "top_logprobs": nil},
	}}})
}

func (f *fake) serveTop(w http.ResponseWriter, req fakeReq, chat bool) {
	top := f.top[req.ID]
	best, bestLP := "", -1e9
	for tok, v := range top {
		if v > bestLP || v == bestLP && tok < best {
			best, bestLP = tok, v
		}
	}
	if chat {
		var alts []any
		for tok, v := range top {
			alts = append(alts, map[string]any{"token": tok, "logprob": v})
		}
		writeJSON(w, 200, map[string]any{"choices": []any{map[string]any{
			"index": 0, "message": map[string]any{"role": "assistant", "content": best},
			"logprobs": map[string]any{"content": []any{map[string]any{"token": best, "logprob": bestLP, "top_logprobs": alts}}},
		}}})
		return
	}
	writeJSON(w, 200, map[string]any{"choices": []any{map[string]any{
		"index": 0, "text": best,
		"logprobs": map[string]any{"tokens": []string{best}, "token_logprobs": []float64{bestLP},
			"top_logprobs": []any{top}, "text_offset": []int{len(req.Prompt)}},
	}}})
}

// genText: with n, choices 0..2 are right; with seeds, even seeds are.
func genText(seed int64, i int, withN bool) string {
	if withN && i < 3 || !withN && seed%2 == 0 {
		return " so #### 42"
	}
	return " so #### 41"
}

func (f *fake) serveGen(w http.ResponseWriter, req fakeReq, chat bool) {
	n := max(req.N, 1)
	if n > 1 {
		switch f.n {
		case "reject":
			apiError(w, http.StatusBadRequest, "n > 1 is not supported")
			return
		case "ignore":
			n = 1
		}
	}
	var seed int64
	if req.Seed != nil {
		seed = *req.Seed
	}
	var choices []any
	// Out of order on purpose: clients must sort by index.
	for i := n - 1; i >= 0; i-- {
		text := genText(seed, i, req.N > 1)
		if chat {
			choices = append(choices, map[string]any{"index": i, "message": map[string]any{"role": "assistant", "content": text}})
		} else {
			choices = append(choices, map[string]any{"index": i, "text": text})
		}
	}
	writeJSON(w, 200, map[string]any{"id": fmt.Sprintf("cmpl-%s", req.ID), "choices": choices})
}
