package api

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/routerdc-go/routerdc/pipeline/score"
)

// Sampling modes (Options.UseN).
const (
	NAuto = "auto" // try n = M once; fall back to M seeded requests if refused
	NYes  = "yes"  // always one request with n = M
	NNo   = "no"   // always M requests with seeds Seed..Seed+M-1
)

// scoreGen samples M answers and averages the checker over them.
func (s *scorer) scoreGen(ctx context.Context, q score.Query) (float64, error) {
	outs, err := s.samples(ctx, q)
	if err != nil {
		return 0, err
	}
	var sum float64
	for i, o := range outs {
		v, err := s.check(q, o)
		if err != nil {
			return 0, fmt.Errorf("query %s sample %d: checker: %w", q.ID, i, err)
		}
		if math.IsNaN(v) || v < 0 || v > 1 {
			return 0, fmt.Errorf("query %s sample %d: checker returned %v, not in [0, 1]", q.ID, i, v)
		}
		sum += v
	}
	return sum / float64(len(outs)), nil
}

// samples returns exactly Samples generations, settling "auto" on the
// first query answered either way. Servers that ignore n (Ollama) answer
// with one choice, which counts as a refusal.
func (s *scorer) samples(ctx context.Context, q score.Query) ([]string, error) {
	m := s.opt.Samples
	if m == 1 {
		return s.seeded(ctx, q)
	}
	var outs []string
	err := s.n.run(func(known string) (string, error) {
		var err error
		if known != NNo {
			outs, err = s.sample(ctx, q, m, s.opt.Seed)
			if err == nil && len(outs) == m {
				return NYes, nil
			}
			if s.opt.UseN == NYes {
				if err == nil {
					err = fmt.Errorf("query %s: asked for n=%d samples, the server returned %d", q.ID, m, len(outs))
				}
				return "", err
			}
			if err != nil && !refusal(err) {
				return "", err
			}
		}
		outs, err = s.seeded(ctx, q)
		if err != nil {
			return "", err
		}
		return NNo, nil
	})
	return outs, err
}

// seeded sends one request per sample with seeds Seed..Seed+M-1, so the
// samples differ and a rerun reproduces them on servers that honour seeds.
func (s *scorer) seeded(ctx context.Context, q score.Query) ([]string, error) {
	outs := make([]string, 0, s.opt.Samples)
	for i := 0; i < s.opt.Samples; i++ {
		o, err := s.sample(ctx, q, 1, s.opt.Seed+int64(i))
		if err != nil {
			return nil, err
		}
		outs = append(outs, o[0])
	}
	return outs, nil
}

// sample is one generation request for n choices; the outputs are the
// generated text only, without the prompt.
func (s *scorer) sample(ctx context.Context, q score.Query, n int, seed int64) ([]string, error) {
	req := map[string]any{
		"model": s.model, "max_tokens": s.opt.MaxTokens, "temperature": *s.opt.Temperature, "seed": seed,
	}
	if n > 1 {
		req["n"] = n
	}
	if len(q.Stop) > 0 {
		req["stop"] = q.Stop
	}
	path := "/v1/completions"
	if s.opt.Chat {
		path = "/v1/chat/completions"
		req["messages"] = messages(q.Prompt)
	} else {
		req["prompt"] = q.Prompt
	}
	var r response
	if err := s.c.post(ctx, q.ID, path, req, &r); err != nil {
		return nil, err
	}
	slices.SortStableFunc(r.Choices, func(a, b choice) int { return a.Index - b.Index })
	outs := make([]string, len(r.Choices))
	for i, c := range r.Choices {
		if s.opt.Chat {
			if c.Message == nil {
				return nil, fmt.Errorf("query %s: %s: choice %d has no message", q.ID, path, i)
			}
			outs[i] = c.Message.Content
		} else {
			outs[i] = c.Text
		}
	}
	return outs, nil
}
