package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
	"github.com/routerdc-go/routerdc/pipeline/routerdir/routerdirtest"
)

// knnRouter saves a small kNN router over the given LLMs (no training data
// needed): query i prefers LLM i mod len(llms).
func knnRouter(t *testing.T, llms []string) string {
	t.Helper()
	var texts []string
	var scores [][]float64
	var task []int
	for i := range 10 * len(llms) {
		texts = append(texts, fmt.Sprintf("question %d about topic %d", i, i%len(llms)))
		row := make([]float64, len(llms))
		row[i%len(llms)] = 1
		scores = append(scores, row)
		task = append(task, i%len(llms))
	}
	return routerdirtest.SaveKNN(t, llms, texts, scores, task)
}

// TestEvalMetricFromCatalog: eval on a released task file takes the task's
// metric; --metric probability on GSM8K silently gave 83.93 instead of
// 70.59 and is now refused. A file that is not released needs --metric.
func TestEvalMetricFromCatalog(t *testing.T) {
	dir := datatest.RequireDir(t)
	gsm, err := data.TaskByName("GSM8K")
	if err != nil {
		t.Fatal(err)
	}
	other := data.Probability
	if gsm.Metric == data.Probability {
		other = data.MultiAttempt
	}
	file := filepath.Join(dir, filepath.FromSlash(gsm.Test))
	bin := binary(t)
	rdir := knnRouter(t, data.LLMs)

	_, stderr, err := run(t, bin, "", "eval", "--router", rdir, "--data", file, "--metric", string(other))
	for _, want := range []string{"--metric " + string(other), file, "GSM8K", string(gsm.Metric)} {
		if err == nil || !strings.Contains(stderr, want) {
			t.Errorf("eval --metric %s on %s: err %v, stderr %q, want a refusal naming %q", other, file, err, stderr, want)
		}
	}

	type result struct {
		Accuracy float64     `json:"accuracy"`
		N        int         `json:"n"`
		Metric   data.Metric `json:"metric"`
	}
	eval := func(args ...string) result {
		t.Helper()
		stdout, stderr, err := run(t, bin, "", append([]string{"eval", "--router", rdir, "--data", file}, args...)...)
		if err != nil {
			t.Fatalf("eval %v: %v\n%s", args, err, stderr)
		}
		var r result
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("eval printed %q: %v", stdout, err)
		}
		return r
	}
	byCatalog := eval()
	explicit := eval("--metric", string(gsm.Metric))
	if byCatalog.Metric != gsm.Metric || byCatalog != explicit || byCatalog.N != 1319 {
		t.Errorf("eval without --metric: %+v; with --metric %s: %+v", byCatalog, gsm.Metric, explicit)
	}

	// The same rows with one byte more are not the released file.
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(t.TempDir(), "gsm8k-test.json")
	os.WriteFile(mine, append(b, '\n'), 0o644)
	if m, err := evalMetric(mine, ""); err == nil || !strings.Contains(err.Error(), "--metric is required for "+mine) {
		t.Errorf("evalMetric of a file not released, no --metric: %v, %v", m, err)
	}
	if m, err := evalMetric(mine, string(other)); err != nil || m != other {
		t.Errorf("evalMetric of a file not released, --metric %s: %v, %v", other, m, err)
	}
}

// TestREADMEMetricTable: the task-to-metric table of README's "The CLI" is
// the catalog's.
func TestREADMEMetricTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## The CLI\n")
	if !ok {
		t.Fatal(`README.md has no "## The CLI" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	if !strings.Contains(section, metricTable()) {
		t.Errorf("README's \"The CLI\" section lacks the catalog's task-to-metric table; it should read:\n%s", metricTable())
	}
}

// TestPathHints: --router given the router.json inside a router directory
// said "not a directory"; wrong paths for --router and --data get a hint.
func TestPathHints(t *testing.T) {
	bin := binary(t)
	rdir := toyRouter(t)
	data := filepath.Join(t.TempDir(), "d.json")
	os.WriteFile(data, []byte(`[{"question": "q", "scores": {"m": 1, "c": 0}}]`), 0o644)
	missing := filepath.Join(t.TempDir(), "nope")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"route", "--router", filepath.Join(rdir, "router.json"), "q"},
			"--router wants the router directory (from routerdc train), not a file: use " + rdir},
		{[]string{"route", "--router", missing, "q"}, "--router " + missing + ": no such directory"},
		{[]string{"eval", "--router", filepath.Join(rdir, "router.json"), "--data", data, "--metric", "probability"},
			"not a file: use " + rdir},
		{[]string{"eval", "--router", rdir, "--data", missing, "--metric", "probability"}, "--data " + missing + ": no such file"},
		{[]string{"eval", "--router", rdir, "--data", filepath.Dir(data), "--metric", "probability"},
			"--data wants one RouterDC-format JSON file, not a directory"},
		{[]string{"validate", "--data", missing, "router=task"}, "To fix:"},
		{[]string{"train", "--data", missing, "--out", filepath.Join(t.TempDir(), "r")}, "To fix:"},
	} {
		_, stderr, err := run(t, bin, "", c.args...)
		if err == nil || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: err %v, stderr %q, want it to contain %q", c.args, err, stderr, c.want)
		}
	}
	// A matching --metric is fine on a file of one's own.
	stdout, stderr, err := run(t, bin, "", "eval", "--router", rdir, "--data", data, "--metric", "probability")
	if err != nil || !strings.Contains(stdout, `"n":1`) {
		t.Errorf("eval: %v %q %q", err, stdout, stderr)
	}
}
