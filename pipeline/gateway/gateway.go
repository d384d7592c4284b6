// Package gateway serves a trained router as an OpenAI-compatible HTTP
// endpoint in front of the candidate LLMs: it routes each request's text,
// forwards the request to the chosen LLM's upstream (falling back to the
// next on failure) and passes the answer back as it arrives.
package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options configure a Gateway.
type Options struct {
	Config *Config
	Router Router
	// APIKeys the clients must send as "Authorization: Bearer KEY"; none:
	// no check.
	APIKeys []string
	// Log gets one JSON line per request; nil: no log.
	Log io.Writer
	// Client calls the upstreams; nil: one with pooled keep-alive connections.
	Client *http.Client
	// Now is the clock of the circuit breakers; nil: time.Now.
	Now func() time.Time
}

// Gateway is the HTTP handler.
type Gateway struct {
	cfg      *Config
	names    []string // mapped LLMs, in the router's order
	routerIx []int    // mapped LLM -> index in the router's LLMs
	cost     []float64
	byName   map[string]int
	breakers []*breaker
	keys     [][]byte
	batch    *batcher
	client   *http.Client
	log      *slog.Logger
	m        *metrics
	now      func() time.Time
	mux      *http.ServeMux
}

// Headers the gateway adds to an upstream's answer.
const (
	HeaderLLM         = "X-RouterDC-LLM"
	HeaderProbability = "X-RouterDC-Probability"
)

// bodyTimeout bounds the read of a request's body, so a client that
// sends it slowly cannot hold a connection for ever.
const bodyTimeout = time.Minute

// maxAnswer bounds a non-streamed upstream answer held in memory.
const maxAnswer = 64 << 20

// New builds a gateway; Close stops its routing goroutine.
func New(o Options) (*Gateway, error) {
	if o.Config == nil || o.Router == nil {
		return nil, errors.New("gateway: Config and Router are required")
	}
	g := &Gateway{cfg: o.Config, names: o.Config.Names(), cost: o.Config.Costs(), byName: map[string]int{},
		client: o.Client, now: o.Now, m: newMetrics(o.Config.Names())}
	llms := o.Router.LLMs()
	for i, u := range o.Config.LLMs {
		ix := slices.Index(llms, u.Name)
		if ix < 0 {
			return nil, fmt.Errorf("gateway: the router does not know LLM %q", u.Name)
		}
		g.routerIx = append(g.routerIx, ix)
		g.byName[u.Name] = i
		g.breakers = append(g.breakers, &breaker{threshold: o.Config.BreakerFailures, cooldown: o.Config.BreakerCooldown})
	}
	for _, k := range o.APIKeys {
		if k = strings.TrimSpace(k); k != "" {
			g.keys = append(g.keys, []byte(k))
		}
	}
	if g.client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 1024
		t.MaxIdleConnsPerHost = 256
		t.DisableCompression = true // the answer's bytes pass through as the upstream sent them
		g.client = &http.Client{Transport: t}
	}
	if g.now == nil {
		g.now = time.Now
	}
	if o.Log != nil {
		g.log = slog.New(slog.NewJSONHandler(o.Log, nil))
	}
	g.batch = newBatcher(o.Router)
	g.mux = http.NewServeMux()
	g.mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) { g.complete(w, r, "/chat/completions") })
	g.mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, r *http.Request) { g.complete(w, r, "/completions") })
	g.mux.HandleFunc("GET /v1/models", g.models)
	g.mux.HandleFunc("GET /healthz", g.healthz)
	g.mux.HandleFunc("GET /metrics", g.metrics)
	g.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "not_found",
			fmt.Sprintf("no route %s %s: the gateway serves POST /v1/chat/completions, POST /v1/completions, GET /v1/models, /healthz, /metrics", r.Method, r.URL.Path))
	})
	return g, nil
}

// Close stops routing; in-flight requests should be finished first (Serve does).
func (g *Gateway) Close() { g.batch.close() }

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.mux.ServeHTTP(w, r) }

// Serve answers on l until ctx ends; then it stops accepting, lets the
// requests in flight finish for at most grace, and returns.
func (g *Gateway) Serve(ctx context.Context, l net.Listener, grace time.Duration) error {
	// No ReadTimeout or WriteTimeout: they would cut a streamed answer that
	// takes minutes (a read deadline cancels the request's context); the
	// body's read has its own deadline (complete).
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close()
		err = fmt.Errorf("requests still in flight after %s were cut off", grace)
	}
	<-errc // http.ErrServerClosed
	return err
}

// apiError is OpenAI's error body.
type apiError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    string  `json:"code"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	var e apiError
	e.Error.Message, e.Error.Type, e.Error.Code = msg, typ, code
	b, _ := json.Marshal(e)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func (g *Gateway) authorized(r *http.Request) bool {
	if len(g.keys) == 0 {
		return true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	found := 0
	for _, k := range g.keys { // every key, so the time says nothing about which matched
		found |= subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), k)
	}
	return found == 1
}

func (g *Gateway) unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="routerdc"`)
	writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
		"missing or unknown API key: send \"Authorization: Bearer KEY\" with one of the gateway's keys")
}

// record is a request's log line.
type record struct {
	path, model, llm, chosen, err    string
	prob, w                          float64
	routed                           bool
	attempts, status, upstreamStatus int
	usage                            *usage
	start                            time.Time
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func (g *Gateway) finish(rec *record) {
	d := time.Since(rec.start)
	g.m.requests.inc(label("llm", rec.llm, "code", strconv.Itoa(rec.status)))
	if rec.llm != "" {
		g.m.latency[rec.llm].observe(d)
	}
	if g.log == nil {
		return
	}
	attrs := []slog.Attr{slog.String("path", rec.path), slog.String("model", rec.model), slog.Int("status", rec.status),
		slog.Float64("latency_ms", millis(d))}
	if rec.llm != "" {
		attrs = append(attrs, slog.String("llm", rec.llm))
	}
	if rec.routed {
		attrs = append(attrs, slog.String("chosen", rec.chosen), slog.Float64("probability", rec.prob), slog.Float64("w", rec.w))
	}
	attrs = append(attrs, slog.Int("attempts", rec.attempts))
	if rec.upstreamStatus != 0 {
		attrs = append(attrs, slog.Int("upstream_status", rec.upstreamStatus))
	}
	if rec.usage != nil {
		attrs = append(attrs, slog.Int("prompt_tokens", rec.usage.PromptTokens), slog.Int("completion_tokens", rec.usage.CompletionTokens),
			slog.Int("total_tokens", rec.usage.TotalTokens))
	}
	if rec.err != "" {
		attrs = append(attrs, slog.String("error", rec.err))
	}
	g.log.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
}

func (g *Gateway) complete(w http.ResponseWriter, r *http.Request, path string) {
	g.m.inFlight.Add(1)
	defer g.m.inFlight.Add(-1)
	rec := &record{path: r.URL.Path, start: time.Now()}
	defer g.finish(rec)
	fail := func(status int, typ, code, msg string) {
		rec.status, rec.err = status, msg
		writeError(w, status, typ, code, msg)
	}
	if !g.authorized(r) {
		rec.status, rec.err = http.StatusUnauthorized, "unauthorized"
		g.unauthorized(w)
		return
	}
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(bodyTimeout)) // unsupported by a test recorder: then none
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.MaxBody))
	rc.SetReadDeadline(time.Time{})
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			fail(http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large",
				fmt.Sprintf("request body over the gateway's limit of %d bytes", g.cfg.MaxBody))
			return
		}
		fail(http.StatusBadRequest, "invalid_request_error", "bad_body", "reading the request body: "+err.Error())
		return
	}
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		fail(http.StatusBadRequest, "invalid_request_error", "invalid_json", "the body is not a JSON object: "+err.Error())
		return
	}
	var model string
	if err := json.Unmarshal(req["model"], &model); err != nil || model == "" {
		fail(http.StatusBadRequest, "invalid_request_error", "missing_model",
			fmt.Sprintf(`"model" must be a string: "router", "router:W" (W >= 0) or one of %s`, strings.Join(g.names, ", ")))
		return
	}
	rec.model = model
	text, err := routedText(path, req)
	if err != nil {
		fail(http.StatusBadRequest, "invalid_request_error", "invalid_request", err.Error())
		return
	}
	var stream bool
	if raw, ok := req["stream"]; ok && json.Unmarshal(raw, &stream) != nil {
		fail(http.StatusBadRequest, "invalid_request_error", "invalid_request", `"stream" must be true or false`)
		return
	}

	var order []int
	var probs []float64 // the router's, over its LLMs
	switch {
	case model == "router" || strings.HasPrefix(model, "router:"):
		wv := 0.0
		if s, ok := strings.CutPrefix(model, "router:"); ok {
			if wv, err = ParseW(s); err != nil {
				fail(http.StatusBadRequest, "invalid_request_error", "invalid_model", err.Error())
				return
			}
		}
		t0 := time.Now()
		probs, err = g.batch.route(r.Context(), text)
		g.m.routing.observe(time.Since(t0))
		if err != nil {
			if r.Context().Err() != nil {
				rec.status, rec.err = 499, "client went away"
				return
			}
			fail(http.StatusInternalServerError, "server_error", "routing_failed", "routing the request: "+err.Error())
			return
		}
		pm := make([]float64, len(g.names))
		for i, ix := range g.routerIx {
			pm[i] = probs[ix]
		}
		order = Rank(pm, g.cost, wv)
		rec.routed, rec.w = true, wv
		rec.chosen, rec.prob = g.names[order[0]], pm[order[0]]
	default:
		i, ok := g.byName[model]
		if !ok {
			fail(http.StatusNotFound, "invalid_request_error", "model_not_found",
				fmt.Sprintf(`model %q: want "router", "router:W" (W >= 0) or one of %s`, model, strings.Join(g.names, ", ")))
			return
		}
		order = []int{i}
	}
	g.forward(w, r, path, req, stream, order, probs, rec)
}

// routedText is what the router reads: the last user message's text for
// chat, the prompt for completions.
func routedText(path string, req map[string]json.RawMessage) (string, error) {
	if path == "/completions" {
		raw, ok := req["prompt"]
		if !ok {
			return "", errors.New(`"prompt" is required`)
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, nil
		}
		var list []string
		if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
			return strings.Join(list, "\n"), nil
		}
		return "", errors.New(`"prompt" must be a string or a non-empty list of strings`)
	}
	raw, ok := req["messages"]
	if !ok {
		return "", errors.New(`"messages" is required`)
	}
	var msgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(raw, &msgs); err != nil || len(msgs) == 0 {
		return "", errors.New(`"messages" must be a non-empty list of {"role", "content"}`)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role != "user" {
			continue
		}
		var s string
		if json.Unmarshal(msgs[i].Content, &s) == nil {
			return s, nil
		}
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if json.Unmarshal(msgs[i].Content, &parts) != nil {
			return "", fmt.Errorf(`messages[%d].content must be a string or a list of content parts`, i)
		}
		var texts []string
		for _, p := range parts {
			if p.Type == "text" {
				texts = append(texts, p.Text)
			}
		}
		return strings.Join(texts, "\n"), nil
	}
	return "", errors.New(`"messages" has no message with role "user" to route on`)
}

// outcome of one upstream attempt.
type outcome int

const (
	answered   outcome = iota // the client has its answer (or a passed-through 4xx)
	failed                    // nothing sent: try the next LLM
	clientGone                // the client went away
	cutOff                    // a stream broke after it began: nothing more can be done
)

var errAttemptTimeout = errors.New("upstream timeout")

func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, path string, req map[string]json.RawMessage,
	stream bool, order []int, probs []float64, rec *record) {
	var errs []string
	skipped := 0
	for _, i := range order {
		if rec.attempts == g.cfg.MaxAttempts {
			break
		}
		ok, trial := g.breakers[i].allow(g.now())
		if !ok {
			skipped++
			continue
		}
		if rec.attempts > 0 {
			g.m.fallbacks.inc(label("llm", rec.llm))
		}
		rec.attempts++
		rec.llm = g.names[i]
		res, detail := g.attempt(w, r, path, req, stream, i, trial, probs, rec)
		switch res {
		case answered, cutOff:
			return
		case clientGone:
			rec.status, rec.err = 499, "client went away"
			return
		}
		errs = append(errs, g.names[i]+": "+detail)
	}
	rec.llm = ""
	if rec.attempts == 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(g.cfg.BreakerCooldown.Seconds()+0.999)))
		msg := fmt.Sprintf("every upstream that could answer is failing and in its cool-down (%d skipped); retry later", skipped)
		rec.status, rec.err = http.StatusServiceUnavailable, msg
		writeError(w, http.StatusServiceUnavailable, "server_error", "upstreams_unavailable", msg)
		return
	}
	msg := fmt.Sprintf("no upstream answered (%d %s): %s", rec.attempts, pluralS(rec.attempts, "attempt"), strings.Join(errs, "; "))
	rec.status, rec.err = http.StatusBadGateway, msg
	writeError(w, http.StatusBadGateway, "server_error", "upstream_failed", msg)
}

func pluralS(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

// hopHeaders are not passed on from an upstream's answer.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Connection", "Te", "Trailer",
	"Transfer-Encoding", "Upgrade", "Content-Length"}

// attempt sends the request to mapped LLM i. detail says why it failed.
func (g *Gateway) attempt(w http.ResponseWriter, r *http.Request, path string, req map[string]json.RawMessage,
	stream bool, i int, trial bool, probs []float64, rec *record) (outcome, string) {
	u := g.cfg.LLMs[i]
	br := g.breakers[i]
	rec.upstreamStatus = 0
	attemptLabel := func(o string) string { return label("llm", u.Name, "outcome", o) }
	failure := func(o, detail string) (outcome, string) {
		g.m.attempts.inc(attemptLabel(o))
		if br.result(false, trial, g.now()) {
			g.logf("circuit of %s opened for %s", u.Name, g.cfg.BreakerCooldown)
		}
		return failed, detail
	}
	model, _ := json.Marshal(u.Model)
	req["model"] = model
	body, err := json.Marshal(req)
	if err != nil { // RawMessages that Unmarshal accepted marshal again
		return failure("connection", "encoding the request: "+err.Error())
	}

	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	timer := time.AfterFunc(g.cfg.Timeout, func() { cancel(errAttemptTimeout) })
	defer timer.Stop()
	up, err := http.NewRequestWithContext(ctx, http.MethodPost, u.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return failure("connection", err.Error())
	}
	up.Header.Set("Content-Type", "application/json")
	if a := r.Header.Get("Accept"); a != "" {
		up.Header.Set("Accept", a)
	}
	if u.apiKey != "" {
		up.Header.Set("Authorization", "Bearer "+u.apiKey)
	}
	// Why an attempt ended early: the client left, or the timeout fired.
	why := func(err error) (outcome, string) {
		if r.Context().Err() != nil {
			br.release(trial)
			g.m.attempts.inc(attemptLabel("client_gone"))
			return clientGone, ""
		}
		if errors.Is(context.Cause(ctx), errAttemptTimeout) {
			return failure("timeout", fmt.Sprintf("no answer within %s", g.cfg.Timeout))
		}
		var ue *url.Error
		if errors.As(err, &ue) { // without "Post URL:", which the detail's LLM already says
			err = ue.Err
		}
		return failure("connection", err.Error())
	}
	resp, err := g.client.Do(up)
	if err != nil {
		return why(err)
	}
	defer resp.Body.Close()
	rec.upstreamStatus = resp.StatusCode
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
		o := "status_5xx"
		if resp.StatusCode == http.StatusTooManyRequests {
			o = "status_429"
		}
		return failure(o, "HTTP "+strconv.Itoa(resp.StatusCode))
	}
	// Headers are set only once the answer is sure to go out.
	setHeaders := func() http.Header {
		hdr := w.Header()
		for k, vs := range resp.Header {
			if !slices.Contains(hopHeaders, k) {
				hdr[k] = vs
			}
		}
		hdr.Set(HeaderLLM, u.Name)
		if probs != nil {
			hdr.Set(HeaderProbability, strconv.FormatFloat(probs[g.routerIx[i]], 'f', 6, 64))
		}
		return hdr
	}
	ok := resp.StatusCode < 400
	result := "ok"
	if !ok {
		result = "status_4xx"
	}
	if !stream || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// Read whole before anything is sent, so that a failure here can
		// still fall back.
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
		if err == nil && len(data) > maxAnswer {
			err = fmt.Errorf("answer over %d MiB", maxAnswer>>20)
		}
		if err != nil {
			return why(err)
		}
		timer.Stop()
		// An upstream's 4xx is the client's to read, and says the upstream is up.
		br.result(true, trial, g.now())
		g.m.attempts.inc(attemptLabel(result))
		if ok {
			rec.usage = readUsage(data)
		}
		setHeaders().Set("Content-Length", strconv.Itoa(len(data)))
		rec.status = resp.StatusCode
		w.WriteHeader(resp.StatusCode)
		w.Write(data)
		return answered, ""
	}
	// From here the answer comes as the upstream generates it; the timeout
	// was for its first byte.
	timer.Stop()
	rec.status = resp.StatusCode
	setHeaders()
	w.WriteHeader(resp.StatusCode)
	fl, _ := w.(http.Flusher)
	if fl != nil {
		fl.Flush()
	}
	rd := bufio.NewReaderSize(resp.Body, 32<<10)
	for {
		line, err := rd.ReadSlice('\n')
		if len(line) > 0 {
			if bytes.HasPrefix(line, []byte("data: {")) && bytes.Contains(line, []byte(`"usage":{`)) {
				rec.usage = readUsage(line[len("data: "):])
			}
			if _, werr := w.Write(line); werr != nil {
				br.release(trial)
				g.m.attempts.inc(attemptLabel("client_gone"))
				rec.err = "client went away during the stream"
				return cutOff, ""
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if rd.Buffered() == 0 || err != nil {
			if fl != nil {
				fl.Flush()
			}
		}
		if err == io.EOF {
			br.result(true, trial, g.now())
			g.m.attempts.inc(attemptLabel(result))
			return answered, ""
		}
		if err != nil {
			if r.Context().Err() != nil {
				br.release(trial)
				g.m.attempts.inc(attemptLabel("client_gone"))
				rec.err = "client went away during the stream"
				return cutOff, ""
			}
			br.result(false, trial, g.now())
			g.m.attempts.inc(attemptLabel("connection"))
			rec.err = "the upstream's stream broke: " + err.Error()
			return cutOff, ""
		}
	}
}

func readUsage(b []byte) *usage {
	var v struct {
		Usage *usage `json:"usage"`
	}
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	return v.Usage
}

func (g *Gateway) logf(format string, a ...any) {
	if g.log != nil {
		g.log.Warn(fmt.Sprintf(format, a...))
	}
}

func (g *Gateway) models(w http.ResponseWriter, r *http.Request) {
	if !g.authorized(r) {
		g.unauthorized(w)
		return
	}
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	list := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list"}
	list.Data = append(list.Data, model{"router", "model", 0, "routerdc"}, model{"router:W", "model", 0, "routerdc"})
	for _, n := range g.names {
		list.Data = append(list.Data, model{n, "model", 0, "routerdc"})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(list)
}

func (g *Gateway) healthz(w http.ResponseWriter, r *http.Request) {
	now := g.now()
	states := map[string]string{}
	for i, n := range g.names {
		states[n] = g.breakers[i].state(now)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Status string            `json:"status"`
		LLMs   map[string]string `json:"llms"`
	}{"ok", states})
}

func (g *Gateway) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	now := g.now()
	g.m.write(w, g.names, func(name string) string { return g.breakers[g.byName[name]].state(now) })
}
