package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/gateway"
	"github.com/routerdc-go/routerdc/pipeline/routerdir"
)

const serveAbout = `Serves the router as an OpenAI-compatible endpoint in front of the LLMs the
upstreams FILE maps (YAML: llms: {NAME: {base_url, model, api_key_env,
cost_per_1k_tokens}}; optional max_attempts, timeout, breaker_failures,
breaker_cooldown, max_body_mib). POST /v1/chat/completions and /v1/completions
with model "router" (the most probable mapped LLM), "router:W" (probability
minus W times the LLM's cost over the dearest mapped LLM's) or a mapped LLM's
name (not routed); GET /v1/models, /healthz, /metrics (Prometheus). A
connection error, timeout, 5xx or 429 falls back to the next LLM. One JSON log
line per request goes to stderr. SIGTERM or Ctrl-C stops accepting and lets
the requests in flight finish (at most --grace).`

func cmdServe(args []string) error {
	fs := newFlags("serve --router DIR --upstreams FILE [--addr 127.0.0.1:8080] [--api-keys-env NAME] [--grace 30s]", serveAbout)
	rdir := fs.String("router", "", routerDirUsage)
	upFile := fs.String("upstreams", "", "the upstreams YAML `FILE` (which LLM is served where)")
	addr := fs.String("addr", "127.0.0.1:8080", "listen on `ADDR` (host:port; port 0 picks a free one)")
	keysEnv := fs.String("api-keys-env", "", "clients must send \"Authorization: Bearer KEY\" with one of the comma-separated keys in the environment variable `NAME`")
	grace := fs.Duration("grace", 30*time.Second, "how long requests in flight may finish after SIGTERM, a `DURATION`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *upFile == "" {
		return errors.New("--upstreams FILE is required (YAML mapping the router's LLMs to their servers)")
	}
	if *grace <= 0 {
		return fmt.Errorf("--grace %s: want a positive duration", *grace)
	}
	var keys []string
	if *keysEnv != "" {
		for _, k := range strings.Split(os.Getenv(*keysEnv), ",") {
			if k = strings.TrimSpace(k); k != "" {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			return fmt.Errorf("--api-keys-env %s: the environment variable %s holds no key (want comma-separated keys)", *keysEnv, *keysEnv)
		}
	}
	r, err := loadRouter(*rdir)
	if err != nil {
		return err
	}
	cfg, err := loadUpstreams(*upFile, r)
	if err != nil {
		return err
	}
	// Routers that run in the graph (hidden layers, a fine-tuned encoder)
	// compile it per padded batch size (1, 8, 64 rows): compiled now, the
	// first requests do not wait for it.
	for _, n := range []int{1, 8, 64} {
		if _, err := r.Scores(slices.Repeat([]string{"warm up"}, n)); err != nil {
			return err
		}
	}
	g, err := gateway.New(gateway.Options{Config: cfg, Router: gateway.FromDir(r), APIKeys: keys, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer g.Close()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	auth := "no client keys"
	if len(keys) > 0 {
		auth = fmt.Sprintf("%d client %s from $%s", len(keys), plural(len(keys), "key"), *keysEnv)
	}
	fmt.Fprintf(os.Stderr, "serving %s router %s for %s on http://%s/v1 (%s); SIGTERM or Ctrl-C stops\n",
		r.Meta.Kind, *rdir, strings.Join(cfg.Names(), ", "), l.Addr(), auth)
	err = g.Serve(ctx, l, *grace)
	fmt.Fprintln(os.Stderr, "stopped")
	return err
}

// loadUpstreams reads the upstreams file for router r; the LLM r was
// trained never to pick may not be mapped (a fallback or a large W could
// still send requests to it).
func loadUpstreams(file string, r *routerdir.Router) (*gateway.Config, error) {
	cfg, err := gateway.LoadConfig(file, r.Meta.LLMs)
	if err != nil {
		return nil, err
	}
	if r.Meta.Exclude != "" {
		if err := cfg.Refuse(r.Meta.Exclude, "this router never picks it (exclude_llm in its router.json): leave it out"); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}
