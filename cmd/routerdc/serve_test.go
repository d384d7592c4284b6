package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/gateway"
)

// The example upstreams file maps every LLM of the released data.
func TestExampleUpstreams(t *testing.T) {
	c, err := gateway.LoadConfig(filepath.Join("..", "..", "notebooks", "examples", "upstreams.yaml"), data.LLMs)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.LLMs) != len(data.LLMs) {
		t.Errorf("maps %d of the %d LLMs", len(c.LLMs), len(data.LLMs))
	}
}

// TestServeAndCalibrate runs the commands as a user does: serve answers
// with the LLM `route` picks for the same text and stops cleanly on
// SIGTERM; calibrate prints a W and the shares.
func TestServeAndCalibrate(t *testing.T) {
	rdir := toyRouter(t) // LLMs m (maths) and c (code)
	bin := binary(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Model string }
		json.NewDecoder(r.Body).Decode(&body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"choices":[{"message":{"role":"assistant","content":%q}}]}`, "served by "+body.Model)
	}))
	defer up.Close()
	dir := t.TempDir()
	upFile := filepath.Join(dir, "upstreams.yaml")
	os.WriteFile(upFile, []byte(fmt.Sprintf("llms:\n  m: {base_url: %q, model: mm, cost_per_1k_tokens: 0.01}\n  c: {base_url: %q, model: cc, cost_per_1k_tokens: 0.001}\n",
		up.URL+"/v1", up.URL+"/v1")), 0o644)

	cmd := exec.Command(bin, "serve", "--router", rdir, "--upstreams", upFile, "--addr", "127.0.0.1:0", "--api-keys-env", "TEST_KEYS")
	cmd.Env = append(os.Environ(), "TEST_KEYS=k1,k2")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var url string
	select {
	case l := <-lines:
		_, rest, ok := strings.Cut(l, " on http://")
		if !ok {
			t.Fatalf("first line %q does not say where it serves", l)
		}
		url = "http://" + strings.TrimSuffix(strings.Fields(rest)[0], "/v1")
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start within 60 s")
	}
	queries := []string{"solve the equation 5 x + 3 = 7", "write a python function number 8"}
	routed, _, err := run(t, bin, strings.Join(queries, "\n"), "route", "--router", rdir, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(strings.TrimSpace(routed), "\n") {
		var want struct{ LLM string }
		json.Unmarshal([]byte(l), &want)
		body := fmt.Sprintf(`{"model":"router","messages":[{"role":"user","content":%q}]}`, queries[i])
		req, _ := http.NewRequest("POST", url+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer k2")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get(gateway.HeaderLLM); got != want.LLM || !strings.Contains(string(b), "served by "+want.LLM+want.LLM) {
			t.Errorf("%q: serve chose %q (%s), route %q", queries[i], got, b, want.LLM)
		}
	}
	resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no key: status %d, want 401", resp.StatusCode)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v\n%s", err, strings.Join(rest, "\n"))
	}
	logs := 0
	for _, l := range rest {
		if strings.Contains(l, `"msg":"request"`) {
			logs++
		}
	}
	if logs != 3 || rest[len(rest)-1] != "stopped" {
		t.Errorf("want 3 request log lines and \"stopped\":\n%s", strings.Join(rest, "\n"))
	}

	// A bad upstreams file is refused with its line.
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("llms:\n  m: {base_url: \"http://h/v1\"}\n  gpt: {base_url: \"http://h/v1\"}\n"), 0o644)
	_, stderrText, err := run(t, bin, "", "serve", "--router", rdir, "--upstreams", bad)
	if err == nil || !strings.Contains(stderrText, "bad.yaml: line 3: llms.gpt: the router does not know this LLM") {
		t.Errorf("bad upstreams: %v %q", err, stderrText)
	}

	qFile := filepath.Join(dir, "queries.txt")
	var qs []string
	for i := range 10 {
		qs = append(qs, fmt.Sprintf("solve the equation %d x + 1 = 2", i), fmt.Sprintf("write a python function number %d", i))
	}
	os.WriteFile(qFile, []byte(strings.Join(qs, "\n")+"\n"), 0o644)
	out, stderrText, err := run(t, bin, "", "calibrate", "--router", rdir, "--upstreams", upFile, "--queries", qFile, "--target-share", "c=1")
	if err != nil || !strings.Contains(out, "W = ") || !regexpFind(`(?m)^c\s+100\.0%`, out) || !regexpFind(`(?m)^m\s+0\.0%`, out) {
		t.Errorf("calibrate --target-share c=1: %v\n%s%s", err, out, stderrText)
	}
	// Half the queries on each LLM at W=0: $0.0055 a query; the budget
	// $0.001 sends all to c, as W must be > 0.
	out, stderrText, err = run(t, bin, "", "calibrate", "--router", rdir, "--upstreams", upFile, "--queries", qFile, "--target-cost", "0.001")
	if err != nil || !strings.Contains(out, "average cost per query: $0.001 ") || !regexpFind(`(?m)^c\s+100\.0%`, out) {
		t.Errorf("calibrate --target-cost: %v\n%s%s", err, out, stderrText)
	}
	_, stderrText, err = run(t, bin, "", "calibrate", "--router", rdir, "--upstreams", upFile, "--queries", qFile, "--target-share", "x=0.5")
	if err == nil || !strings.Contains(stderrText, "mapped m, c") {
		t.Errorf("--target-share of an unmapped LLM: %v %q", err, stderrText)
	}
}

func regexpFind(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
