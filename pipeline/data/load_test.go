package data

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeJSON(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// good is a valid record used to reach the later records of a bad file.
const good = `{"question": "q0", "scores": {"a": 0.5, "b": 0}}`

func TestLoadValidationErrors(t *testing.T) {
	cases := []struct {
		name    string
		content string
		record  int
		field   string
		msg     string // substring of ValidationError.Msg
	}{
		{"not JSON", `hello`, -1, "", "not valid JSON"},
		{"truncated", `[` + good + `, {"question": "q1", "sco`, 1, "", "truncated"},
		{"truncated after record", `[` + good, 0, "", "truncated"},
		{"top level object", good, -1, "", "top level is an object"},
		{"top level string", `"x"`, -1, "", "top level is the string"},
		{"trailing data", `[` + good + `] []`, -1, "", "after the top-level array"},
		{"record not an object", `[` + good + `, 3]`, 1, "", "record is the number 3"},
		{"record is an array", `[[1]]`, 0, "", "record is an array"},
		{"missing question", `[{"scores": {"a": 0.5}}]`, 0, "question", "missing"},
		{"empty question", `[` + good + `, {"question": "  \n", "scores": {"a": 0.5, "b": 0}}]`, 1, "question", "is empty"},
		{"question not a string", `[{"question": 5, "scores": {"a": 0.5}}]`, 0, "question", "want a string"},
		{"missing scores", `[` + good + `, {"question": "q1"}]`, 1, "scores", "missing"},
		{"scores not an object", `[{"question": "q", "scores": [0.5]}]`, 0, "scores", "want an object"},
		{"no LLMs", `[{"question": "q", "scores": {}}]`, 0, "scores", "no LLM scores"},
		{"missing LLM", `[` + good + `, {"question": "q1", "scores": {"a": 0.5}}]`, 1, "scores.b", "missing"},
		{"extra LLM", `[` + good + `, {"question": "q1", "scores": {"a": 0.5, "b": 0, "c": 1}}]`, 1, "scores.c", "not among the first record's LLMs"},
		{"LLM order", `[` + good + `, {"question": "q1", "scores": {"b": 0, "a": 0.5}}]`, 1, "scores", "different order"},
		{"duplicate LLM", `[{"question": "q", "scores": {"a": 0.5, "a": 0.1}}]`, 0, "scores.a", "twice"},
		{"non-numeric score", `[` + good + `, {"question": "q1", "scores": {"a": "0.5", "b": 0}}]`, 1, "scores.a", `string "0.5", want a number`},
		{"boolean score", `[{"question": "q", "scores": {"a": true}}]`, 0, "scores.a", "boolean"},
		{"null score", `[{"question": "q", "scores": {"a": null}}]`, 0, "scores.a", "null"},
		{"NaN string", `[` + good + `, {"question": "q1", "scores": {"a": 0.5, "b": "NaN"}}]`, 1, "scores.b", "not a finite number"},
		{"Infinity string", `[{"question": "q", "scores": {"a": "-Infinity"}}]`, 0, "scores.a", "not a finite number"},
		{"bare NaN", `[{"question": "q", "scores": {"a": NaN}}]`, 0, "scores.a", "value NaN at byte 35 is not a finite number"},
		{"huge number", `[{"question": "q", "scores": {"a": 1e400}}]`, 0, "scores.a", "not a finite float64"},
		{"score above 1", `[` + good + `, {"question": "q1", "scores": {"a": 1.3, "b": 0}}]`, 1, "scores.a", "score 1.3 is outside [0,1]"},
		{"score below 0", `[{"question": "q", "scores": {"a": -0.01}}]`, 0, "scores.a", "outside [0,1]"},
		{"fractional cluster_id", `[{"question": "q", "scores": {"a": 1}, "cluster_id": 1.5}]`, 0, "cluster_id", "not an integer"},
		{"string cluster_id", `[{"question": "q", "scores": {"a": 1}, "cluster_id": "2"}]`, 0, "cluster_id", "want a non-negative integer"},
		{"negative cluster_id", `[{"question": "q", "scores": {"a": 1}, "cluster_id": -1}]`, 0, "cluster_id", "negative"},
		{"unknown key", `[` + good + `, {"question": "q1", "answer": "A", "scores": {"a": 0.5, "b": 0}}]`, 1, "answer", "unknown field"},
		{"duplicate key", `[{"question": "q", "question": "r", "scores": {"a": 1}}]`, 0, "question", "twice"},
		{"empty array", `[]`, -1, "", "no records"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeJSON(t, "bad_test.json", c.content)
			ds, err := Load(p)
			if err == nil {
				t.Fatalf("Load accepted %s: %+v", c.content, ds)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is %T, want *ValidationError", err, err)
			}
			if ve.File != p || ve.Record != c.record || ve.Field != c.field || !strings.Contains(ve.Msg, c.msg) {
				t.Errorf("got {Record:%d Field:%q Msg:%q}, want {Record:%d Field:%q Msg contains %q}",
					ve.Record, ve.Field, ve.Msg, c.record, c.field, c.msg)
			}
			if !strings.Contains(err.Error(), "bad_test.json") {
				t.Errorf("error %q does not name the file", err)
			}
			t.Log(err)
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	p := writeJSON(t, "mmlu_test.json", `[{"question": "q", "scores": {"mistralai/Mistral-7B-v0.1": 0.2, "meta-llama/Meta-Llama-3-8B": 0.9}},
		{"question": "r", "scores": {"mistralai/Mistral-7B-v0.1": 0.2, "meta-llama/Meta-Llama-3-8B": 1.3}}]`)
	_, err := Load(p)
	want := p + `: record 1: field "scores.meta-llama/Meta-Llama-3-8B": score 1.3 is outside [0,1]`
	if err == nil || err.Error() != want {
		t.Fatalf("got error %v\nwant %s", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.json"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want a not-exist error", err)
	}
}

func TestLoadKeepsOrder(t *testing.T) {
	// Key order deliberately not sorted, and question/scores keys swapped.
	p := writeJSON(t, "order.json", `[
		{"scores": {"zeta": 0.1, "alpha": 0.2, "mu": 0.3}, "question": "first", "cluster_id": 4},
		{"question": "second", "scores": {"zeta": 1, "alpha": 0, "mu": 0.5e0}}
	]`)
	ds, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"zeta", "alpha", "mu"}; !slices.Equal(ds.LLMs, want) {
		t.Errorf("LLMs = %v, want file order %v", ds.LLMs, want)
	}
	want := []Query{
		{Question: "first", Scores: []float64{0.1, 0.2, 0.3}, ClusterID: 4},
		{Question: "second", Scores: []float64{1, 0, 0.5}, ClusterID: -1},
	}
	if len(ds.Queries) != len(want) {
		t.Fatalf("got %d queries, want %d", len(ds.Queries), len(want))
	}
	for i, q := range ds.Queries {
		if q.Question != want[i].Question || !slices.Equal(q.Scores, want[i].Scores) || q.ClusterID != want[i].ClusterID {
			t.Errorf("query %d = %+v, want %+v", i, q, want[i])
		}
	}
	if ds.Path != p {
		t.Errorf("Path = %q, want %q", ds.Path, p)
	}
}

func TestLoadConsistent(t *testing.T) {
	a := writeJSON(t, "a.json", `[{"question": "q", "scores": {"x": 0.1, "y": 0.2}}]`)
	same := writeJSON(t, "same.json", `[{"question": "r", "scores": {"x": 1, "y": 0}}]`)
	swapped := writeJSON(t, "swapped.json", `[{"question": "q", "scores": {"y": 0.2, "x": 0.1}}]`)
	other := writeJSON(t, "other.json", `[{"question": "q", "scores": {"x": 0.1, "z": 0.2}}]`)
	fewer := writeJSON(t, "fewer.json", `[{"question": "q", "scores": {"x": 0.1}}]`)

	dss, err := LoadConsistent(a, same)
	if err != nil || len(dss) != 2 {
		t.Fatalf("LoadConsistent(a, same) = %d datasets, %v", len(dss), err)
	}
	for _, c := range []struct{ path, msg string }{
		{swapped, "position 0"},
		{other, `"y" is missing`},
		{fewer, `"y" is missing`},
	} {
		_, err := LoadConsistent(a, c.path)
		if err == nil {
			t.Errorf("LoadConsistent(a, %s) succeeded", filepath.Base(c.path))
			continue
		}
		for _, want := range []string{"a.json", filepath.Base(c.path), c.msg} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		}
	}
	more := writeJSON(t, "more.json", `[{"question": "q", "scores": {"x": 0.1, "y": 0.2, "w": 0}}]`)
	if _, err := LoadConsistent(a, more); err == nil || !strings.Contains(err.Error(), `"w" is only in the second file`) {
		t.Errorf("LoadConsistent(a, more) = %v, want an error about w", err)
	}
	if _, err := LoadConsistent(a, writeJSON(t, "broken.json", `[`)); err == nil || !strings.Contains(err.Error(), "broken.json") {
		t.Errorf("LoadConsistent with a broken file = %v, want its validation error", err)
	}
}

// realDir is datatest.RequireDir, which this package's tests cannot import
// (datatest imports data): the released data dir, skipping when it was never
// fetched and failing when it is set up wrong.
func realDir(t testing.TB) string {
	t.Helper()
	dir, skip, err := TestDir()
	if err != nil {
		t.Fatal(err)
	}
	if skip != "" {
		t.Skip(skip)
	}
	return dir
}

func TestRealDataLoads(t *testing.T) {
	dir := realDir(t)
	testN := map[string]int{"MMLU": 4213, "GSM8K": 1319, "CMMLU": 3475, "ARC-C": 352, "HumanEval": 49,
		"PreAlgebra": 871, "MBPP": 500, "C-EVAL": 1346}
	trainN := map[string]int{"MMLU": 2000, "GSM8K": 1000, "CMMLU": 2000, "ARC-C": 820, "HumanEval": 115}
	var paths []string
	for _, task := range Tasks {
		files := map[string]int{task.Test: testN[task.Name]}
		if !task.OOD {
			files[task.Train] = trainN[task.Name]
			files[task.ClusterTrain] = trainN[task.Name]
		}
		for f, n := range files {
			p := filepath.Join(dir, f)
			paths = append(paths, p)
			ds, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds.Queries) != n {
				t.Errorf("%s: %d records, want %d", f, len(ds.Queries), n)
			}
			if !slices.Equal(ds.LLMs, LLMs) {
				t.Errorf("%s: LLMs %v, want %v", f, ds.LLMs, LLMs)
			}
			if f == task.ClusterTrain {
				for i, q := range ds.Queries {
					if q.ClusterID < 0 || q.ClusterID >= 5 {
						t.Fatalf("%s record %d: cluster_id %d, want 0..4", f, i, q.ClusterID)
					}
				}
			}
		}
	}
	if len(paths) != len(Files()) {
		t.Errorf("catalog names %d files, SHA256SUMS %d", len(paths), len(Files()))
	}
	if _, err := LoadConsistent(paths...); err != nil {
		t.Error(err)
	}
}

func TestLoadIsFast(t *testing.T) {
	p := filepath.Join(realDir(t), "split2_model7/mmlu_test.json")
	start := time.Now()
	if _, err := Load(p); err != nil {
		t.Fatal(err)
	}
	// Generous bound so a loaded CI machine or -race does not flake; the
	// usual time is far below it.
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Load(mmlu_test.json) took %v", d)
	} else {
		t.Logf("Load(mmlu_test.json) took %v", d)
	}
}

func BenchmarkLoadMMLUTest(b *testing.B) {
	dir := realDir(b)
	for b.Loop() {
		if _, err := Load(filepath.Join(dir, "split2_model7/mmlu_test.json")); err != nil {
			b.Fatal(err)
		}
	}
}
