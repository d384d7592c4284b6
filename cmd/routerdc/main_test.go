package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
)

// binary builds the CLI once per test run (21 tests use it; linking it
// for each took about a second of CPU apiece) into a folder TestMain
// removes.
func binary(t *testing.T) string {
	t.Helper()
	build.Do(func() {
		if build.dir, build.err = os.MkdirTemp("", "routerdc-cli-test-"); build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "routerdc")
		build.out, build.err = exec.Command("go", "build", "-o", build.bin, ".").CombinedOutput()
	})
	if build.err != nil {
		t.Fatalf("go build: %v\n%s", build.err, build.out)
	}
	return build.bin
}

var build struct {
	sync.Once
	dir, bin string
	out      []byte
	err      error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

func run(t *testing.T, bin string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "ROUTERDC_QUIET=1")
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func TestCLI(t *testing.T) {
	dir := datatest.RequireDir(t)
	bin := binary(t)
	rdir := filepath.Join(t.TempDir(), "r")
	_, stderr, err := run(t, bin, "", "train", "--data", dir, "--out", rdir, "--seed", "3",
		"--set", "steps=40;eval_every=20;group=cluster", "--set", "lambda=0.5")
	if err != nil {
		t.Fatalf("train: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "router written to "+rdir) {
		t.Errorf("train does not say where its output is: %q", stderr)
	}
	var meta struct {
		Kind     string         `json:"kind"`
		LLMs     []string       `json:"llms"`
		Seed     int64          `json:"seed"`
		Settings map[string]any `json:"settings"`
	}
	b, err := os.ReadFile(filepath.Join(rdir, "router.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Kind != "routerdc" || meta.Seed != 3 || meta.Settings["lambda"] != 0.5 || len(meta.LLMs) != 7 {
		t.Errorf("router.json: %+v", meta)
	}

	stdout, stderr, err := run(t, bin, "", "eval", "--router", rdir,
		"--data", filepath.Join(dir, "split2_model7", "humaneval_test.json"), "--metric", "multi_attempt")
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, stderr)
	}
	var ev struct {
		Accuracy *float64 `json:"accuracy"`
		N        int      `json:"n"`
	}
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil || ev.Accuracy == nil || ev.N != 49 {
		t.Errorf("eval printed %q (%v)", stdout, err)
	}

	stdout, stderr, err = run(t, bin, "Natalia sold clips to 48 of her friends.\n\n写一首诗\n", "route", "--router", rdir)
	if err != nil {
		t.Fatalf("route: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("route printed %d lines for 2 queries: %q", len(lines), stdout)
	}
	var rt struct {
		Query string             `json:"query"`
		LLM   string             `json:"llm"`
		Probs map[string]float64 `json:"probabilities"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &rt); err != nil {
		t.Fatal(err)
	}
	if rt.Query != "写一首诗" || len(rt.Probs) != 7 || rt.Probs[rt.LLM] == 0 {
		t.Errorf("route line: %+v", rt)
	}
	// The probabilities keep the data's LLM order.
	probs := lines[0][strings.Index(lines[0], `"probabilities"`):]
	last := -1
	for _, llm := range meta.LLMs {
		i := strings.Index(probs, `"`+llm+`"`)
		if i <= last {
			t.Errorf("LLM order lost in %q", probs)
			break
		}
		last = i
	}

	// Errors name what is wrong.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`[{"question": "q", "scores": {"a": 0.5}}]`), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--router", rdir, "--data", bad, "--metric", "probability"}, "not the router's"},
		{[]string{"eval", "--router", rdir, "--data", bad, "--metric", "accuracy"}, "--metric"},
		{[]string{"eval", "--router", t.TempDir(), "--data", bad, "--metric", "probability"}, "not a router directory"},
		{[]string{"train", "--data", dir, "--out", rdir, "--set", "lambdaa=1"}, "lambdaa"},
		{[]string{"train", "--data", dir}, "--out"},
		{[]string{"frobnicate"}, "unknown command"},
	} {
		_, stderr, err := run(t, bin, "", c.args...)
		if err == nil || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: err %v, stderr %q, want it to mention %q", c.args, err, stderr, c.want)
		}
	}
}
