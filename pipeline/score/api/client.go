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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrAuth is returned (wrapped) on HTTP 401/403: every later request would
// fail the same way, so the run stops at once instead of retrying.
var ErrAuth = errors.New("authentication failed: check --api-key / OPENAI_API_KEY")

// maxRetryAfter bounds a server's Retry-After so that a bogus date cannot
// stall a run for hours.
const maxRetryAfter = 5 * time.Minute

// maxBody bounds a response body; echoed prompts with logprobs are the
// largest responses and stay far below it.
const maxBody = 64 << 20

// httpError is a non-200 answer.
type httpError struct {
	Status     int
	Msg        string
	URL        string
	RetryAfter time.Duration
}

func (e *httpError) Error() string {
	return fmt.Sprintf("HTTP %d from %s: %s", e.Status, e.URL, e.Msg)
}

// malformedError is a 200 answer that is not the JSON we need; proxies that
// cut a response short produce these, so they are retried a few times.
type malformedError struct {
	Err  error
	Body string
}

func (e *malformedError) Error() string {
	return fmt.Sprintf("malformed JSON response: %v (body starts %q)", e.Err, e.Body)
}

// response covers both /v1/completions and /v1/chat/completions answers.
type response struct {
	Choices []choice `json:"choices"`
}

type choice struct {
	Index   int    `json:"index"`
	Text    string `json:"text"`
	Message *struct {
		Content string `json:"content"`
	} `json:"message"`
	Logprobs *logprobs `json:"logprobs"`
}

// logprobs holds the legacy completions layout (vLLM, OpenAI) and the chat
// layout (content), which llama.cpp also uses for completions.
type logprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []*float64           `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
	Content       []struct {
		Token       string  `json:"token"`
		Logprob     float64 `json:"logprob"`
		TopLogprobs []struct {
			Token   string  `json:"token"`
			Logprob float64 `json:"logprob"`
		} `json:"top_logprobs"`
	} `json:"content"`
}

// client posts JSON to an OpenAI-compatible server, retrying what is
// transient (429, 5xx, timeouts, broken connections, truncated JSON).
type client struct {
	http             *http.Client
	base             string // scheme://host[:port][/prefix], without /v1
	key              string
	timeout          time.Duration
	maxRetries       int
	malformedRetries int
	backoffBase      time.Duration
	backoffMax       time.Duration
	onRetry          func()

	rngMu sync.Mutex
	rng   *rand.Rand

	retries  atomic.Int64
	requests atomic.Int64
}

// post sends body to path and decodes the answer into out. id names the
// query in errors.
func (c *client) post(ctx context.Context, id, path string, body any, out *response) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	malformed := 0
	for attempt := 0; ; attempt++ {
		err := c.once(ctx, path, payload, out)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var (
			he    *httpError
			me    *malformedError
			wait  time.Duration
			retry bool
		)
		switch {
		case errors.As(err, &he):
			if he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden {
				return fmt.Errorf("%w (HTTP %d from %s: %s)", ErrAuth, he.Status, he.URL, he.Msg)
			}
			retry = (he.Status == http.StatusTooManyRequests || he.Status >= 500) && !refusal(err)
			wait = he.RetryAfter
		case errors.As(err, &me):
			malformed++
			retry = malformed <= c.malformedRetries
		default:
			// Timeouts, refused or reset connections: the server may be
			// restarting or overloaded.
			retry = true
		}
		if !retry || attempt >= c.maxRetries {
			if me != nil {
				return fmt.Errorf("query %s: %s%s, %d attempts: %w", id, c.base, path, attempt+1, err)
			}
			if retry {
				return fmt.Errorf("query %s: giving up after %d attempts: %w", id, attempt+1, err)
			}
			return fmt.Errorf("query %s: %w", id, err)
		}
		if wait == 0 {
			wait = c.backoff(attempt)
		}
		c.retries.Add(1)
		if c.onRetry != nil {
			c.onRetry()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// once is one attempt under the per-request timeout.
func (c *client) once(ctx context.Context, path string, payload []byte, out *response) error {
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	url := c.base + path
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	c.requests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		if rctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			return fmt.Errorf("POST %s: no answer within %s", url, c.timeout)
		}
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		if rctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			return fmt.Errorf("POST %s: answer not finished within %s", url, c.timeout)
		}
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return &httpError{Status: resp.StatusCode, Msg: errorMessage(body), URL: url,
			RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}
	*out = response{}
	if err := json.Unmarshal(body, out); err != nil {
		return &malformedError{Err: err, Body: head(body)}
	}
	if len(out.Choices) == 0 {
		return &malformedError{Err: errors.New("no choices"), Body: head(body)}
	}
	return nil
}

// backoff is base·2^attempt capped at max, with jitter in [d/2, d) so that
// workers that failed together do not retry together.
func (c *client) backoff(attempt int) time.Duration {
	d := c.backoffMax
	if attempt < 30 && c.backoffBase<<attempt < c.backoffMax {
		d = c.backoffBase << attempt
	}
	c.rngMu.Lock()
	j := c.rng.Int64N(int64(d/2) + 1)
	c.rngMu.Unlock()
	return d/2 + time.Duration(j)
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(v); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// refusal reports whether err says the server does not support what was
// asked (echo, n, logprobs), as opposed to a transient failure. llama.cpp
// answers "Only no echo is supported"; servers differ on the status code.
func refusal(err error) bool {
	var he *httpError
	if !errors.As(err, &he) {
		return false
	}
	switch he.Status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed,
		http.StatusUnprocessableEntity, http.StatusNotImplemented:
		return true
	}
	m := strings.ToLower(he.Msg)
	return strings.Contains(m, "not supported") || strings.Contains(m, "unsupported") ||
		strings.Contains(m, "only no echo")
}

// errorMessage pulls the message out of the error bodies servers send:
// {"error": {"message": ...}} (OpenAI, vLLM, llama.cpp), {"error": "..."}
// (Ollama), {"detail": ...} or {"message": ...} (FastAPI, proxies).
func errorMessage(body []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Detail  any             `json:"detail"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil {
		var obj struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(e.Error, &obj) == nil && obj.Message != "":
			return obj.Message
		case json.Unmarshal(e.Error, &s) == nil && s != "":
			return s
		case e.Message != "":
			return e.Message
		case e.Detail != nil:
			return fmt.Sprint(e.Detail)
		}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return "(empty body)"
	}
	return head(body)
}

func head(b []byte) string {
	const n = 200
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
