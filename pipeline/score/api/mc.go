package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/routerdc-go/routerdc/pipeline/score"
)

// Multiple-choice methods (Options.MCMethod).
const (
	MCAuto       = "auto"
	MCEcho       = "echo"
	MCFirstToken = "first-token"
)

// errNoEcho marks a 200 answer without prompt logprobs: the server ignored
// echo (Ollama does) rather than refusing it.
var errNoEcho = errors.New("the server returned no prompt log-probabilities for echo")

// mcScore is RouterDC's multiple-choice score: softmax(ll)[target] when the
// argmax option (first one on ties) is the target, else 0. All options at
// -Inf (no letter among the top logprobs) leaves no answer: 0.
func mcScore(ll []float64, target int) float64 {
	best := 0
	for i, v := range ll {
		if v > ll[best] {
			best = i
		}
	}
	if best != target || math.IsInf(ll[best], -1) {
		return 0
	}
	var sum float64
	for _, v := range ll {
		sum += math.Exp(v - ll[best])
	}
	return 1 / sum
}

// scoreMC picks the method, settling "auto" on the first query that gets an
// answer either way.
func (s *scorer) scoreMC(ctx context.Context, q score.Query) (float64, error) {
	var ll []float64
	err := s.mc.run(func(known string) (string, error) {
		var err error
		switch known {
		case MCEcho:
			ll, err = s.echoLL(ctx, q)
			return "", err
		case MCFirstToken:
			ll, err = s.firstTokenLL(ctx, q)
			return "", err
		}
		ll, err = s.echoLL(ctx, q)
		if err == nil {
			return MCEcho, nil
		}
		if !errors.Is(err, errNoEcho) && !refusal(err) {
			return "", err
		}
		ll, err = s.firstTokenLL(ctx, q)
		if err != nil {
			return "", err
		}
		return MCFirstToken, nil
	})
	if err != nil {
		return 0, err
	}
	return mcScore(ll, q.Target), nil
}

// echoLL scores each option by the summed log-probability of its tokens
// given the prompt, as lm-eval does: one echo request per option, always on
// /v1/completions (chat has no echo of arbitrary text).
func (s *scorer) echoLL(ctx context.Context, q score.Query) ([]float64, error) {
	ll := make([]float64, len(q.Options))
	for i, opt := range q.Options {
		req := map[string]any{
			"model": s.model, "prompt": q.Prompt + opt, "max_tokens": 0,
			"echo": true, "logprobs": 1, "temperature": 0,
		}
		var r response
		if err := s.c.post(ctx, q.ID, "/v1/completions", req, &r); err != nil {
			return nil, err
		}
		lp := r.Choices[0].Logprobs
		if lp == nil || len(lp.TokenLogprobs) == 0 || len(lp.TextOffset) != len(lp.TokenLogprobs) {
			return nil, fmt.Errorf("query %s: %w", q.ID, errNoEcho)
		}
		v, err := continuationLL(lp, q.Prompt, opt)
		if err != nil {
			return nil, fmt.Errorf("query %s option %d %q: %w", q.ID, i, opt, err)
		}
		ll[i] = v
	}
	return ll, nil
}

// continuationLL sums token_logprobs of the tokens that start inside the
// option. For ASCII text, text_offset is a byte offset on every server and
// the option spans [len(prompt), len(prompt+option)); tokens at or past the
// end were generated, not echoed. vLLM counts offsets in decoded characters
// of each token (a character split across tokens counts once per piece), so
// for other text the option is located from the end of the echoed tokens.
func continuationLL(lp *logprobs, prompt, opt string) (float64, error) {
	lo, hi := len(prompt), len(prompt)+len(opt)
	if !isASCII(prompt + opt) {
		last := len(lp.TextOffset) - 1
		if len(lp.Tokens) != len(lp.TextOffset) {
			return 0, errors.New("non-ASCII prompt needs the tokens list to place the option")
		}
		hi = lp.TextOffset[last] + utf8.RuneCountInString(lp.Tokens[last])
		lo = hi - utf8.RuneCountInString(opt)
	}
	var sum float64
	n := 0
	for i, off := range lp.TextOffset {
		if off < lo || off >= hi {
			continue
		}
		if lp.TokenLogprobs[i] == nil {
			return 0, fmt.Errorf("token %d has no log-probability", i)
		}
		sum += *lp.TokenLogprobs[i]
		n++
	}
	if n == 0 {
		// The tokenizer merged the option's start with the prompt's end
		// (e.g. a prompt ending in a space before "A"): no token is the
		// option's own.
		return 0, errors.New("no echoed token starts inside the option; it shares a token with the prompt")
	}
	return sum, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// firstTokenLL reads the options' letters among the top log-probabilities
// of the first generated token, for servers that cannot echo. An option
// matches its text or its text without spaces (chat models answer "A", base
// models " A"), keeping the larger; a letter not in the top list is -Inf.
func (s *scorer) firstTokenLL(ctx context.Context, q score.Query) ([]float64, error) {
	// Only a one-letter answer is decided by the first token: options that
	// are answer texts (ARC-C) would all be -Inf and score 0 silently.
	for _, opt := range q.Options {
		if t := strings.TrimSpace(opt); len([]rune(t)) != 1 {
			return nil, fmt.Errorf("query %s: option %q is not a letter: first-token scoring only works for letter choices "+
				"(MMLU, CMMLU, C-Eval); this task needs a server that echoes prompt log-probabilities (vLLM)", q.ID, opt)
		}
	}
	var (
		path string
		req  map[string]any
	)
	if s.opt.Chat {
		path = "/v1/chat/completions"
		req = map[string]any{
			"model": s.model, "messages": messages(q.Prompt), "max_tokens": 1, "temperature": 0,
			"logprobs": true, "top_logprobs": s.opt.TopLogprobs,
		}
	} else {
		path = "/v1/completions"
		req = map[string]any{
			"model": s.model, "prompt": q.Prompt, "max_tokens": 1, "temperature": 0,
			"logprobs": s.opt.TopLogprobs,
		}
	}
	var r response
	if err := s.c.post(ctx, q.ID, path, req, &r); err != nil {
		return nil, err
	}
	top := topLogprobs(r.Choices[0].Logprobs)
	// The sampled token alone is no distribution: it would score 1 or 0.
	if len(top) < 2 {
		return nil, fmt.Errorf("query %s: %s returned no top log-probabilities; the server cannot score multiple choice this way", q.ID, path)
	}
	ll := make([]float64, len(q.Options))
	for i, opt := range q.Options {
		ll[i] = math.Inf(-1)
		bare := strings.TrimSpace(opt)
		for _, v := range []string{opt, bare, " " + bare} {
			if lp, ok := top[v]; ok && lp > ll[i] {
				ll[i] = lp
			}
		}
	}
	return ll, nil
}

// topLogprobs flattens the first position's alternatives, in either layout,
// including the sampled token itself.
func topLogprobs(lp *logprobs) map[string]float64 {
	if lp == nil {
		return nil
	}
	top := map[string]float64{}
	put := func(tok string, v float64) {
		if old, ok := top[tok]; !ok || v > old {
			top[tok] = v
		}
	}
	if len(lp.Content) > 0 {
		c := lp.Content[0]
		put(c.Token, c.Logprob)
		for _, t := range c.TopLogprobs {
			put(t.Token, t.Logprob)
		}
		return top
	}
	if len(lp.TopLogprobs) > 0 {
		for tok, v := range lp.TopLogprobs[0] {
			put(tok, v)
		}
	}
	if len(lp.Tokens) > 0 && len(lp.TokenLogprobs) > 0 && lp.TokenLogprobs[0] != nil {
		put(lp.Tokens[0], *lp.TokenLogprobs[0])
	}
	return top
}

func messages(prompt string) []map[string]string {
	return []map[string]string{{"role": "user", "content": prompt}}
}
