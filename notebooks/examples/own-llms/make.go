//go:build ignore

// make writes this example's lm-evaluation-harness logs: three made-up LLMs
// scored on an MMLU-style train and test split (lm-eval v0.4.3+ JSONL,
// --log_samples). Each question is about one of three topics, and each LLM
// knows one topic well (85% right there, 30% elsewhere), so a router can learn
// whom to ask. It is seeded: a rerun writes the same bytes.
//
//	go run notebooks/examples/own-llms/make.go
package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

var (
	llms   = []string{"small-7b", "math-13b", "code-34b"} // file names; the LLM ids are org/<name>
	topics = [][]string{
		{"the history of Rome", "the French revolution", "medieval trade", "the printing press"},
		{"prime numbers", "integrals", "probability", "matrices"},
		{"recursion", "hash tables", "sorting", "compilers"},
	}
	splits = map[string]int{"train": 240, "test": 90}
)

func main() {
	dir := filepath.Dir(os.Args[0])
	if wd, err := os.Getwd(); err == nil {
		dir = filepath.Join(wd, "notebooks", "examples", "own-llms")
	}
	for _, split := range []string{"train", "test"} {
		rng := rand.New(rand.NewPCG(7, uint64(len(split))))
		logs := make([][]byte, len(llms))
		for i := range splits[split] {
			topic := i % len(topics)
			subject := topics[topic][rng.IntN(len(topics[topic]))]
			answer := rng.IntN(4)
			doc := map[string]any{
				"question": fmt.Sprintf("Question %d of the %s split, about %s: which option is right?", i, split, subject),
				"choices":  []string{"the first", "the second", "the third", "the fourth"},
				"answer":   answer,
			}
			for k := range llms {
				right := (k == topic && rng.Float64() < 0.85) || rng.Float64() < 0.3
				pick := answer
				if !right {
					pick = (answer + 1 + rng.IntN(3)) % 4
				}
				args := map[string]any{}
				var resps, filtered []any
				for j, opt := range []string{" A", " B", " C", " D"} {
					ll := -2.5 - rng.Float64()
					if j == pick {
						ll = -0.2 - 0.6*rng.Float64()
					}
					args[fmt.Sprintf("gen_args_%d", j)] = map[string]any{"arg_0": "<5-shot ctx>\nAnswer:", "arg_1": opt}
					resp := []any{fmt.Sprint(ll), fmt.Sprint(j == pick)}
					resps, filtered = append(resps, []any{resp}), append(filtered, resp)
				}
				b, err := json.Marshal(map[string]any{"doc_id": i, "doc": doc, "target": fmt.Sprint(answer),
					"arguments": args, "resps": resps, "filtered_resps": filtered, "filter": "none", "metrics": []string{"acc"}})
				if err != nil {
					panic(err)
				}
				logs[k] = append(append(logs[k], b...), '\n')
			}
		}
		for k, name := range llms {
			path := filepath.Join(dir, "logs", name, "samples_mmlu_"+split+".jsonl")
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				panic(err)
			}
			if err := os.WriteFile(path, logs[k], 0o644); err != nil {
				panic(err)
			}
		}
	}
}
