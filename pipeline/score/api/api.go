// Package api scores a served LLM through an OpenAI-compatible HTTP API
// (vLLM, llama.cpp server, Ollama) and writes one score.Record per query.
//
// Multiple-choice queries are scored from option log-likelihoods (echo on
// /v1/completions, vLLM) or, where the server cannot echo, from the top
// log-probabilities of the first generated token. Open-ended queries are
// sampled M times and scored by the caller's Checker.
//
// Results are appended to Options.Out as each query finishes, so a killed
// or cancelled run resumes where it stopped. While a run is going the
// file's order is completion order; once every query is scored Run rewrites
// it in input order (SortResults).
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofrs/flock"
	"github.com/schollz/progressbar/v3"

	"github.com/routerdc-go/routerdc/pipeline/score"
)

// Checker scores one generated output (the generated text only, without
// the prompt) of query q: 0 or 1. For Code the caller passes a checker that
// executes the program.
type Checker func(q score.Query, output string) (float64, error)

// Options configure Run. Zero values take the defaults in brackets.
type Options struct {
	// Endpoint is the server's base URL, with or without a trailing /v1,
	// e.g. http://localhost:8000. Required.
	Endpoint string
	// LLM is the name written in the records ("org/model"). Required.
	LLM string
	// Model is the model name sent to the server [LLM].
	Model string
	// APIKey is sent as a Bearer token when not empty.
	APIKey string
	// Out is the JSON-lines results file, appended to and resumed. Required.
	Out string

	// Chat sends generation (and first-token multiple choice) to
	// /v1/chat/completions with the prompt as one user message, instead of
	// /v1/completions. Echo always uses /v1/completions.
	Chat bool
	// MCMethod is MCAuto, MCEcho or MCFirstToken [MCAuto: try echo on the
	// first multiple-choice query, fall back to first-token if refused].
	MCMethod string
	// TopLogprobs is how many alternatives first-token asks for [20, vLLM's
	// default cap].
	TopLogprobs int

	// Samples is M, the generations per open-ended query [10, as RouterDC].
	Samples int
	// UseN is NAuto, NYes or NNo [NAuto].
	UseN string
	// Temperature for generation [0.2]; a pointer so that 0 (greedy) can
	// be asked for.
	Temperature *float64
	// MaxTokens per generation [512].
	MaxTokens int
	// Seed is the first sampling seed (samples use Seed..Seed+M-1, or Seed
	// with n) and seeds the retry jitter [0].
	Seed int64

	// Concurrency is how many queries are in flight [4].
	Concurrency int
	// Timeout is the limit for one HTTP request [60s].
	Timeout time.Duration
	// MaxRetries is how many times a request is retried after 429, 5xx,
	// timeouts and connection errors [5]; negative means none.
	MaxRetries int
	// MalformedRetries is how many times a 200 answer that is not valid
	// JSON is retried [2]; negative means none.
	MalformedRetries int
	// BackoffBase and BackoffMax bound the exponential backoff between
	// retries [1s, 30s]; a Retry-After header takes precedence.
	BackoffBase, BackoffMax time.Duration
	// MaxFailures stops the run once that many queries have failed for
	// good, as something is then wrong with every query [10]; negative
	// means never stop.
	MaxFailures int

	// Fingerprint identifies everything that decides the scores (model,
	// sampling, answer checking, the input). It is kept beside Out in
	// Out+".settings" with the Options that decide the scores and Settings,
	// as readable "name: value" lines, and resuming a file made with other
	// ones is refused, naming what changed, so changed settings never reuse
	// old scores. With Fingerprint "" and no Settings nothing is checked.
	Fingerprint string
	// Settings are what decides the scores beyond these Options (the task,
	// answer checking, the input's checksum), kept and compared as above.
	Settings []Setting

	// Progress receives a progress bar; nil, or ROUTERDC_QUIET set in the
	// environment, shows none.
	Progress io.Writer
	// Log receives one-line notes (what a resumed run found); nil: none.
	Log io.Writer
	// HTTPClient replaces the run's own client, whose transport keeps
	// Concurrency idle connections to the server (timeouts come from Timeout).
	HTTPClient *http.Client
}

// Summary is what a run did.
type Summary struct {
	Total      int // distinct queries in the input
	Duplicates int // identical queries given more than once, scored once
	Skipped    int // already in the results file
	Scored     int // scored and written by this run
	Failed     int // gave up on; rerun to retry them
	Retries    int // HTTP retries
	Requests   int // HTTP requests sent
	// MCMethod and UseN are the methods used, once settled ("" if no query
	// needed them).
	MCMethod string
	UseN     string
	// Discarded is a partial last line from a killed run, dropped on open.
	Discarded string
	// Errors are the failed queries' errors, at most 10.
	Errors []error
}

const maxErrors = 10

func (o Options) withDefaults() (Options, error) {
	if o.Endpoint == "" || o.LLM == "" || o.Out == "" {
		return o, errors.New("api: Endpoint, LLM and Out are required")
	}
	u, err := url.Parse(o.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return o, fmt.Errorf("api: endpoint %q is not an http(s) URL", o.Endpoint)
	}
	o.Endpoint = strings.TrimSuffix(strings.TrimSuffix(o.Endpoint, "/"), "/v1")
	if o.Model == "" {
		o.Model = o.LLM
	}
	if o.MCMethod == "" {
		o.MCMethod = MCAuto
	}
	if o.MCMethod != MCAuto && o.MCMethod != MCEcho && o.MCMethod != MCFirstToken {
		return o, fmt.Errorf("api: MCMethod %q is not %q, %q or %q", o.MCMethod, MCAuto, MCEcho, MCFirstToken)
	}
	if o.UseN == "" {
		o.UseN = NAuto
	}
	if o.UseN != NAuto && o.UseN != NYes && o.UseN != NNo {
		return o, fmt.Errorf("api: UseN %q is not %q, %q or %q", o.UseN, NAuto, NYes, NNo)
	}
	if o.TopLogprobs <= 0 {
		o.TopLogprobs = 20
	}
	if o.Samples <= 0 {
		o.Samples = 10
	}
	if o.Temperature == nil {
		t := 0.2
		o.Temperature = &t
	}
	if *o.Temperature < 0 {
		return o, fmt.Errorf("api: negative temperature %v", *o.Temperature)
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = 512
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	o.MaxRetries = orDefault(o.MaxRetries, 5)
	o.MalformedRetries = orDefault(o.MalformedRetries, 2)
	if o.BackoffBase <= 0 {
		o.BackoffBase = time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 30 * time.Second
	}
	o.BackoffMax = max(o.BackoffMax, o.BackoffBase)
	if o.MaxFailures == 0 {
		o.MaxFailures = 10
	}
	if os.Getenv("ROUTERDC_QUIET") != "" {
		o.Progress = nil
	}
	return o, nil
}

// settings are what a results file is checked against on resume: the
// options that decide the scores (defaults applied, so that an omitted and
// an explicit default agree), the caller's Settings, then the fingerprint.
func (o Options) settings() []Setting {
	if o.Fingerprint == "" && len(o.Settings) == 0 {
		return nil
	}
	ss := []Setting{
		{"llm", o.LLM},
		{"model", o.Model},
		{"chat", strconv.FormatBool(o.Chat)},
		{"mc_method", o.MCMethod},
		{"top_logprobs", strconv.Itoa(o.TopLogprobs)},
		{"samples", strconv.Itoa(o.Samples)},
		{"use_n", o.UseN},
		{"temperature", strconv.FormatFloat(*o.Temperature, 'g', -1, 64)},
		{"max_tokens", strconv.Itoa(o.MaxTokens)},
		{"seed", strconv.FormatInt(o.Seed, 10)},
	}
	ss = append(ss, o.Settings...)
	if o.Fingerprint != "" {
		ss = append(ss, Setting{legacyFingerprint, o.Fingerprint})
	}
	return ss
}

// orDefault maps 0 to def and negative to 0.
func orDefault(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// capability remembers what the server turned out to support. Until it is
// known, queries needing it go one at a time, so that a refusal costs one
// request rather than one per worker.
type capability struct {
	mu    sync.Mutex
	state string // "" until known
}

// run calls f with the known state ("" if unknown); when unknown, f's
// result ("" if it found nothing) becomes the state.
func (c *capability) run(f func(known string) (string, error)) error {
	c.mu.Lock()
	if st := c.state; st != "" {
		c.mu.Unlock()
		_, err := f(st)
		return err
	}
	defer c.mu.Unlock()
	found, err := f("")
	if found != "" {
		c.state = found
	}
	return err
}

func (c *capability) get() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

type scorer struct {
	opt   Options
	model string
	c     *client
	check Checker
	mc, n capability
}

func (s *scorer) score(ctx context.Context, q score.Query) (float64, error) {
	if q.Kind == score.MultipleChoice {
		return s.scoreMC(ctx, q)
	}
	return s.scoreGen(ctx, q)
}

// Run scores the queries not yet in opt.Out and appends their records.
// Duplicate queries are scored once; the same id with a different query is
// an error. Per-query failures are counted and the run goes on (until
// MaxFailures); the returned error then says how many failed. Cancelling
// ctx stops the run with the file holding only complete records.
func Run(ctx context.Context, queries []score.Query, check Checker, opt Options) (Summary, error) {
	var sum Summary
	opt, err := opt.withDefaults()
	if err != nil {
		return sum, err
	}
	uniq, byID, dups, err := dedupe(queries, check)
	if err != nil {
		return sum, err
	}
	sum.Total, sum.Duplicates = len(uniq), dups

	if err := os.MkdirAll(filepath.Dir(opt.Out), 0o755); err != nil {
		return sum, err
	}
	lock := flock.New(opt.Out + ".lock")
	if ok, err := lock.TryLock(); err != nil {
		return sum, err
	} else if !ok {
		return sum, fmt.Errorf("%s is being written by another run (lock %s)", opt.Out, lock.Path())
	}
	defer lock.Unlock()
	if err := checkSettings(opt.Out, opt.settings()); err != nil {
		return sum, err
	}

	res, err := openResults(opt.Out, opt.LLM, byID)
	if err != nil {
		return sum, err
	}
	sum.Discarded = res.discarded
	var todo []score.Query
	for _, q := range uniq {
		if res.done[q.ID] {
			sum.Skipped++
		} else {
			todo = append(todo, q)
		}
	}
	if opt.Log != nil && (sum.Skipped > 0 || sum.Discarded != "") {
		// Only the last line can be torn: every record is one write.
		torn := "0 torn records dropped"
		if sum.Discarded != "" {
			torn = "1 torn record dropped (the last line, cut by a kill)"
		}
		fmt.Fprintf(opt.Log, "resuming %s: %d of %d queries already scored, %s\n", opt.Out, sum.Skipped, sum.Total, torn)
	}

	bar := newBar(opt.Progress, len(uniq), opt.LLM)
	if bar != nil {
		bar.Set(sum.Skipped)
	}
	s := &scorer{opt: opt, model: opt.Model, check: check}
	if opt.MCMethod != MCAuto {
		s.mc.state = opt.MCMethod
	}
	if opt.UseN != NAuto {
		s.n.state = opt.UseN
	}
	httpc := opt.HTTPClient
	if httpc == nil {
		httpc = newHTTPClient(opt.Concurrency)
		defer httpc.CloseIdleConnections()
	}
	s.c = &client{
		http: httpc, base: opt.Endpoint, key: opt.APIKey, timeout: opt.Timeout,
		maxRetries: opt.MaxRetries, malformedRetries: opt.MalformedRetries,
		backoffBase: opt.BackoffBase, backoffMax: opt.BackoffMax,
		rng: rand.New(rand.NewPCG(uint64(opt.Seed), 0x5eed)),
	}
	if bar != nil {
		s.c.onRetry = func() { bar.Describe(fmt.Sprintf("%s (retries %d)", opt.LLM, s.c.retries.Load())) }
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu     sync.Mutex
		fatal  error
		failed atomic.Int64
		scored atomic.Int64
	)
	stop := func(err error) {
		mu.Lock()
		if fatal == nil {
			fatal = err
		}
		mu.Unlock()
		cancel()
	}
	jobs := make(chan score.Query)
	go func() {
		defer close(jobs)
		for _, q := range todo {
			select {
			case jobs <- q:
			case <-runCtx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range min(opt.Concurrency, max(len(todo), 1)) {
		wg.Go(func() {
			for q := range jobs {
				v, err := s.score(runCtx, q)
				if err == nil {
					err = res.append(score.Record{ID: q.ID, Question: q.Question, Score: v, LLM: opt.LLM, Task: q.Task})
					if err != nil {
						stop(err)
						return
					}
					scored.Add(1)
					if bar != nil {
						bar.Add(1)
					}
					continue
				}
				switch {
				case runCtx.Err() != nil:
					return
				case errors.Is(err, ErrAuth):
					stop(err)
					return
				}
				n := failed.Add(1)
				mu.Lock()
				if len(sum.Errors) < maxErrors {
					sum.Errors = append(sum.Errors, err)
				}
				first := sum.Errors[0]
				mu.Unlock()
				if opt.MaxFailures > 0 && n >= int64(opt.MaxFailures) {
					stop(fmt.Errorf("stopping after %d failed queries; first: %w", n, first))
					return
				}
			}
		})
	}
	wg.Wait()
	if bar != nil {
		bar.Exit()
	}
	sum.Scored, sum.Failed = int(scored.Load()), int(failed.Load())
	sum.Retries, sum.Requests = int(s.c.retries.Load()), int(s.c.requests.Load())
	sum.MCMethod, sum.UseN = s.mc.get(), s.n.get()
	if err := res.close(); err != nil && fatal == nil {
		fatal = err
	}
	switch {
	case fatal != nil:
		return sum, fatal
	case ctx.Err() != nil:
		// Every finished query is in the file: say so, rather than a bare
		// "context canceled" that leaves the user wondering what is lost.
		return sum, fmt.Errorf("interrupted: %d of %d queries are saved in %s; rerun the same command to continue: %w",
			sum.Skipped+sum.Scored, sum.Total, opt.Out, ctx.Err())
	case sum.Failed > 0:
		return sum, fmt.Errorf("%d of %d queries failed (the others are saved; rerun to retry): %w",
			sum.Failed, sum.Total, errors.Join(sum.Errors...))
	}
	ids := make([]string, len(uniq))
	for i, q := range uniq {
		ids[i] = q.ID
	}
	return sum, SortResults(opt.Out, ids)
}

// newHTTPClient keeps an idle connection per worker. Go's default transport
// keeps 2 per host, so at concurrency 32 every burst of answers closed
// connections that the next requests had to open again (~200 TCP
// connections for 796 requests). MaxConnsPerHost makes a request wait for
// a connection its worker just released instead of dialing a new one when
// the release is still in flight (a race a loaded machine loses).
func newHTTPClient(concurrency int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = concurrency
	tr.MaxConnsPerHost = concurrency
	tr.MaxIdleConns = max(tr.MaxIdleConns, concurrency)
	return &http.Client{Transport: tr}
}

// dedupe drops repeated identical queries and rejects an id reused for a
// different query, which would otherwise get one score for two questions.
func dedupe(queries []score.Query, check Checker) ([]score.Query, map[string]score.Query, int, error) {
	byID := make(map[string]score.Query, len(queries))
	var uniq []score.Query
	dups := 0
	for i, q := range queries {
		if field, msg := checkQuery(q); msg != "" {
			return nil, nil, 0, fmt.Errorf("query %d (id %q): field %q: %s", i, q.ID, field, msg)
		}
		if q.Kind != score.MultipleChoice && check == nil {
			return nil, nil, 0, fmt.Errorf("query %s is %s: it needs a Checker", q.ID, q.Kind)
		}
		if old, ok := byID[q.ID]; ok {
			// JSON, not reflect.DeepEqual: a nil and an empty list are the same query.
			a, _ := json.Marshal(old)
			b, _ := json.Marshal(q)
			if !bytes.Equal(a, b) {
				msg := fmt.Sprintf("id %q is given twice with different queries", q.ID)
				if old.Question != q.Question {
					msg += fmt.Sprintf(" (question %q vs %q)", short(old.Question), short(q.Question))
				}
				return nil, nil, 0, errors.New(msg)
			}
			dups++
			continue
		}
		byID[q.ID] = q
		uniq = append(uniq, q)
	}
	if len(uniq) == 0 {
		return nil, nil, 0, errors.New("no queries")
	}
	return uniq, byID, dups, nil
}

func short(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "..."
	}
	return s
}

func newBar(w io.Writer, n int, llm string) *progressbar.ProgressBar {
	if w == nil {
		return nil
	}
	return progressbar.NewOptions(n, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(llm),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
}
