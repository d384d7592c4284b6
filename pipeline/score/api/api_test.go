package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/score"
)

const llm = "org/model"

func testOptions(t *testing.T, endpoint string) Options {
	return Options{
		Endpoint: endpoint + "/v1", LLM: llm, Out: filepath.Join(t.TempDir(), "scores.jsonl"),
		BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond, Timeout: 5 * time.Second,
	}
}

// containsAnswer is the tests' checker: 1 when the output has "#### <answer>".
func containsAnswer(q score.Query, out string) (float64, error) {
	if strings.Contains(out, "#### "+q.Answer) {
		return 1, nil
	}
	return 0, nil
}

func mcQuery(id string, prompt string, target int, options ...string) score.Query {
	return score.Query{ID: id, Task: "mmlu", Question: "Q " + id, Prompt: "id=" + id + "\n" + prompt,
		Kind: score.MultipleChoice, Options: options, Target: target}
}

func genQuery(i int) score.Query {
	id := fmt.Sprintf("gsm8k/%d", i)
	return score.Query{ID: id, Task: "gsm8k", Question: "Q " + id, Prompt: "id=" + id + "\nQuestion: 6*7?\nAnswer:",
		Kind: score.Generate, Answer: "42", Stop: []string{"\n\n"}}
}

func readScores(t *testing.T, path string) map[string]float64 {
	t.Helper()
	recs, err := score.ReadRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, r := range recs {
		if _, dup := out[r.ID]; dup {
			t.Fatalf("%s written twice", r.ID)
		}
		if r.LLM != llm {
			t.Errorf("%s: llm %q", r.ID, r.LLM)
		}
		out[r.ID] = r.Score
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestMCScore(t *testing.T) {
	inf := math.Inf(-1)
	for _, c := range []struct {
		ll     []float64
		target int
		want   float64
	}{
		{[]float64{-1, -2}, 0, 1 / (1 + math.Exp(-1))},
		{[]float64{-1, -2}, 1, 0},
		{[]float64{-1, -1}, 0, 0.5}, // tie: the first max is the argmax
		{[]float64{-1, -1}, 1, 0},
		{[]float64{-1, inf}, 0, 1},
		{[]float64{inf, inf}, 0, 0}, // no letter among the top logprobs
		{[]float64{-1000, -1001}, 0, 1 / (1 + math.Exp(-1))},
	} {
		if got := mcScore(c.ll, c.target); !near(got, c.want) {
			t.Errorf("mcScore(%v, %d) = %v, want %v", c.ll, c.target, got, c.want)
		}
	}
}

func TestEchoMC(t *testing.T) {
	f := &fake{tokenLP: map[string]map[string]float64{
		"q1": {" A": -0.5, " B": -1.5, " C": -2.5},
		"q2": {" A": -0.5, " B": -1.5},
		"q3": {" Paris": -2.0, " Lyon": -0.25, " city": -0.25},
		"q4": {" A": -0.1, " B": -2.1},
	}}
	srv := newFake(t, f)
	qs := []score.Query{
		mcQuery("q1", "Question: x?\nAnswer:", 0, " A", " B", " C"),
		mcQuery("q2", "Question: x?\nAnswer:", 1, " A", " B"),
		mcQuery("q3", "Capital of France? Answer:", 1, " Paris", " Lyon city"),
		// Non-ASCII: the fake counts offsets in characters, as vLLM does.
		mcQuery("q4", "问题：哪个是对的？ Answer:", 0, " A", " B"),
	}
	opt := testOptions(t, srv.URL)
	opt.Model = "served-name"
	opt.APIKey = "sk-test"
	sum, err := Run(context.Background(), qs, nil, opt)
	if err != nil {
		t.Fatal(err)
	}
	got := readScores(t, opt.Out)
	want := map[string]float64{
		// ll = [-0.5, -1.5, -2.5], argmax 0 = target:
		// 1/(1 + e^-1 + e^-2) = 1/1.503214724 = 0.665240956
		"q1": 0.6652409557748219,
		// argmax 0 != target 1
		"q2": 0,
		// " Paris" = -2.0; " Lyon city" = -0.25 + -0.25 = -0.5, argmax 1 = target:
		// 1/(1 + e^-1.5) = 1/1.223130160 = 0.817574476
		"q3": 0.8175744761936437,
		// 1/(1 + e^-2) = 0.880797078
		"q4": 0.8807970779778823,
	}
	for id, w := range want {
		if !near(got[id], w) {
			t.Errorf("%s: score %v, want %v", id, got[id], w)
		}
	}
	if sum.MCMethod != MCEcho || sum.Scored != 4 || sum.Requests != 9 || sum.Retries != 0 {
		t.Errorf("summary %+v", sum)
	}
	for _, r := range f.requests() {
		if !r.Echo || r.MaxTokens == nil || *r.MaxTokens != 0 || string(r.Logprobs) != "1" || r.Path != "/v1/completions" {
			t.Errorf("echo request %+v", r)
		}
		if r.Model != "served-name" || r.Auth != "Bearer sk-test" {
			t.Errorf("model %q auth %q", r.Model, r.Auth)
		}
	}
	// Finished runs are rewritten in input order.
	recs, _ := score.ReadRecords(opt.Out)
	for i, r := range recs {
		if r.ID != qs[i].ID || r.Task != "mmlu" || r.Question != qs[i].Question {
			t.Errorf("record %d = %+v", i, r)
		}
	}
}

func TestFirstTokenMC(t *testing.T) {
	top := map[string]map[string]float64{
		// " A" and "A" are variants of one letter: the larger (-0.3) counts.
		"q1": {" A": -0.3, "A": -0.9, " B": -1.2, " C": -2.0, " the": -3},
		// The target letter D is not among the top: -Inf, score 0.
		"q2": {" A": -0.3, " B": -1.2},
		"q3": {" A": -0.3, " B": -1.2},
	}
	chatTop := map[string]map[string]float64{
		"q1": {"A": -0.3, " A": -0.9, "B": -1.2, "C": -2.0, "The": -3},
		"q2": {"A": -0.3, "B": -1.2},
		"q3": {"A": -0.3, "B": -1.2},
	}
	// ll = [-0.3, -1.2, -2.0, -Inf], target 0:
	// 1/(1 + e^-0.9 + e^-1.7) = 1/(1 + 0.40656966 + 0.18268352) = 0.629226...
	want1 := 1 / (1 + math.Exp(-0.9) + math.Exp(-1.7))
	if math.Abs(want1-0.629226) > 1e-6 {
		t.Fatalf("arithmetic: %v", want1)
	}
	opts := []string{" A", " B", " C", " D"}
	qs := []score.Query{
		mcQuery("q1", "Question: x?\nAnswer:", 0, opts...),
		mcQuery("q2", "Question: x?\nAnswer:", 3, opts...),
		mcQuery("q3", "Question: x?\nAnswer:", 0, opts...),
	}
	for _, c := range []struct {
		name, echo, method string
		chat               bool
	}{
		{"llama.cpp refuses echo", "refuse", MCAuto, false},
		{"echo ignored", "ignore", MCAuto, false},
		{"forced", "yes", MCFirstToken, false},
		{"chat", "refuse", MCAuto, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			tab := top
			if c.chat {
				// Chat models answer with the bare letter.
				tab = chatTop
			}
			f := &fake{echo: c.echo, top: tab}
			srv := newFake(t, f)
			opt := testOptions(t, srv.URL)
			opt.MCMethod, opt.Chat = c.method, c.chat
			sum, err := Run(context.Background(), qs, nil, opt)
			if err != nil {
				t.Fatal(err)
			}
			got := readScores(t, opt.Out)
			if !near(got["q1"], want1) || got["q2"] != 0 || !near(got["q3"], 1/(1+math.Exp(-0.9))) {
				t.Errorf("scores %v, want q1=%v q2=0 q3=%v", got, want1, 1/(1+math.Exp(-0.9)))
			}
			echoes := 0
			for _, r := range f.requests() {
				if r.Echo {
					echoes++
					continue
				}
				wantPath := "/v1/completions"
				if c.chat {
					wantPath = "/v1/chat/completions"
					if string(r.Logprobs) != "true" || r.TopLogprobs != 20 {
						t.Errorf("chat request logprobs %s top %d", r.Logprobs, r.TopLogprobs)
					}
				} else if string(r.Logprobs) != "20" {
					t.Errorf("completions request logprobs %s", r.Logprobs)
				}
				if r.Path != wantPath {
					t.Errorf("path %s", r.Path)
				}
			}
			// auto tries echo once, then remembers.
			wantEchoes := 1
			if c.method == MCFirstToken {
				wantEchoes = 0
			}
			if echoes != wantEchoes || sum.MCMethod != MCFirstToken {
				t.Errorf("%d echo requests, method %q", echoes, sum.MCMethod)
			}
		})
	}
}

func TestGenerateWithN(t *testing.T) {
	f := &fake{n: "yes"}
	srv := newFake(t, f)
	qs := []score.Query{genQuery(0), genQuery(1), genQuery(2)}
	opt := testOptions(t, srv.URL)
	opt.Seed = 7
	opt.Out = filepath.Join(t.TempDir(), "new", "dir", "scores.jsonl")
	sum, err := Run(context.Background(), qs, containsAnswer, opt)
	if err != nil {
		t.Fatal(err)
	}
	for id, v := range readScores(t, opt.Out) {
		// Choices 0..2 of 10 are right.
		if !near(v, 0.3) {
			t.Errorf("%s: %v, want 0.3", id, v)
		}
	}
	reqs := f.requests()
	if len(reqs) != 3 || sum.UseN != NYes {
		t.Fatalf("%d requests, UseN %q", len(reqs), sum.UseN)
	}
	for _, r := range reqs {
		if r.N != 10 || *r.Seed != 7 || r.Temperature != 0.2 || *r.MaxTokens != 512 || !slices.Equal(r.Stop, []string{"\n\n"}) {
			t.Errorf("request %+v", r)
		}
	}
}

func TestGenerateWithoutN(t *testing.T) {
	for _, c := range []struct {
		name, n string
		chat    bool
	}{
		{"n ignored (Ollama)", "ignore", false},
		{"n rejected, chat", "reject", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fake{n: c.n}
			srv := newFake(t, f)
			qs := []score.Query{genQuery(0), genQuery(1), genQuery(2)}
			opt := testOptions(t, srv.URL)
			opt.Seed, opt.Chat = 100, c.chat
			temp := 0.0
			opt.Temperature = &temp
			sum, err := Run(context.Background(), qs, containsAnswer, opt)
			if err != nil {
				t.Fatal(err)
			}
			for id, v := range readScores(t, opt.Out) {
				// Seeds 100..109: the five even ones are right.
				if !near(v, 0.5) {
					t.Errorf("%s: %v, want 0.5", id, v)
				}
			}
			seeds := map[string][]int64{}
			withN := 0
			for _, r := range f.requests() {
				if r.Temperature != 0 {
					t.Errorf("temperature %v", r.Temperature)
				}
				if r.N > 1 {
					withN++
					continue
				}
				seeds[r.ID] = append(seeds[r.ID], *r.Seed)
			}
			// auto tries n once, then remembers.
			if withN != 1 || sum.UseN != NNo {
				t.Errorf("%d requests with n, UseN %q", withN, sum.UseN)
			}
			want := []int64{100, 101, 102, 103, 104, 105, 106, 107, 108, 109}
			for _, q := range qs {
				s := slices.Clone(seeds[q.ID])
				slices.Sort(s)
				if !slices.Equal(s, want) {
					t.Errorf("%s: seeds %v, want %v (M distinct seeded requests)", q.ID, seeds[q.ID], want)
				}
			}
		})
	}
}

func TestFaults(t *testing.T) {
	q := genQuery(0)
	for _, c := range []struct {
		name    string
		fault   func(w http.ResponseWriter, r *http.Request, call int) bool
		retries int
		minWait time.Duration
	}{
		{"500 twice", func(w http.ResponseWriter, r *http.Request, call int) bool {
			if call <= 2 {
				apiError(w, 500, "overloaded")
				return true
			}
			return false
		}, 2, 0},
		{"429 Retry-After", func(w http.ResponseWriter, r *http.Request, call int) bool {
			if call == 1 {
				w.Header().Set("Retry-After", "1")
				apiError(w, 429, "slow down")
				return true
			}
			return false
		}, 1, 900 * time.Millisecond},
		{"slow past timeout", func(w http.ResponseWriter, r *http.Request, call int) bool {
			if call == 1 {
				select {
				case <-r.Context().Done():
				case <-time.After(3 * time.Second):
				}
				return true
			}
			return false
		}, 1, 0},
		{"malformed JSON", func(w http.ResponseWriter, r *http.Request, call int) bool {
			if call == 1 {
				w.Write([]byte(`{"choices": [{"index": 0, "te`))
				return true
			}
			return false
		}, 1, 0},
		{"connection reset", func(w http.ResponseWriter, r *http.Request, call int) bool {
			if call == 1 {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close()
				}
				return true
			}
			return false
		}, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fake{n: "yes", fault: func(w http.ResponseWriter, r *http.Request, id string, call int) bool {
				return c.fault(w, r, call)
			}}
			srv := newFake(t, f)
			opt := testOptions(t, srv.URL)
			opt.Timeout = 200 * time.Millisecond
			start := time.Now()
			sum, err := Run(context.Background(), []score.Query{q}, containsAnswer, opt)
			if err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el < c.minWait || c.minWait > 0 && el > c.minWait+2*time.Second {
				t.Errorf("took %v, want about %v", el, c.minWait)
			}
			if sum.Retries != c.retries || sum.Scored != 1 || f.callsFor(q.ID) != c.retries+1 {
				t.Errorf("summary %+v, %d calls", sum, f.callsFor(q.ID))
			}
			if v := readScores(t, opt.Out)[q.ID]; !near(v, 0.3) {
				t.Errorf("score %v", v)
			}
		})
	}
}

func TestPermanentFaults(t *testing.T) {
	t.Run("malformed JSON", func(t *testing.T) {
		f := &fake{fault: func(w http.ResponseWriter, r *http.Request, id string, call int) bool {
			w.Write([]byte(`{"choices": [`))
			return true
		}}
		srv := newFake(t, f)
		opt := testOptions(t, srv.URL)
		q := genQuery(3)
		sum, err := Run(context.Background(), []score.Query{q}, containsAnswer, opt)
		if err == nil || !strings.Contains(err.Error(), "query gsm8k/3") || !strings.Contains(err.Error(), "malformed JSON") {
			t.Fatalf("error %v", err)
		}
		// One try and MalformedRetries (2) more.
		if f.callsFor(q.ID) != 3 || sum.Failed != 1 {
			t.Errorf("%d calls, summary %+v", f.callsFor(q.ID), sum)
		}
	})
	t.Run("401", func(t *testing.T) {
		f := &fake{fault: func(w http.ResponseWriter, r *http.Request, id string, call int) bool {
			apiError(w, 401, "invalid api key")
			return true
		}}
		srv := newFake(t, f)
		opt := testOptions(t, srv.URL)
		opt.Concurrency = 1
		_, err := Run(context.Background(), []score.Query{genQuery(0), genQuery(1)}, containsAnswer, opt)
		if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "authentication failed: check --api-key / OPENAI_API_KEY") {
			t.Fatalf("error %v", err)
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("%d requests after a 401, want 1 (no retries, run stopped)", n)
		}
	})
	t.Run("500 forever", func(t *testing.T) {
		f := &fake{n: "yes", fault: func(w http.ResponseWriter, r *http.Request, id string, call int) bool {
			if id == "gsm8k/1" {
				apiError(w, 503, "down")
				return true
			}
			return false
		}}
		srv := newFake(t, f)
		opt := testOptions(t, srv.URL)
		opt.MaxRetries = 3
		qs := []score.Query{genQuery(0), genQuery(1), genQuery(2)}
		sum, err := Run(context.Background(), qs, containsAnswer, opt)
		if err == nil || !strings.Contains(err.Error(), "1 of 3 queries failed") || !strings.Contains(err.Error(), "gsm8k/1") {
			t.Fatalf("error %v", err)
		}
		if f.callsFor("gsm8k/1") != 4 || sum.Scored != 2 || sum.Failed != 1 {
			t.Errorf("%d calls, summary %+v", f.callsFor("gsm8k/1"), sum)
		}
		if got := readScores(t, opt.Out); len(got) != 2 {
			t.Errorf("records %v", got)
		}
	})
	t.Run("max failures", func(t *testing.T) {
		f := &fake{fault: func(w http.ResponseWriter, r *http.Request, id string, call int) bool {
			apiError(w, 400, "prompt too long")
			return true
		}}
		srv := newFake(t, f)
		opt := testOptions(t, srv.URL)
		opt.MaxFailures, opt.Concurrency, opt.UseN = 3, 1, NYes
		var qs []score.Query
		for i := range 10 {
			qs = append(qs, genQuery(i))
		}
		_, err := Run(context.Background(), qs, containsAnswer, opt)
		if err == nil || !strings.Contains(err.Error(), "stopping after 3 failed queries") {
			t.Fatalf("error %v", err)
		}
		if n := len(f.requests()); n != 3 {
			t.Errorf("%d requests, want 3 (400 is not retried)", n)
		}
	})
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Thu, 02 Jan 2025 03:04:15 GMT": 10 * time.Second,
		"Thu, 02 Jan 2025 03:00:00 GMT": 0,
		"86400":                         maxRetryAfter,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	c := &client{backoffBase: 10 * time.Millisecond, backoffMax: 50 * time.Millisecond}
	c.rng = rand.New(rand.NewPCG(1, 2))
	for attempt, hi := range []time.Duration{10, 20, 40, 50, 50, 50} {
		hi *= time.Millisecond
		for range 20 {
			if d := c.backoff(attempt); d < hi/2 || d > hi {
				t.Errorf("backoff(%d) = %v, want in [%v, %v]", attempt, d, hi/2, hi)
			}
		}
	}
	if d := c.backoff(100); d < 25*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("backoff(100) = %v", d)
	}
}

// TestResume kills a run midway (the server cancels the context on its
// 8th request), adds a hand-truncated line, resumes, and checks that every
// query is scored and written exactly once overall.
func TestResume(t *testing.T) {
	const total = 20
	var qs []score.Query
	for i := range total {
		qs = append(qs, genQuery(i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen atomic.Int64
	f := &fake{n: "yes", fault: func(w http.ResponseWriter, r *http.Request, id string, call int) bool {
		if seen.Add(1) == 8 {
			cancel()
			<-r.Context().Done()
			return true
		}
		return false
	}}
	srv := newFake(t, f)
	opt := testOptions(t, srv.URL)
	opt.UseN, opt.Samples = NYes, 10
	_, cancelled := Run(ctx, qs, containsAnswer, opt)
	if !errors.Is(cancelled, context.Canceled) {
		t.Fatalf("first run: %v", cancelled)
	}
	data, err := os.ReadFile(opt.Out)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("file ends in a partial line: %q", data)
	}
	first := readScores(t, opt.Out)
	// Call 8 means 8 queries started on 4 workers: at least 4 finished.
	if len(first) < 4 || len(first) >= total {
		t.Fatalf("%d records after the cancelled run", len(first))
	}
	// Ctrl-C says what is kept and how to go on.
	if want := fmt.Sprintf("%d of %d queries are saved in %s; rerun the same command to continue", len(first), total, opt.Out); !strings.Contains(cancelled.Error(), want) {
		t.Errorf("cancelled run: %q, want it to say %q", cancelled, want)
	}
	// Requests the cancelled run sent may reach the handler after Run has
	// returned (a loaded machine schedules it late): Close waits for them,
	// so the counts below are final, and the resumed run gets a new server
	// on the same fake.
	srv.Close()
	calls1 := map[string]int{}
	for _, q := range qs {
		calls1[q.ID] = f.callsFor(q.ID)
	}
	srv2 := httptest.NewServer(f)
	t.Cleanup(srv2.Close)
	opt.Endpoint = srv2.URL + "/v1"

	// A run killed mid-write leaves a partial line.
	var partialID string
	for _, q := range qs {
		if _, ok := first[q.ID]; !ok {
			partialID = q.ID
			break
		}
	}
	fh, _ := os.OpenFile(opt.Out, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(fh, `{"id":%q,"question":"Q %s","sco`, partialID, partialID)
	fh.Close()

	f.fault = nil
	var log bytes.Buffer
	opt.Log = &log
	sum, err := Run(context.Background(), qs, containsAnswer, opt)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("resuming %s: %d of %d queries already scored, 1 torn record dropped", opt.Out, len(first), total); !strings.Contains(log.String(), want) {
		t.Errorf("log %q, want %q", log.String(), want)
	}
	if sum.Skipped != len(first) || sum.Scored != total-len(first) || !strings.Contains(sum.Discarded, partialID) {
		t.Errorf("summary %+v after %d records", sum, len(first))
	}
	for _, q := range qs {
		calls2 := f.callsFor(q.ID) - calls1[q.ID]
		_, done := first[q.ID]
		if done && calls2 != 0 || !done && calls2 != 1 {
			t.Errorf("%s: %d calls in the resumed run (done before: %v)", q.ID, calls2, done)
		}
	}
	recs, err := score.ReadRecords(opt.Out)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != total {
		t.Fatalf("%d records, want %d", len(recs), total)
	}
	for i, r := range recs {
		if r.ID != qs[i].ID || !near(r.Score, 0.3) {
			t.Errorf("record %d = %+v, want id %s (input order)", i, r, qs[i].ID)
		}
	}

	// Nothing left: no requests.
	before := len(f.requests())
	log.Reset()
	sum, err = Run(context.Background(), qs, containsAnswer, opt)
	if err != nil || sum.Skipped != total || sum.Scored != 0 || len(f.requests()) != before {
		t.Errorf("third run: %v, %+v", err, sum)
	}
	if want := fmt.Sprintf("%d of %d queries already scored, 0 torn records dropped", total, total); !strings.Contains(log.String(), want) {
		t.Errorf("log %q, want %q", log.String(), want)
	}
}

func TestResumeChecks(t *testing.T) {
	srv := newFake(t, &fake{})
	q := mcQuery("q1", "Answer:", 0, " A", " B")
	for _, c := range []struct {
		name, line, want string
	}{
		{"other LLM", `{"id":"q1","question":"Q q1","score":1,"llm":"other/llm","task":"mmlu"}`, `LLM "other/llm"`},
		{"other question", `{"id":"q1","question":"different","score":1,"llm":"org/model","task":"mmlu"}`, "differs from the input"},
		{"other task", `{"id":"x/1","question":"x","score":1,"llm":"org/model","task":"gsm8k"}`, `"gsm8k" is not a task of the input`},
		{"twice", `{"id":"q1","question":"Q q1","score":1,"llm":"org/model","task":"mmlu"}` + "\n" +
			`{"id":"q1","question":"Q q1","score":1,"llm":"org/model","task":"mmlu"}`, "appears twice"},
		{"corrupt middle line", `{"id":"q1"` + "\n" + `{"id":"q2","question":"x","score":1,"llm":"org/model","task":"mmlu"}`, "line 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			opt := testOptions(t, srv.URL)
			content := c.line + "\n" + `{"id":"trunc`
			os.WriteFile(opt.Out, []byte(content), 0o644)
			_, err := Run(context.Background(), []score.Query{q}, nil, opt)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if b, _ := os.ReadFile(opt.Out); string(b) != content {
				t.Errorf("file changed on a refused resume: %q", b)
			}
		})
	}
	t.Run("unterminated complete line kept", func(t *testing.T) {
		opt := testOptions(t, srv.URL)
		os.WriteFile(opt.Out, []byte(`{"id":"q1","question":"Q q1","score":1,"llm":"org/model","task":"mmlu"}`), 0o644)
		q2 := mcQuery("q2", "Answer:", 0, " A", " B")
		sum, err := Run(context.Background(), []score.Query{q, q2}, nil, opt)
		if err != nil || sum.Skipped != 1 || sum.Scored != 1 || sum.Discarded != "" {
			t.Fatalf("%v %+v", err, sum)
		}
		if got := readScores(t, opt.Out); len(got) != 2 || got["q1"] != 1 {
			t.Errorf("records %v", got)
		}
	})
}

func TestDuplicates(t *testing.T) {
	f := &fake{tokenLP: map[string]map[string]float64{"q1": {" A": -1, " B": -2}}}
	srv := newFake(t, f)
	q := mcQuery("q1", "Answer:", 0, " A", " B")
	opt := testOptions(t, srv.URL)
	sum, err := Run(context.Background(), []score.Query{q, q, q}, nil, opt)
	if err != nil || sum.Duplicates != 2 || sum.Scored != 1 || f.callsFor("q1") != 2 {
		t.Fatalf("%v %+v, %d calls", err, sum, f.callsFor("q1"))
	}
	q2 := q
	q2.Question = "something else"
	if _, err := Run(context.Background(), []score.Query{q, q2}, nil, opt); err == nil || !strings.Contains(err.Error(), `id "q1" is given twice`) {
		t.Errorf("error %v", err)
	}
	if _, err := Run(context.Background(), []score.Query{genQuery(1)}, nil, opt); err == nil || !strings.Contains(err.Error(), "needs a Checker") {
		t.Errorf("error %v", err)
	}
}

func TestProgress(t *testing.T) {
	srv := newFake(t, &fake{})
	q := mcQuery("q1", "Answer:", 0, " A", " B")
	var buf bytes.Buffer
	opt := testOptions(t, srv.URL)
	opt.Progress = &buf
	t.Setenv("ROUTERDC_QUIET", "")
	if _, err := Run(context.Background(), []score.Query{q}, nil, opt); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), llm) {
		t.Errorf("no progress bar: %q", buf.String())
	}
	buf.Reset()
	t.Setenv("ROUTERDC_QUIET", "1")
	opt.Out = filepath.Join(t.TempDir(), "other.jsonl")
	if _, err := Run(context.Background(), []score.Query{q}, nil, opt); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("progress written with ROUTERDC_QUIET=1: %q", buf.String())
	}
}

func TestReadQueries(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, fmt.Sprintf("q%d.jsonl", len(s)))
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	good := `{"id":"mmlu/1","task":"mmlu","question":"Q","prompt":"Q\nAnswer:","kind":"multiple_choice","options":[" A"," B"],"target":1}` + "\n\n" +
		`{"id":"gsm8k/1","task":"gsm8k","question":"Q","prompt":"Q","kind":"generate","answer":"#### 4","stop":["\n\n"]}` + "\n"
	qs, err := ReadQueries(write(good))
	if err != nil || len(qs) != 2 || qs[0].Target != 1 || qs[1].Stop[0] != "\n\n" {
		t.Fatalf("%v %+v", err, qs)
	}
	for _, c := range []struct{ text, want string }{
		{`{"id":"a","task":"t","question":"Q","prompt":"P","kind":"generate","bogus":1}`, `line 1: field "bogus"`},
		{"\n" + `{"id":"a","task":"t","question":"Q","prompt":"P","kind":"generate","target":"x"}`, `line 2: field "target"`},
		{`{"id":"a","task":"t","question":"Q","prompt":"P","kind":"essay"}`, `field "kind"`},
		{`{"id":"a","task":"t","question":"Q","prompt":"P","kind":"multiple_choice","options":[" A"," B"],"target":2}`, `field "target"`},
		{`{"task":"t","question":"Q","prompt":"P","kind":"generate"}`, `field "id"`},
		{`{"id":"a","task":"t","question":"Q","prompt":"P","kind":"generate"} {}`, "more than one JSON value"},
		{"\n", "no queries"},
	} {
		p := write(c.text)
		_, err := ReadQueries(p)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want %q", c.text, err, c.want)
		}
	}
}

func TestOptionsErrors(t *testing.T) {
	q := mcQuery("q1", "Answer:", 0, " A", " B")
	for _, opt := range []Options{
		{LLM: llm, Out: "x"},
		{Endpoint: "localhost:8000", LLM: llm, Out: "x"},
		{Endpoint: "http://h", LLM: llm, Out: "x", MCMethod: "logits"},
		{Endpoint: "http://h", LLM: llm, Out: "x", UseN: "maybe"},
	} {
		if _, err := Run(context.Background(), []score.Query{q}, nil, opt); err == nil {
			t.Errorf("%+v: no error", opt)
		}
	}
}

// A results file remembers the settings it was scored with: a rerun with the
// same ones resumes, with other ones it is refused instead of mixing scores.
func TestFingerprint(t *testing.T) {
	f := &fake{tokenLP: map[string]map[string]float64{"q1": {" A": -0.5, " B": -1.5}}}
	srv := newFake(t, f)
	qs := []score.Query{mcQuery("q1", "Question: x?\nAnswer:", 0, " A", " B")}
	opt := testOptions(t, srv.URL)
	opt.Fingerprint = "settings-1"
	if _, err := Run(context.Background(), qs, nil, opt); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), qs, nil, opt)
	if err != nil || sum.Skipped != 1 || sum.Scored != 0 {
		t.Fatalf("same settings: %+v, %v; want the query skipped", sum, err)
	}
	// The settings are kept readable, and a refusal names what changed.
	kept, err := os.ReadFile(opt.Out + ".settings")
	if err != nil || !strings.Contains(string(kept), "\nmodel: org/model\n") || !strings.Contains(string(kept), "\ntemperature: 0.2\n") {
		t.Errorf("settings file %q, %v; want readable key: value lines", kept, err)
	}
	opt.Fingerprint = "settings-2"
	if _, err := Run(context.Background(), qs, nil, opt); err == nil || !strings.Contains(err.Error(), "other settings") ||
		!strings.Contains(err.Error(), "fingerprint: settings-1 -> settings-2") {
		t.Fatalf("other settings: %v, want a refusal naming the fingerprint's change", err)
	}
	opt.Fingerprint = "settings-1"
	temp := 0.7
	opt.Temperature, opt.Model, opt.Settings = &temp, "other model", []Setting{{"task", "MMLU"}}
	_, err = Run(context.Background(), qs, nil, opt)
	for _, want := range []string{"temperature: 0.2 -> 0.7", "model: org/model -> other model", "task: (none) -> MMLU"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("changed settings: %v, want it to name %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "fingerprint") {
		t.Errorf("changed settings: %v; the fingerprint is only named when nothing else differs", err)
	}
	opt.Temperature, opt.Model, opt.Settings = nil, "", nil

	// A settings file of an older version holds only the fingerprint: the
	// same one resumes (and the file becomes readable), another is refused.
	os.WriteFile(opt.Out+".settings", []byte("settings-1\n"), 0o644)
	if sum, err := Run(context.Background(), qs, nil, opt); err != nil || sum.Skipped != 1 {
		t.Fatalf("old settings file, same fingerprint: %+v, %v", sum, err)
	}
	if kept, _ := os.ReadFile(opt.Out + ".settings"); !strings.Contains(string(kept), "model: org/model") {
		t.Errorf("old settings file not rewritten readable: %q", kept)
	}
	os.WriteFile(opt.Out+".settings", []byte("settings-1\n"), 0o644)
	opt.Fingerprint = "settings-3"
	if _, err := Run(context.Background(), qs, nil, opt); err == nil || !strings.Contains(err.Error(), "fingerprint: settings-1 -> settings-3") {
		t.Fatalf("old settings file, other fingerprint: %v", err)
	}
	os.WriteFile(opt.Out+".settings", []byte("model: org/model\nbroken line\n"), 0o644)
	if _, err := Run(context.Background(), qs, nil, opt); err == nil || !strings.Contains(err.Error(), opt.Out+".settings: line 2") {
		t.Fatalf("corrupt settings file: %v, want an error naming the file and line", err)
	}
	// A file scored without a fingerprint cannot be vouched for either.
	opt.Out = filepath.Join(t.TempDir(), "bare.jsonl")
	opt.Fingerprint = ""
	if _, err := Run(context.Background(), qs, nil, opt); err != nil {
		t.Fatal(err)
	}
	opt.Fingerprint = "settings-1"
	if _, err := Run(context.Background(), qs, nil, opt); err == nil || !strings.Contains(err.Error(), "no "+opt.Out+".settings") {
		t.Fatalf("unfingerprinted file: %v", err)
	}
}

// ARC-C's options are answer texts: without echo they cannot be scored, and
// the run says so instead of scoring every query 0.
func TestFirstTokenNeedsLetters(t *testing.T) {
	f := &fake{echo: "refuse", top: map[string]map[string]float64{"q1": {" Paris": -0.1, " Lyon": -2}}}
	srv := newFake(t, f)
	opt := testOptions(t, srv.URL)
	opt.MaxFailures = 1
	_, err := Run(context.Background(), []score.Query{mcQuery("q1", "Capital? Answer:", 0, " Paris", " Lyon")}, nil, opt)
	if err == nil || !strings.Contains(err.Error(), "not a letter") {
		t.Fatalf("text options without echo: %v, want an error saying first-token needs letters", err)
	}
}

// A run reuses its connections: with concurrency N the server sees about N
// of them, not one per burst of requests (Go's default transport keeps only
// 2 idle connections per host, so the others are closed and reopened).
func TestKeepsConnections(t *testing.T) {
	const conc, total = 8, 200
	var conns atomic.Int64
	f := &fake{onRequest: func(string, fakeReq) { time.Sleep(time.Millisecond) }}
	srv := newFakeWith(t, f, func(s *httptest.Server) {
		s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				conns.Add(1)
			}
		}
	})
	var qs []score.Query
	for i := range total {
		qs = append(qs, mcQuery(fmt.Sprintf("q%d", i), "Answer:", 0, " A", " B"))
	}
	opt := testOptions(t, srv.URL)
	opt.Concurrency, opt.MCMethod = conc, MCEcho
	sum, err := Run(context.Background(), qs, nil, opt)
	if err != nil || sum.Scored != total {
		t.Fatalf("%v %+v", err, sum)
	}
	if n := conns.Load(); n > conc+2 {
		t.Errorf("%d connections for %d requests at concurrency %d, want at most %d", n, sum.Requests, conc, conc+2)
	}
}
