// Command scaledata writes a synthetic dataset at RouterBench's full size
// for the scale benchmark (benchmarks/scale.sh): 36,497 prompts x 11 LLMs in
// RouterBench's CSV layout, split into train.csv (about 30,000) and
// test.csv, plus the dataset and tables declarations that run on them.
// Prompts are made of topic words, so routing is learnable; each LLM is
// better on some topics, dearer LLMs better overall. Seeded: the same
// bytes every run.
//
//	go run ./benchmarks/scaledata DIR
package main

import (
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	prompts = 36497
	nLLMs   = 11
	testOf  = 6 // one prompt in 6 of each task goes to the test split (about 6,090)
)

var evals = []string{"mmlu", "gsm8k", "hellaswag", "winogrande", "arc-challenge", "mbpp", "mt-bench", "grade-school-math"}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: scaledata DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail(err)
	}
	llms := make([]string, nLLMs)
	for k := range llms {
		llms[k] = fmt.Sprintf("vendor/llm-%02d", k)
	}
	head := []string{"", "sample_id", "prompt", "eval_name"}
	head = append(head, llms...)
	for _, l := range llms {
		head = append(head, l+"|model_response")
	}
	for _, l := range llms {
		head = append(head, l+"|total_cost")
	}
	head = append(head, "oracle_model_to_route_to")
	files := map[string]*csv.Writer{}
	for _, split := range []string{"train", "test"} {
		f, err := os.Create(filepath.Join(dir, split+".csv"))
		if err != nil {
			fail(err)
		}
		defer f.Close()
		w := csv.NewWriter(f)
		defer w.Flush()
		files[split] = w
		if err := w.Write(head); err != nil {
			fail(err)
		}
	}
	rng := rand.New(rand.NewPCG(2024, 11))
	words := make([][]string, len(evals))
	for e := range evals {
		for w := range 40 {
			words[e] = append(words[e], fmt.Sprintf("%s%c%d", evals[e][:3], 'a'+rune(w%26), w))
		}
	}
	for i := range prompts {
		e := i % len(evals)
		var b strings.Builder
		for range 12 + rng.IntN(40) {
			b.WriteString(words[e][rng.IntN(len(words[e]))] + " ")
		}
		rec := []string{strconv.Itoa(i), fmt.Sprintf("%s.%d", evals[e], i), b.String(), evals[e]}
		best, bestScore := 0, -1.0
		scores := make([]string, nLLMs)
		for k := range nLLMs {
			p := 0.3 + 0.04*float64(k)
			if (k+e)%4 == 0 {
				p += 0.3 // each LLM's strong benchmarks
			}
			s := 0.0
			if rng.Float64() < p {
				s = 1
			}
			if s > bestScore {
				best, bestScore = k, s
			}
			scores[k] = strconv.FormatFloat(s, 'f', 1, 64)
		}
		rec = append(rec, scores...)
		for range nLLMs {
			rec = append(rec, "['answer']")
		}
		for k := range nLLMs {
			cost := float64(b.Len()) / 4 * 1e-7 * float64(1+k*k)
			rec = append(rec, strconv.FormatFloat(cost, 'g', 6, 64))
		}
		rec = append(rec, llms[best])
		split := "train"
		if (i/len(evals))%testOf == 0 { // every task in both splits
			split = "test"
		}
		if err := files[split].Write(rec); err != nil {
			fail(err)
		}
	}
	var tasks strings.Builder
	for _, e := range evals {
		fmt.Fprintf(&tasks, "  - {name: %s, train: [train.csv], test: test.csv, eval_name: %s, metric: probability}\n", e, e)
	}
	decls := map[string]string{
		"data.yaml": "name: scale\nkind: dataset\nformat: routerbench\ntasks:\n" + tasks.String(),
		// Every training row, the default RouterDC (our t-SNE groups).
		"tables.yaml": "name: scale\nkind: tables\ndata: data.yaml\nseeds: [1]\nsettings: \"samples_per_task=0\"\n" +
			"methods:\n  - {name: RouterDC, kind: routerdc, settings: \"router=routerdc\"}\n",
	}
	for name, text := range decls {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "scaledata:", err)
	os.Exit(1)
}
