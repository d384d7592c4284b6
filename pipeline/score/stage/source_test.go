package stage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// mcRows writes n MMLU rows and returns the file's name (in dir).
func mcRows(t *testing.T, dir string, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"question": "Q%d?", "choices": ["a", "b", "c", "d"], "answer": 1}`+"\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "rows.jsonl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return "rows.jsonl"
}

// echoHandler answers echo requests as vLLM does, every option at -1;
// hang says which requests (1-based) hang until the client gives up.
func echoHandler(calls *atomic.Int64, hang func(call int64) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body read first: only then does the server notice the client
		// hanging up and cancel r.Context().
		var req struct {
			Prompt string `json:"prompt"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		if hang(calls.Add(1)) {
			<-r.Context().Done()
			return
		}
		ctx, opt := req.Prompt[:len(req.Prompt)-2], req.Prompt[len(req.Prompt)-2:]
		fmt.Fprintf(w, `{"choices":[{"text":%q,"logprobs":{"tokens":[%q,%q],"token_logprobs":[null,-1],"text_offset":[0,%d]}}]}`,
			req.Prompt, ctx, opt, len(ctx))
	})
}

// request_timeout bounds one API request in a declaration: a hung first
// request costs that long plus a backoff, not the 60 s default, and the key
// stays what it was without it (it does not change the scores).
func TestRequestTimeout(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(echoHandler(&calls, func(call int64) bool { return call == 1 }))
	defer srv.Close()
	dir := t.TempDir()
	rows := mcRows(t, dir, 1)
	decl := func(extra string) string {
		return fmt.Sprintf("name: api\nkind: scores\nout: out\nllms: [m]\nsources:\n  - {llm: m, task: MMLU, from: api, endpoint: %q, input: %s, mc_method: echo%s}\ndatasets: [{task: MMLU, file: mmlu.json}]\n",
			srv.URL, rows, extra)
	}
	d, err := Parse(filepath.Join(dir, "d.yaml"), []byte(decl(", request_timeout: 300ms")))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Parse(filepath.Join(dir, "d.yaml"), []byte(decl("")))
	if err != nil {
		t.Fatal(err)
	}
	k1, err1 := Key(d.resolved(d.Sources[0]))
	k2, err2 := Key(plain.resolved(plain.Sources[0]))
	if err1 != nil || err2 != nil || k1 != k2 {
		t.Errorf("request_timeout changes the key: %s vs %s (%v, %v)", k1, k2, err1, err2)
	}
	start := time.Now()
	if _, err := Run(context.Background(), d, Options{}); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("took %v with a 300ms request timeout", el)
	}
	if n := calls.Load(); n != 5 {
		t.Errorf("%d requests, want 5 (one timed out, then 4 options)", n)
	}
	for _, bad := range []string{"soon", "0s", "-1s"} {
		_, err := Parse(filepath.Join(dir, "d.yaml"), []byte(decl(", request_timeout: "+bad)))
		if err == nil || !strings.Contains(err.Error(), `"request_timeout"`) || !strings.Contains(err.Error(), "line 6") {
			t.Errorf("request_timeout %s: %v, want an error naming the line and key", bad, err)
		}
	}
	_, err = Parse(filepath.Join(dir, "d.yaml"), []byte(strings.Replace(decl(", request_timeout: 1s"), "from: api", "from: lm-eval, files: [x]", 1)))
	if err == nil {
		t.Error("request_timeout accepted on an lm-eval source")
	}
}
