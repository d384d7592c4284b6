package gateway

import (
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	llms := []string{"m", "c", "x"}
	env := func(k string) string {
		if k == "KEY_C" {
			return "sk-c"
		}
		return ""
	}
	good := `# two of the router's three LLMs
llms:
  c: {base_url: "http://127.0.0.1:8002/v1/", model: coder, api_key_env: KEY_C, cost_per_1k_tokens: 0.002}
  m: {base_url: "https://api.example.com/v1", cost_per_1k_tokens: 0.0005}
max_attempts: 2
timeout: 30s
breaker_cooldown: 5s
`
	c, err := ParseConfig("up.yaml", []byte(good), llms, env)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Names(), ",") != "m,c" {
		t.Errorf("LLMs %v, want the router's order m,c", c.Names())
	}
	if c.LLMs[1].BaseURL != "http://127.0.0.1:8002/v1" || c.LLMs[1].Model != "coder" || c.LLMs[1].apiKey != "sk-c" || c.LLMs[0].Model != "m" {
		t.Errorf("decoded %+v %+v", *c.LLMs[0], *c.LLMs[1])
	}
	if c.MaxAttempts != 2 || c.Timeout != 30*time.Second || c.BreakerCooldown != 5*time.Second ||
		c.BreakerFailures != DefaultBreakerFailures || c.MaxBody != DefaultMaxBody {
		t.Errorf("settings %+v", c)
	}
	if got := c.Costs(); got[0] != 0.25 || got[1] != 1 {
		t.Errorf("normalised costs %v, want [0.25 1]", got)
	}

	for _, bad := range []struct{ yaml, want string }{
		{"llms:\n  m: {base_url: \"http://h/v1\"}\n  gpt-9: {base_url: \"http://h/v1\"}\n", `up.yaml: line 3: llms.gpt-9: the router does not know this LLM (its LLMs: m, c, x)`},
		{"llms: {}\n", `up.yaml: line 1: llms: maps none of the router's LLMs`},
		{"max_attempts: 2\n", `up.yaml: no "llms" key`},
		{"llms:\n  m: {base_url: \"127.0.0.1:8001\"}\n", `up.yaml: line 2: llms.m.base_url: "127.0.0.1:8001": want an http:// or https:// URL`},
		{"llms:\n  m: {model: a}\n", `line 2: llms.m.base_url: missing`},
		{"llms:\n  m:\n    base_url: \"http://h/v1\"\n    cost: 1\n", `up.yaml: line 4: llms.m: unknown key "cost" (known: base_url, model, api_key_env, cost_per_1k_tokens)`},
		{"llms:\n  m: {base_url: \"http://h/v1\", cost_per_1k_tokens: -1}\n", `llms.m.cost_per_1k_tokens: want dollars >= 0`},
		{"llms:\n  m: {base_url: \"http://h/v1\", api_key_env: NOPE}\n", `line 2: llms.m.api_key_env: environment variable NOPE is empty or not set`},
		{"llms:\n  m: {base_url: \"http://h/v1\"}\nmax_attempts: 0\n", `line 3: max_attempts: want an integer >= 1`},
		{"llms:\n  m: {base_url: \"http://h/v1\"}\nmax_attempts: 1.5\n", `line 3: upstreams: max_attempts: 1.5 is not an integer`},
		{"llms:\n  m: {base_url: \"http://h/v1\"}\ntimeout: soon\n", `line 3: timeout: want a positive duration`},
		{"llms:\n  m: {base_url: \"http://h/v1\"}\nretries: 3\n", `line 3: upstreams: unknown key "retries"`},
		{"llms:\n  - m\n", `line 2: llms: want a mapping`},
		{"llms:\n  m: {base_url: \"http://h/v1\"}\n  m: {base_url: \"http://h/v1\"}\n", `line 3: llms.m: mapped twice (first on line 2)`},
	} {
		_, err := ParseConfig("up.yaml", []byte(bad.yaml), llms, env)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q:\n got %v\nwant %s", bad.yaml, err, bad.want)
		}
	}
}

func TestRefuse(t *testing.T) {
	c, err := ParseConfig("up.yaml", []byte("llms:\n  m: {base_url: \"http://h/v1\"}\n  c: {base_url: \"http://h/v1\"}\n"), []string{"m", "c"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Refuse("c", "excluded"); err == nil || err.Error() != "up.yaml: line 3: llms.c: excluded" {
		t.Errorf("Refuse: %v", err)
	}
	if err := c.Refuse("x", "excluded"); err != nil {
		t.Errorf("Refuse of an unmapped LLM: %v", err)
	}
}
