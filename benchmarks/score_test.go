package benchmarks

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/score/execute"
	"github.com/routerdc-go/routerdc/pipeline/score/lmeval"
)

// BenchmarkImportLMEval imports a synthetic v0.4.3+ log (JSON lines, every
// number a string) of 5000 four-option MMLU documents, the size of one LLM's
// MMLU run.
func BenchmarkImportLMEval(b *testing.B) {
	const docs = 5000
	var sb strings.Builder
	for i := range docs {
		fmt.Fprintf(&sb, `{"doc_id": %d, "doc": {"question": "Question %d about something?", "choices": ["w", "x", "y", "z"], "answer": 1}, "target": "1", `+
			`"arguments": {"gen_args_0": {"arg_0": "ctx", "arg_1": " A"}, "gen_args_1": {"arg_0": "ctx", "arg_1": " B"}, "gen_args_2": {"arg_0": "ctx", "arg_1": " C"}, "gen_args_3": {"arg_0": "ctx", "arg_1": " D"}}, `+
			`"resps": [[["-2.3", "False"]], [["-0.25", "True"]], [["-3.1", "False"]], [["-4.0", "False"]]], "filtered_resps": [["-2.3", "False"], ["-0.25", "True"], ["-3.1", "False"], ["-4.0", "False"]], "filter": "none", "acc": 1.0}`+"\n", i, i)
	}
	path := filepath.Join(b.TempDir(), "samples_mmlu_anatomy_2024-06-01T10-20-30.123456.jsonl")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for b.Loop() {
		recs, err := lmeval.Import(path, lmeval.Options{Task: "mmlu_anatomy", LLM: "m"})
		if err != nil || len(recs) != docs {
			b.Fatalf("%d records, %v", len(recs), err)
		}
	}
	b.ReportMetric(float64(docs*b.N)/time.Since(start).Seconds(), "docs/s")
}

// BenchmarkExecuteSample runs one passing HumanEval-style sample in the
// strongest sandbox available (bwrap when installed).
func BenchmarkExecuteSample(b *testing.B) {
	if _, err := exec.LookPath("python3"); err != nil {
		b.Skip("python3 not found")
	}
	rep, err := execute.Isolation(execute.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("sandbox: %s", rep.Sandbox)
	prog := "def add(a, b):\n    return a + b\n"
	tests := "assert add(2, 3) == 5\n"
	start := time.Now()
	for b.Loop() {
		if res := execute.Run(context.Background(), prog, tests, execute.Options{}); !res.Passed {
			b.Fatalf("sample failed: %s", res.Outcome)
		}
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/sample")
}
