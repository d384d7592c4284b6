package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/score"
)

// The acceptance path of the scoring stage: import logs, merge per-LLM
// files into a dataset the rest of the pipeline loads.
func TestScoreCLI(t *testing.T) {
	bin := binary(t)
	lm := filepath.Join("..", "..", "pipeline", "score", "lmeval", "testdata")
	bc := filepath.Join("..", "..", "pipeline", "score", "bigcode", "testdata")
	dir := t.TempDir()

	// The spec's MC example: option log-likelihoods -2.3, -0.25, -3.1, -4.0,
	// target B (the argmax): score = e^-0.25 / (e^-2.3 + e^-0.25 + e^-3.1 + e^-4.0).
	want := math.Exp(-0.25) / (math.Exp(-2.3) + math.Exp(-0.25) + math.Exp(-3.1) + math.Exp(-4.0))
	for _, f := range []string{"mc_v042.json", "mc_v049.jsonl"} {
		out, stderr, err := run(t, bin, "", "score", "import", "--from", "lm-eval", "--llm", "org/a", "--task", "MMLU", filepath.Join(lm, f))
		if err != nil {
			t.Fatalf("%s: %v\n%s", f, err, stderr)
		}
		recs, err := score.DecodeRecords(f, strings.NewReader(out))
		if err != nil || len(recs) != 1 {
			t.Fatalf("%s: %v, %v", f, recs, err)
		}
		if math.Abs(recs[0].Score-want) > 1e-12 || recs[0].ID != "MMLU/0" || recs[0].LLM != "org/a" {
			t.Errorf("%s: %+v, want score %v", f, recs[0], want)
		}
	}

	// Two LLMs' GSM8K logs -> two score files -> one dataset.
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	for _, c := range []struct{ llm, mode, out string }{{"org/a", "normalized", a}, {"org/b", "routerdc", b}} {
		if _, stderr, err := run(t, bin, "", "score", "import", "--from", "lm-eval", "--llm", c.llm, "--task", "GSM8K",
			"--mode", c.mode, "--out", c.out, filepath.Join(lm, "gsm8k_v049.jsonl")); err != nil {
			t.Fatalf("%s: %v\n%s", c.llm, err, stderr)
		}
	}
	ds := filepath.Join(dir, "gsm8k.json")
	if _, stderr, err := run(t, bin, "", "score", "merge", "--out", ds, "--llms", "org/b,org/a", a, b); err != nil {
		t.Fatalf("merge: %v\n%s", err, stderr)
	}
	set, err := data.Load(ds)
	if err != nil {
		t.Fatal(err)
	}
	// Two of the three sampled answers end in "#### 10", the gold: 2/3.
	if strings.Join(set.LLMs, ",") != "org/b,org/a" || len(set.Queries) != 1 ||
		math.Abs(set.Queries[0].Scores[0]-2.0/3) > 1e-12 || math.Abs(set.Queries[0].Scores[1]-2.0/3) > 1e-12 {
		t.Errorf("merged dataset: LLMs %v, queries %+v", set.LLMs, set.Queries)
	}

	// bigcode per-sample results: passed / n per problem.
	out, stderr, err := run(t, bin, "", "score", "import", "--from", "bigcode", "--llm", "org/c", "--task", "HumanEval",
		"--problems", filepath.Join(bc, "humaneval_problems.jsonl"), filepath.Join(bc, "log_samples.json"))
	if err != nil {
		t.Fatalf("bigcode: %v\n%s", err, stderr)
	}
	recs, err := score.DecodeRecords("bigcode", strings.NewReader(out))
	if err != nil || len(recs) != 2 || math.Abs(recs[0].Score-1.0/3) > 1e-12 || recs[1].Score != 1 {
		t.Errorf("bigcode records %+v, %v; want 1/3 and 1", recs, err)
	}

	// Errors a user meets first.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"score", "import", "--from", "helm", "--llm", "x", "--task", "MMLU", "f"}, "--from"},
		{[]string{"score", "import", "--from", "bigcode", "--llm", "x", "--task", "HumanEval", "--problems", filepath.Join(bc, "humaneval_problems.jsonl"),
			"--generations", filepath.Join(bc, "generations_humaneval.json"), "--references", filepath.Join(bc, "references_humaneval.json")}, "execute"},
		{[]string{"score", "import", "--from", "lm-eval", "--llm", "x", "--task", "MMLU", filepath.Join(lm, "err_truncated.jsonl")}, "err_truncated.jsonl"},
		{[]string{"score", "merge", "--out", filepath.Join(dir, "x.json"), a, "org/a=" + b}, "org/a"},
		{[]string{"score", "api", "--endpoint", "http://127.0.0.1:1", "--llm", "x", "--task", "MMLU", "--input", "rows.json"}, "--out"},
		{[]string{"score", "frobnicate"}, "unknown score command"},
	} {
		_, stderr, err := run(t, bin, "", c.args...)
		if err == nil || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: err %v, stderr %q; want it to mention %q", c.args[1:], err, stderr, c.want)
		}
	}

	// A declared scoring run through `routerdc run`, cached the second time.
	declDir := t.TempDir()
	for _, f := range []string{"mc_v042.json"} {
		b, _ := os.ReadFile(filepath.Join(lm, f))
		os.WriteFile(filepath.Join(declDir, f), b, 0o644)
	}
	decl := filepath.Join(declDir, "scores.yaml")
	os.WriteFile(decl, []byte("name: mine\nkind: scores\nout: out\nllms: [org/a]\nsources:\n  - {llm: org/a, task: MMLU, from: lm-eval, files: [mc_v042.json]}\ndatasets: [{task: MMLU, file: mmlu.json}]\n"), 0o644)
	cacheDir := filepath.Join(declDir, "cache")
	for i, wantLine := range []string{"0 cached, 1 ran", "1 cached, 0 ran"} {
		_, stderr, err := run(t, bin, "", "run", "--cache", cacheDir, decl)
		if err != nil || !strings.Contains(stderr, wantLine) {
			t.Fatalf("run %d: %v\n%s", i, err, stderr)
		}
	}
	if _, err := data.Load(filepath.Join(declDir, "out", "mmlu.json")); err != nil {
		t.Error(err)
	}
	if _, stderr, err := run(t, bin, "", "run", "--cache", cacheDir, "--set", "lambda=1", decl); err == nil || !strings.Contains(stderr, "--set") {
		t.Errorf("run --set on a scoring declaration: %v %q, want a refusal naming --set", err, stderr)
	}
}

// echoServer answers /v1/completions echo requests the way vLLM does: the
// prompt as two tokens, the context and the 2-byte option (" A"), with the
// option's log-likelihood from ll (which also sees every request).
func echoServer(t *testing.T, ll func(ctx, opt string) float64) *httptest.Server {
	t.Helper()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Prompt string `json:"prompt"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		ctx, opt := req.Prompt[:len(req.Prompt)-2], req.Prompt[len(req.Prompt)-2:]
		fmt.Fprintf(w, `{"choices":[{"text":%q,"logprobs":{"tokens":[%q,%q],"token_logprobs":[null,%v],"text_offset":[0,%d]}}]}`,
			req.Prompt, ctx, opt, ll(ctx, opt), len(ctx))
	}))
}

// score api against a local OpenAI-style server: scores, resumes, and
// refuses to mix in scores made with other settings.
func TestScoreAPICLI(t *testing.T) {
	bin := binary(t)
	var calls atomic.Int64
	lls := map[string]float64{" A": -2, " B": -0.5, " C": -3, " D": -4}
	srv := echoServer(t, func(ctx, opt string) float64 {
		calls.Add(1)
		return lls[opt]
	})
	defer srv.Close()
	dir := t.TempDir()
	rows := filepath.Join(dir, "rows.jsonl")
	os.WriteFile(rows, []byte(`{"question": "Q1?", "choices": ["a", "b", "c", "d"], "answer": 1}`+"\n"), 0o644)
	out := filepath.Join(dir, "m.jsonl")
	args := []string{"score", "api", "--endpoint", srv.URL, "--llm", "org/m", "--task", "MMLU", "--input", rows, "--out", out, "--mc-method", "echo"}
	if _, stderr, err := run(t, bin, "", args...); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	recs, err := score.ReadRecords(out)
	z := math.Exp(-2) + math.Exp(-0.5) + math.Exp(-3) + math.Exp(-4)
	if err != nil || len(recs) != 1 || math.Abs(recs[0].Score-math.Exp(-0.5)/z) > 1e-9 {
		t.Fatalf("records %+v, %v", recs, err)
	}
	if _, stderr, err := run(t, bin, "", args...); err != nil || calls.Load() != 4 {
		t.Errorf("rerun: %v, %d requests in all (want 4: nothing scored twice)\n%s", err, calls.Load(), stderr)
	}
	if _, stderr, err := run(t, bin, "", append(args, "--model", "other", "--temperature", "0.5")...); err == nil || !strings.Contains(stderr, "other settings") ||
		!strings.Contains(stderr, "model: org/m -> other") || !strings.Contains(stderr, "temperature: 0.2 -> 0.5") {
		t.Errorf("other model into the same file: %v %q, want a refusal naming the changed settings", err, stderr)
	}
	os.WriteFile(rows, []byte(`{"question": "Q1?", "choices": ["a", "b", "c", "e"], "answer": 1}`+"\n"), 0o644)
	if _, stderr, err := run(t, bin, "", args...); err == nil || !strings.Contains(stderr, "input_sha256: ") {
		t.Errorf("changed input into the same file: %v %q, want a refusal naming the input", err, stderr)
	}
}

// A `score api` process killed mid-run (SIGKILL, no chance to clean up)
// loses nothing and scores nothing twice when rerun.
func TestScoreAPIKilled(t *testing.T) {
	bin := binary(t)
	var mu sync.Mutex
	calls := map[string]int{} // by question
	srv := echoServer(t, func(ctx, opt string) float64 {
		mu.Lock()
		calls[ctx]++
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		return -1
	})
	defer srv.Close()
	args, out := slowScoreArgs(t, srv.URL)

	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "ROUTERDC_QUIET=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(out)
		if strings.Count(string(b), "\n") >= 5 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no progress before the deadline")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	before, err := score.ReadRecords(out)
	if err != nil {
		t.Fatalf("results file after the kill: %v", err)
	}
	if len(before) >= slowRows {
		t.Fatalf("the run finished before the kill (%d records); the test needs a slower server", len(before))
	}
	if _, stderr, err := run(t, bin, "", args...); err != nil {
		t.Fatalf("resume: %v\n%s", err, stderr)
	}
	after, err := score.ReadRecords(out)
	if err != nil || len(after) != slowRows {
		t.Fatalf("%d records after the resume, %v; want %d", len(after), err, slowRows)
	}
	seen := map[string]bool{}
	for _, r := range after {
		if seen[r.ID] {
			t.Errorf("%s written twice", r.ID)
		}
		seen[r.ID] = true
	}
	// Queries finished before the kill were not asked again: 4 options each.
	mu.Lock()
	defer mu.Unlock()
	matched := 0
	for _, r := range before {
		ctx := strings.TrimSuffix(r.Question, "\nA. a\nB. b\nC. c\nD. d")
		for c, k := range calls {
			if strings.Contains(c, ctx) {
				matched++
				if k != 4 {
					t.Errorf("%s: %d requests, want 4 (scored once)", r.ID, k)
				}
			}
		}
	}
	if matched != len(before) {
		t.Errorf("matched %d prompts to %d queries scored before the kill", matched, len(before))
	}
}

// --request-timeout bounds one API request: a server that hangs on the first
// request costs that long plus a backoff, not the 60 s default.
func TestScoreAPIRequestTimeout(t *testing.T) {
	bin := binary(t)
	var calls atomic.Int64
	echo := echoServer(t, func(ctx, opt string) float64 { return -1 })
	defer echo.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			// The body read first: only then does the server notice the
			// client hanging up and cancel r.Context().
			io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
			return
		}
		echo.Config.Handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	rows := filepath.Join(dir, "rows.jsonl")
	os.WriteFile(rows, []byte(`{"question": "Q1?", "choices": ["a", "b", "c", "d"], "answer": 1}`+"\n"), 0o644)
	out := filepath.Join(dir, "m.jsonl")
	start := time.Now()
	_, stderr, err := run(t, bin, "", "score", "api", "--endpoint", srv.URL, "--llm", "org/m", "--task", "MMLU", "--input", rows,
		"--out", out, "--mc-method", "echo", "--request-timeout", "300ms")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("took %v with a 300ms request timeout", el)
	}
	if recs, err := score.ReadRecords(out); err != nil || len(recs) != 1 || calls.Load() != 5 {
		t.Errorf("records %+v, %v, %d requests (want 1 record, 4 options + 1 timed out)", recs, err, calls.Load())
	}
	if _, stderr, err := run(t, bin, "", "score", "api", "--endpoint", srv.URL, "--llm", "org/m", "--task", "MMLU", "--input", rows,
		"--out", filepath.Join(dir, "n.jsonl"), "--request-timeout", "0s"); err == nil || !strings.Contains(stderr, "request-timeout") {
		t.Errorf("--request-timeout 0s: %v %q, want a refusal naming it", err, stderr)
	}
}

// Ctrl-C stops `score api` with the results file consistent and says how
// many queries are saved and that rerunning the command continues; the
// rerun says how many it resumes.
func TestScoreAPIInterrupted(t *testing.T) {
	bin := binary(t)
	srv := echoServer(t, func(ctx, opt string) float64 {
		time.Sleep(20 * time.Millisecond)
		return -1
	})
	defer srv.Close()
	args, out := slowScoreArgs(t, srv.URL)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "ROUTERDC_QUIET=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(out)
		if strings.Count(string(b), "\n") >= 3 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no progress before the deadline")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err == nil {
		t.Fatal("interrupted run exited 0")
	}
	saved, err := score.ReadRecords(out)
	if err != nil || len(saved) >= slowRows {
		t.Fatalf("%d records after Ctrl-C, %v; the test needs a slower server", len(saved), err)
	}
	if want := fmt.Sprintf("%d of %d queries are saved in %s; rerun the same command to continue", len(saved), slowRows, out); !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
	_, rerr, err := run(t, bin, "", args...)
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, rerr)
	}
	if want := fmt.Sprintf("resuming %s: %d of %d queries already scored, 0 torn records dropped", out, len(saved), slowRows); !strings.Contains(rerr, want) {
		t.Errorf("rerun stderr %q, want %q", rerr, want)
	}
}

// slowRows is how many questions slowScoreArgs writes.
const slowRows = 30

// slowScoreArgs writes slowRows MMLU questions and returns the `score api`
// arguments that score them against endpoint, two at a time, into the
// returned results file.
func slowScoreArgs(t *testing.T, endpoint string) (args []string, out string) {
	t.Helper()
	dir := t.TempDir()
	var rows strings.Builder
	for i := range slowRows {
		fmt.Fprintf(&rows, `{"question": "Question number %d?", "choices": ["a", "b", "c", "d"], "answer": 0}`+"\n", i)
	}
	input := filepath.Join(dir, "rows.jsonl")
	if err := os.WriteFile(input, []byte(rows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(dir, "m.jsonl")
	return []string{"score", "api", "--endpoint", endpoint, "--llm", "org/m", "--task", "MMLU", "--input", input,
		"--out", out, "--mc-method", "echo", "--concurrency", "2"}, out
}
