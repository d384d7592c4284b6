package gateway

import (
	"fmt"
	"math"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/routerdc-go/routerdc/pipeline/yamlstrict"
)

// Upstream is one candidate LLM as the upstreams file maps it.
type Upstream struct {
	// Name is the router's name of the LLM (the key in the file).
	Name string `yaml:"-"`
	// BaseURL is the OpenAI-compatible API root, e.g. http://127.0.0.1:8001/v1.
	BaseURL string `yaml:"base_url"`
	// Model is what the upstream calls the model (default: Name).
	Model string `yaml:"model"`
	// APIKeyEnv names the environment variable holding the upstream's key.
	APIKeyEnv string `yaml:"api_key_env"`
	// CostPer1kTokens is the price in dollars of 1000 tokens.
	CostPer1kTokens float64 `yaml:"cost_per_1k_tokens"`

	apiKey string
	line   int
}

// Config is an upstreams file: the LLMs and how the gateway treats them.
type Config struct {
	// LLMs in the router's order (only those the file maps).
	LLMs []*Upstream
	// MaxAttempts bounds the upstreams one request may try (fallbacks + 1).
	MaxAttempts int
	// Timeout bounds an attempt until the upstream's response headers
	// arrive; a non-streamed answer must also be read whole within it.
	Timeout time.Duration
	// BreakerFailures consecutive failures open an upstream's circuit.
	BreakerFailures int
	// BreakerCooldown is how long an open circuit skips its upstream.
	BreakerCooldown time.Duration
	// MaxBody is the largest request body accepted (bytes).
	MaxBody int64

	file string
}

// Defaults of the upstreams file's optional keys.
const (
	DefaultMaxAttempts     = 3
	DefaultTimeout         = 120 * time.Second
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 30 * time.Second
	DefaultMaxBody         = 4 << 20
)

// fileDoc is the file's top level; llms is read by hand to keep each key's
// line and the file's order.
type fileDoc struct {
	LLMs            yaml.Node `yaml:"llms"`
	MaxAttempts     *int      `yaml:"max_attempts"`
	Timeout         string    `yaml:"timeout"`
	BreakerFailures *int      `yaml:"breaker_failures"`
	BreakerCooldown string    `yaml:"breaker_cooldown"`
	MaxBodyMiB      *float64  `yaml:"max_body_mib"`
}

// LoadConfig reads an upstreams file for a router whose LLMs are llms.
// Every error names the file, the line and the key.
func LoadConfig(file string, llms []string) (*Config, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParseConfig(file, b, llms, os.Getenv)
}

// ParseConfig is LoadConfig on the file's bytes; getenv reads the
// upstreams' api_key_env variables.
func ParseConfig(file string, b []byte, llms []string, getenv func(string) string) (*Config, error) {
	doc, lines, err := yamlstrict.Document(file, b)
	if err != nil {
		return nil, err
	}
	var d fileDoc
	if err := yamlstrict.Decode(doc, "upstreams", &d); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	fail := func(line int, key, format string, a ...any) error {
		return fmt.Errorf("%s: line %d: %s: %s", file, line, key, fmt.Sprintf(format, a...))
	}
	c := &Config{file: file, MaxAttempts: DefaultMaxAttempts, Timeout: DefaultTimeout, BreakerFailures: DefaultBreakerFailures,
		BreakerCooldown: DefaultBreakerCooldown, MaxBody: DefaultMaxBody}
	if d.MaxAttempts != nil {
		if *d.MaxAttempts < 1 {
			return nil, fail(lines["max_attempts"], "max_attempts", "want an integer >= 1, got %d", *d.MaxAttempts)
		}
		c.MaxAttempts = *d.MaxAttempts
	}
	if d.BreakerFailures != nil {
		if *d.BreakerFailures < 1 {
			return nil, fail(lines["breaker_failures"], "breaker_failures", "want an integer >= 1, got %d", *d.BreakerFailures)
		}
		c.BreakerFailures = *d.BreakerFailures
	}
	for _, dur := range []struct {
		key string
		s   string
		to  *time.Duration
	}{{"timeout", d.Timeout, &c.Timeout}, {"breaker_cooldown", d.BreakerCooldown, &c.BreakerCooldown}} {
		if dur.s == "" {
			continue
		}
		v, err := time.ParseDuration(dur.s)
		if err != nil || v <= 0 {
			return nil, fail(lines[dur.key], dur.key, "want a positive duration such as 30s or 2m, got %q", dur.s)
		}
		*dur.to = v
	}
	if d.MaxBodyMiB != nil {
		if !(*d.MaxBodyMiB > 0) || *d.MaxBodyMiB > 1024 {
			return nil, fail(lines["max_body_mib"], "max_body_mib", "want a number of MiB in (0, 1024], got %v", *d.MaxBodyMiB)
		}
		c.MaxBody = int64(*d.MaxBodyMiB * (1 << 20))
	}

	n := &d.LLMs
	if n.Kind == 0 {
		return nil, fmt.Errorf("%s: no \"llms\" key: map at least one of the router's LLMs (%s)", file, strings.Join(llms, ", "))
	}
	if n.Kind != yaml.MappingNode {
		return nil, fail(n.Line, "llms", "want a mapping from the router's LLM names to {base_url, model, api_key_env, cost_per_1k_tokens}")
	}
	byName := map[string]*Upstream{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		key := "llms." + name
		if !slices.Contains(llms, name) {
			return nil, fail(k.Line, key, "the router does not know this LLM (its LLMs: %s)", strings.Join(llms, ", "))
		}
		if byName[name] != nil {
			return nil, fail(k.Line, key, "mapped twice (first on line %d)", byName[name].line)
		}
		u := &Upstream{Name: name, line: k.Line}
		if err := yamlstrict.Decode(v, key, u); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if err := checkBaseURL(u.BaseURL); err != nil {
			return nil, fail(k.Line, key+".base_url", "%v", err)
		}
		u.BaseURL = strings.TrimRight(u.BaseURL, "/")
		if u.Model == "" {
			u.Model = name
		}
		if math.IsNaN(u.CostPer1kTokens) || math.IsInf(u.CostPer1kTokens, 0) || u.CostPer1kTokens < 0 {
			return nil, fail(k.Line, key+".cost_per_1k_tokens", "want dollars >= 0, got %v", u.CostPer1kTokens)
		}
		if u.APIKeyEnv != "" {
			u.apiKey = getenv(u.APIKeyEnv)
			if u.apiKey == "" {
				return nil, fail(k.Line, key+".api_key_env", "environment variable %s is empty or not set", u.APIKeyEnv)
			}
		}
		byName[name] = u
	}
	for _, name := range llms {
		if u := byName[name]; u != nil {
			c.LLMs = append(c.LLMs, u)
		}
	}
	if len(c.LLMs) == 0 {
		return nil, fail(n.Line, "llms", "maps none of the router's LLMs (%s)", strings.Join(llms, ", "))
	}
	return c, nil
}

func checkBaseURL(s string) error {
	if s == "" {
		return fmt.Errorf("missing: want the upstream's OpenAI-compatible API root, e.g. http://127.0.0.1:8001/v1")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want an http:// or https:// URL with a host, e.g. http://127.0.0.1:8001/v1", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q: want the API root without a query or fragment", s)
	}
	return nil
}

// Refuse is an error naming the file and line where llm is mapped, nil
// when it is not: for an LLM the router must never pick (its exclude_llm).
func (c *Config) Refuse(llm, why string) error {
	for _, u := range c.LLMs {
		if u.Name == llm {
			return fmt.Errorf("%s: line %d: llms.%s: %s", c.file, u.line, llm, why)
		}
	}
	return nil
}

// Costs are the mapped LLMs' costs normalised by the highest, so each is in
// [0, 1] and W is in units of probability per the dearest LLM's cost. All
// zero when no LLM has a cost.
func (c *Config) Costs() []float64 {
	var top float64
	for _, u := range c.LLMs {
		top = max(top, u.CostPer1kTokens)
	}
	out := make([]float64, len(c.LLMs))
	if top == 0 {
		return out
	}
	for i, u := range c.LLMs {
		out[i] = u.CostPer1kTokens / top
	}
	return out
}

// Names are the mapped LLMs' names, in the router's order.
func (c *Config) Names() []string {
	out := make([]string, len(c.LLMs))
	for i, u := range c.LLMs {
		out[i] = u.Name
	}
	return out
}
