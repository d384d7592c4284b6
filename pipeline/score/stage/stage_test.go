package stage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/engine"
)

// mcLog writes an lm-eval v0.4.0-0.4.2 log (one JSON array) of two MMLU
// documents with the given option log-likelihoods.
func mcLog(t *testing.T, dir, name string, lls [2][4]float64) {
	t.Helper()
	var docs []map[string]any
	qs := []string{"Which gas do plants absorb?", "What is 2+2?"}
	for i := range 2 {
		var args, resps []any
		for j, l := range []string{" A", " B", " C", " D"} {
			args = append(args, []any{"ctx\nAnswer:", l})
			resps = append(resps, []any{[]any{lls[i][j], false}})
		}
		docs = append(docs, map[string]any{
			"doc_id": i, "target": 1, "arguments": args, "resps": resps, "filtered_resps": resps,
			"doc": map[string]any{"question": qs[i], "choices": []string{"w", "x", "y", "z"}, "answer": 1},
		})
	}
	b, _ := json.Marshal(docs)
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// softmaxScore is RouterDC's multiple-choice score, computed here
// independently of the answer package.
func softmaxScore(ll [4]float64, target int) float64 {
	best := 0
	for j := range ll {
		if ll[j] > ll[best] {
			best = j
		}
	}
	if best != target {
		return 0
	}
	var z float64
	for _, v := range ll {
		z += math.Exp(v)
	}
	return math.Exp(ll[target]) / z
}

const decl = `
name: two-llms
kind: scores
out: datasets
llms: [org/b, org/a]
sources:
  - {llm: org/a, task: MMLU, from: lm-eval, files: [a.json]}
  - {llm: org/b, task: MMLU, from: lm-eval, files: [b.json]}
datasets:
  - {task: MMLU, file: mmlu_test.json}
`

func TestDeclaredStage(t *testing.T) {
	dir := t.TempDir()
	a := [2][4]float64{{-2.3, -0.25, -3.1, -4.0}, {-1, -2, -3, -4}}
	b := [2][4]float64{{-3, -0.1, -3, -3}, {-2, -0.5, -2, -2}}
	mcLog(t, dir, "a.json", a)
	mcLog(t, dir, "b.json", b)
	path := filepath.Join(dir, "scores.yaml")
	if err := os.WriteFile(path, []byte(decl), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	store, err := cache.Open(filepath.Join(dir, "cache"), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	res, err := Run(context.Background(), d, Options{Cache: store})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scored != 2 || res.Cached != 0 || len(res.Written) != 1 {
		t.Fatalf("first run: %+v", res)
	}
	ds, err := data.Load(res.Written[0])
	if err != nil {
		t.Fatal(err)
	}
	// The declared order (b before a), not the sources' order.
	if strings.Join(ds.LLMs, ",") != "org/b,org/a" || len(ds.Queries) != 2 {
		t.Fatalf("dataset LLMs %v, %d queries", ds.LLMs, len(ds.Queries))
	}
	for i, q := range ds.Queries {
		want := []float64{softmaxScore(b[i], 1), softmaxScore(a[i], 1)}
		for j := range want {
			if math.Abs(q.Scores[j]-want[j]) > 1e-12 {
				t.Errorf("query %d LLM %d: score %v, want %v", i, j, q.Scores[j], want[j])
			}
		}
	}
	if !strings.HasSuffix(ds.Queries[1].Question, "\nA. w\nB. x\nC. y\nD. z") {
		t.Errorf("question not in the paper's MMLU format: %q", ds.Queries[1].Question)
	}
	first, _ := os.ReadFile(res.Written[0])

	// A second run takes everything from the cache and writes the same bytes.
	res, err = Run(context.Background(), d, Options{Cache: store})
	if err != nil || res.Scored != 0 || res.Cached != 2 {
		t.Fatalf("warm run: %+v, %v", res, err)
	}
	if again, _ := os.ReadFile(res.Written[0]); !bytes.Equal(first, again) {
		t.Error("warm run changed the dataset")
	}

	// Changing one LLM's log reruns that source only.
	a[1] = [4]float64{-3, -1, -2, -5}
	mcLog(t, dir, "a.json", a)
	res, err = Run(context.Background(), d, Options{Cache: store})
	if err != nil || res.Scored != 1 || res.Cached != 1 {
		t.Fatalf("after changing a.json: %+v, %v", res, err)
	}
	ds, _ = data.Load(res.Written[0])
	if got, want := ds.Queries[1].Scores[1], softmaxScore(a[1], 1); math.Abs(got-want) > 1e-12 {
		t.Errorf("changed score %v, want %v", got, want)
	}

	// --dry-run says what is cached and runs nothing.
	var plan bytes.Buffer
	if _, err := Run(context.Background(), d, Options{Cache: store, DryRun: true, DryRunOut: &plan}); err != nil {
		t.Fatal(err)
	}
	// Plan lines end in their state; stage docs may say "cached" too.
	if n := len(regexp.MustCompile(`(?m)  cached$`).FindAllString(plan.String(), -1)); n != 3 || strings.Contains(plan.String(), "would run") {
		t.Errorf("dry run plan:\n%s", plan.String())
	}
	// The keys the plan prints are the keys of the entries the run used.
	for stage, n := range map[string]int{"score": 2, "merge": 1} {
		keys := engine.PlannedKeys(plan.String(), stage)
		if len(keys) != n {
			t.Errorf("plan names %d %s keys, want %d:\n%s", len(keys), stage, n, plan.String())
		}
		for _, k := range keys {
			if m, _ := filepath.Glob(filepath.Join(store.Dir, stage, k[:2], k+"*", "entry.json")); len(m) != 1 {
				t.Errorf("plan's %s key %s is not an entry of the run", stage, k)
			}
		}
	}
}

func TestStageRefusesHoles(t *testing.T) {
	dir := t.TempDir()
	mcLog(t, dir, "a.json", [2][4]float64{{-2, -1, -3, -4}, {-2, -1, -3, -4}})
	// b scores only the first document.
	var docs []map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, "a.json"))
	json.Unmarshal(b, &docs)
	one, _ := json.Marshal(docs[:1])
	os.WriteFile(filepath.Join(dir, "b.json"), one, 0o644)
	path := filepath.Join(dir, "scores.yaml")
	os.WriteFile(path, []byte(decl), 0o644)
	d, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), d, Options{})
	if err == nil || !strings.Contains(err.Error(), "org/b") || !strings.Contains(err.Error(), "MMLU/1") {
		t.Fatalf("holes: %v, want an error naming the LLM and the query", err)
	}
	fill := 0.0
	d.Datasets[0].Fill = &fill
	res, err := Run(context.Background(), d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := data.Load(res.Written[0])
	if ds.Queries[1].Scores[0] != 0 {
		t.Errorf("filled score %v, want 0", ds.Queries[1].Scores[0])
	}
}

func TestDeclErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"name: x\nkind: scores\nout: o\nllms: [a]\nsources: [{llm: a, task: MMLU, from: lm-eval, files: [f]}]\ndatasets: [{task: MMLU, file: m.json}]\nextra: 1\n", `line 7: declaration: unknown key "extra"`},
		{"name: x\nkind: scores\nout: o\nllms: [a]\nsources:\n  - {llm: a, task: MMLU, from: lm-eval, fils: [f]}\ndatasets: [{task: MMLU, file: m.json}]\n", `line 6: sources[]: unknown key "fils"`},
		{"name: x\nkind: scores\nout: o\nllms: [a]\nsources:\n  - {llm: b, task: MMLU, from: lm-eval, files: [f]}\ndatasets: [{task: MMLU, file: m.json}]\n", `llm "b" is not in "llms"`},
		{"name: x\nkind: scores\nout: o\nllms: [a]\nsources:\n  - {llm: a, task: Poetry, from: lm-eval, files: [f]}\ndatasets: [{task: MMLU, file: m.json}]\n", `"task"`},
		{"name: x\nkind: scores\nout: o\nllms: [a]\nsources:\n  - {llm: a, task: HumanEval, from: bigcode, problems: p, generations: g, references: r}\ndatasets: [{task: HumanEval, file: h.json}]\n", `execute: true`},
		{"name: x\nkind: scores\nout: o\nllms: [a]\nsources:\n  - {llm: a, task: MMLU, from: api, input: rows.json}\ndatasets: [{task: MMLU, file: m.json}]\n", `"endpoint"`},
		{"name: x\nkind: scores\nout: o\nllms: [a, a]\nsources:\n  - {llm: a, task: MMLU, from: lm-eval, files: [f]}\ndatasets: [{task: MMLU, file: m.json}]\n", `listed twice`},
		{"name: x\nkind: scores\nout: o\nllms: [a]\nsources:\n  - {llm: a, task: MMLU, from: lm-eval, files: [f]}\ndatasets: [{task: MMLU, file: ../m.json}]\n", `relative path under "out"`},
	} {
		_, err := Parse("d.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "d.yaml: ") {
			t.Errorf("got %v, want an error with %q", err, c.want)
		}
	}
	if !IsDecl([]byte("kind: scores\n")) || IsDecl([]byte("kind: sweep\n")) {
		t.Error("IsDecl")
	}
}

// An API source in a declaration: scored through a local OpenAI-style
// server, resumable under the cache's partial area, cached once complete.
// echoServer is a vLLM-style completions server that echoes option
// log-likelihoods by the option's letter (B is the argmax); from the call
// fail says true for on, it answers 401.
func echoServer(fail func(call int64) bool) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	lls := map[string]float64{" A": -2, " B": -0.5, " C": -3, " D": -4}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Prompt string `json:"prompt"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		if n := calls.Add(1); fail != nil && fail(n) {
			http.Error(w, `{"error": {"message": "bad key"}}`, http.StatusUnauthorized)
			return
		}
		opt := req.Prompt[len(req.Prompt)-2:]
		ctx := req.Prompt[:len(req.Prompt)-2]
		fmt.Fprintf(w, `{"choices":[{"text":%q,"logprobs":{"tokens":[%q,%q],"token_logprobs":[null,%v],"text_offset":[0,%d]}}]}`,
			req.Prompt, ctx, opt, lls[opt], len(ctx))
	}))
	return srv, &calls
}

func TestAPISource(t *testing.T) {
	srv, calls := echoServer(nil)
	defer srv.Close()
	dir := t.TempDir()
	rows := `{"question": "Q1?", "choices": ["a", "b", "c", "d"], "answer": 1}
{"question": "Q2?", "choices": ["a", "b", "c", "d"], "answer": 0}
`
	os.WriteFile(filepath.Join(dir, "rows.jsonl"), []byte(rows), 0o644)
	y := fmt.Sprintf("name: api\nkind: scores\nout: out\nllms: [m]\nsources:\n  - {llm: m, task: MMLU, from: api, endpoint: %q, input: rows.jsonl, mc_method: echo}\ndatasets: [{task: MMLU, file: mmlu.json}]\n", srv.URL)
	d, err := Parse(filepath.Join(dir, "d.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	store, err := cache.Open(filepath.Join(dir, "cache"), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	res, err := Run(context.Background(), d, Options{Cache: store})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(res.Written[0])
	if err != nil {
		t.Fatal(err)
	}
	z := math.Exp(-2) + math.Exp(-0.5) + math.Exp(-3) + math.Exp(-4)
	// Q1's gold is B, the argmax: p(B). Q2's gold is A, not the argmax: 0.
	want := []float64{math.Exp(-0.5) / z, 0}
	for i, q := range ds.Queries {
		if math.Abs(q.Scores[0]-want[i]) > 1e-9 {
			t.Errorf("query %d: %v, want %v", i, q.Scores[0], want[i])
		}
	}
	if n := calls.Load(); n != 8 {
		t.Errorf("%d requests, want 8 (2 queries x 4 options)", n)
	}
	if _, err := Run(context.Background(), d, Options{Cache: store}); err != nil || calls.Load() != 8 {
		t.Errorf("warm run sent requests (%d) or failed: %v", calls.Load(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(store.Dir, "partial", "score-*")); len(left) != 0 {
		t.Errorf("partial results left behind: %v", left)
	}
}

func TestEveryDatasetHasEveryLLM(t *testing.T) {
	y := "name: x\nkind: scores\nout: o\nllms: [a, b]\nsources:\n  - {llm: a, task: MMLU, from: lm-eval, files: [f]}\n  - {llm: b, task: GSM8K, from: lm-eval, files: [g]}\ndatasets:\n  - {task: MMLU, file: m.json}\n"
	_, err := Parse("d.yaml", []byte(y))
	if err == nil || !strings.Contains(err.Error(), "no source scores b on MMLU") {
		t.Fatalf("got %v, want an error naming the LLM and task without a source", err)
	}
}

// lm-eval writes one log per MMLU subject: several sources of one LLM on one
// task are one column of the dataset.
func TestSubjectSources(t *testing.T) {
	dir := t.TempDir()
	mcLog(t, dir, "anat.json", [2][4]float64{{-2, -1, -3, -4}, {-2, -1, -3, -4}})
	mcLog(t, dir, "astro.json", [2][4]float64{{-1, -2, -3, -4}, {-2, -1, -3, -4}})
	y := `name: subjects
kind: scores
out: out
llms: [a]
sources:
  - {llm: a, task: mmlu_anatomy, from: lm-eval, files: [anat.json]}
  - {llm: a, task: mmlu_astronomy, from: lm-eval, files: [astro.json]}
datasets: [{task: MMLU, file: mmlu.json}]
`
	d, err := Parse(filepath.Join(dir, "d.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(res.Written[0])
	if err != nil || len(ds.Queries) != 4 {
		t.Fatalf("%v queries, %v; want 2 subjects x 2 documents", ds, err)
	}
	// astronomy's first document has argmax A, not the target B: 0.
	if ds.Queries[2].Scores[0] != 0 || ds.Queries[0].Scores[0] == 0 {
		t.Errorf("scores %v %v", ds.Queries[0].Scores, ds.Queries[2].Scores)
	}
}

func TestKeyNormalises(t *testing.T) {
	dir := t.TempDir()
	mcLog(t, dir, "a.json", [2][4]float64{{-2, -1, -3, -4}, {-2, -1, -3, -4}})
	mcLog(t, dir, "copy.json", [2][4]float64{{-2, -1, -3, -4}, {-2, -1, -3, -4}})
	key := func(s Source) string {
		k, err := Key(s)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := Source{LLM: "m", Task: "MMLU", From: FromLMEval, Files: []string{filepath.Join(dir, "a.json")}}
	same := []Source{base, base, base}
	same[1].Task = "mmlu"
	same[2].Files = []string{filepath.Join(dir, "copy.json")} // same content elsewhere
	for i, s := range same {
		if key(s) != key(base) {
			t.Errorf("variant %d changes the key", i)
		}
	}
	mcLog(t, dir, "copy.json", [2][4]float64{{-2, -1, -3, -4}, {-1, -2, -3, -4}})
	if key(same[2]) == key(base) {
		t.Error("changed file content keeps the key")
	}
	api := Source{LLM: "m", Task: "GSM8K", From: FromAPI, Endpoint: "http://a:1", Input: filepath.Join(dir, "a.json")}
	explicit := api
	explicit.Samples, explicit.MaxTokens, explicit.Endpoint, explicit.Concurrency, explicit.Mode = 10, 512, "http://b:2", 16, "normalized"
	if key(api) != key(explicit) {
		t.Error("defaults spelled out, another endpoint or concurrency change the key")
	}
	explicit.Samples = 5
	if key(api) == key(explicit) {
		t.Error("samples do not enter the key")
	}
}

// TestDamagedAPIResumeSaysHowToRecover: a resume file damaged in the middle
// (not a torn last line) stops the run with the directory to delete,
// instead of promising that a rerun resumes.
func TestDamagedAPIResumeSaysHowToRecover(t *testing.T) {
	var fixed atomic.Bool
	srv, _ := echoServer(func(call int64) bool { return !fixed.Load() && call > 4 }) // the second query fails
	defer srv.Close()
	dir := t.TempDir()
	rows := "{\"question\": \"Q1?\", \"choices\": [\"a\", \"b\", \"c\", \"d\"], \"answer\": 1}\n" +
		"{\"question\": \"Q2?\", \"choices\": [\"a\", \"b\", \"c\", \"d\"], \"answer\": 0}\n"
	os.WriteFile(filepath.Join(dir, "rows.jsonl"), []byte(rows), 0o644)
	y := fmt.Sprintf("name: api\nkind: scores\nout: out\nllms: [m]\nsources:\n  - {llm: m, task: MMLU, from: api, endpoint: %q, input: rows.jsonl, mc_method: echo, concurrency: 1}\ndatasets: [{task: MMLU, file: mmlu.json}]\n", srv.URL)
	d, err := Parse(filepath.Join(dir, "d.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	store, err := cache.Open(filepath.Join(dir, "cache"), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := Run(context.Background(), d, Options{Cache: store}); err == nil || !strings.Contains(err.Error(), "a rerun resumes") {
		t.Fatalf("first run: %v, want the 401 with the resume hint", err)
	}
	results, _ := filepath.Glob(filepath.Join(store.Dir, "partial", "score-*", "results.jsonl"))
	if len(results) != 1 {
		t.Fatalf("resume files: %v", results)
	}
	b, _ := os.ReadFile(results[0])
	os.WriteFile(results[0], append([]byte("{damaged\n"), b...), 0o644)
	fixed.Store(true)
	_, err = Run(context.Background(), d, Options{Cache: store})
	if err == nil || !strings.Contains(err.Error(), "delete "+filepath.Dir(results[0])) || strings.Contains(err.Error(), "a rerun resumes") {
		t.Errorf("damaged resume file: %v", err)
	}
}

// TestSourceCost: a source's cost per query is recorded with each score and
// the merged dataset carries every LLM's costs.
func TestSourceCost(t *testing.T) {
	dir := t.TempDir()
	mcLog(t, dir, "a.json", [2][4]float64{{-1, -0.5, -2, -3}, {-1, -2, -3, -4}})
	mcLog(t, dir, "b.json", [2][4]float64{{-2, -0.1, -2, -3}, {-1, -0.2, -3, -4}})
	y := `name: priced
kind: scores
out: out
llms: [org/a, org/b]
sources:
  - {llm: org/a, task: MMLU, from: lm-eval, files: [a.json], cost: 0.0002}
  - {llm: org/b, task: MMLU, from: lm-eval, files: [b.json], cost: 0.003}
datasets: [{task: MMLU, file: mmlu.json}]
`
	d, err := Parse(filepath.Join(dir, "d.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(res.Written[0])
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range ds.Queries {
		if len(q.Costs) != 2 || q.Costs[0] != 0.0002 || q.Costs[1] != 0.003 {
			t.Errorf("query %d costs %v, want [0.0002 0.003]", i, q.Costs)
		}
	}
	if _, err := Parse("d.yaml", []byte(strings.Replace(y, "cost: 0.003", "cost: -1", 1))); err == nil {
		t.Error("a negative cost accepted")
	}
}
