package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/score"
	"github.com/routerdc-go/routerdc/pipeline/score/execute"
	"github.com/routerdc-go/routerdc/pipeline/score/questions"
	"github.com/routerdc-go/routerdc/pipeline/score/stage"
)

const scoreUsage = `routerdc score: make RouterDC score files for your own LLMs.

  score import --from lm-eval --llm NAME --task TASK [--mode normalized|routerdc|flexible] [--out FILE] LOG ...
        lm-evaluation-harness --log_samples files (v0.4.0-0.4.2 JSON arrays or v0.4.3+ JSONL)
  score import --from bigcode --llm NAME --task TASK --problems ROWS [--out FILE] RESULTS.json
        bigcode-evaluation-harness per-sample results (passed / n per problem)
  score import --from bigcode --llm NAME --task TASK --problems ROWS --generations G.json
        --references R.json --execute [--timeout 3s] [--sandbox auto|bwrap|namespaces|none] [--out FILE]
        run the saved generations against their tests here (opt-in: runs model-written code)
  score api --endpoint URL --llm NAME --task TASK --input ROWS --out FILE [--samples M] [--concurrency C] [--request-timeout 60s]
        [--model M] [--chat] [--mc-method auto|echo|first-token] [--temperature T] [--max-tokens N]
        [--seed S] [--mode ...] [--execute] [--api-key KEY]   (default key: $OPENAI_API_KEY)
        score a served model (vLLM, llama.cpp server, Ollama); resumable: a rerun continues in FILE
  score questions --task TASK --input ROWS [--out FILE]
        the task's questions in the paper's text formats, with prompts and answers (JSON lines)
  score merge --out DATASET.json [--llms a,b,...] [--task TASK] [--fill X | --drop-incomplete] [NAME=]FILE ...
        merge per-LLM score files into a RouterDC dataset with one LLM order
  score run [--cache DIR] [--no-cache] [--force] [--dry-run] DECL.yaml
        the declared, cached scoring stage (kind: scores; also "routerdc run DECL.yaml")
  score sandbox [--sandbox auto|bwrap|namespaces|none]
        what code execution isolates on this machine (measured)

TASK: MMLU, GSM8K, CMMLU, ARC-C, HumanEval, PreAlgebra (MATH), MBPP, C-EVAL, or an lm-eval name
(mmlu_anatomy, gsm8k, arc_challenge, ...). ROWS: the task's dataset rows (JSON array or JSON lines,
Hugging Face field names). Score records are JSON lines {"id", "question", "score", "llm", "task"}.
`

func cmdScore(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, scoreUsage)
		return errors.New("give a score command")
	}
	switch args[0] {
	case "import":
		return cmdScoreImport(args[1:])
	case "api":
		return cmdScoreAPI(args[1:])
	case "questions":
		return cmdScoreQuestions(args[1:])
	case "merge":
		return cmdScoreMerge(args[1:])
	case "run":
		return cmdScoreRun(args[1:])
	case "sandbox":
		return cmdScoreSandbox(args[1:])
	case "-h", "--help", "help":
		fmt.Print(scoreUsage)
		return nil
	}
	fmt.Fprint(os.Stderr, scoreUsage)
	return fmt.Errorf("unknown score command %q", args[0])
}

// interruptible cancels on Ctrl-C, so an API run stops with a consistent
// results file.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

const sandboxUsage = "isolation of executed code: `auto|bwrap|namespaces|none` (default auto)"

func cmdScoreImport(args []string) error {
	fs := newFlags("score import --from lm-eval|bigcode --llm NAME --task TASK [--out FILE] FILE ...",
		"Reads lm-evaluation-harness --log_samples files or bigcode-evaluation-harness results into\n"+
			"score records (JSON lines). \"routerdc score help\" shows every form and the tasks.")
	var s stage.Source
	fs.StringVar(&s.From, "from", "", "`lm-eval|bigcode`: the harness that wrote the files")
	fs.StringVar(&s.LLM, "llm", "", "the LLM's `NAME` as in the datasets (org/model)")
	fs.StringVar(&s.Task, "task", "", "the `TASK` (see \"routerdc score help\")")
	fs.StringVar(&s.Mode, "mode", "", "answer checking of generated answers: `normalized|routerdc|flexible` (default normalized)")
	fs.StringVar(&s.Problems, "problems", "", "bigcode: the task's rows `FILE` (for the question text and tests)")
	fs.StringVar(&s.Generations, "generations", "", "bigcode: --save_generations `FILE` (with --execute)")
	fs.StringVar(&s.References, "references", "", "bigcode: --save_references `FILE` (with --execute)")
	fs.BoolVar(&s.Execute, "execute", false, "run model-written code against its tests (opt-in)")
	fs.StringVar(&s.Timeout, "timeout", "", "per-sample execution timeout, a `DURATION` (default 3s)")
	fs.StringVar(&s.Sandbox, "sandbox", "", sandboxUsage)
	fs.StringVar(&s.Key, "key", "", "bigcode: what the results' task_id keys are: `index|task_id` (index: positions, what the harness writes; default: guessed)")
	out := fs.String("out", "", "write the records to `FILE` (default stdout)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if s.From != stage.FromLMEval && s.From != stage.FromBigcode {
		return fmt.Errorf("--from %q: want lm-eval or bigcode (a served model: routerdc score api)", s.From)
	}
	s.Files = fs.Args()
	ctx, cancel := interruptible()
	defer cancel()
	recs, err := s.Records(ctx, stage.RunOptions{Log: os.Stderr})
	if err != nil {
		return err
	}
	return writeScoreRecords(*out, recs)
}

func writeScoreRecords(out string, recs []score.Record) error {
	var b bytes.Buffer
	if err := score.WriteRecords(&b, recs); err != nil {
		return err
	}
	return writeOutput(out, b.Bytes(), fmt.Sprintf("%d records", len(recs)))
}

// writeOutput writes b to stdout when out is "", else atomically to out and
// says so on stderr.
func writeOutput(out string, b []byte, what string) error {
	if out == "" {
		_, err := os.Stdout.Write(b)
		return err
	}
	if err := atomicfile.Write(out, b); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s written to %s\n", what, out)
	return nil
}

func cmdScoreAPI(args []string) error {
	fs := newFlags("score api --endpoint URL --llm NAME --task TASK --input FILE --out FILE [...]",
		"Scores a served model (vLLM, llama.cpp server, Ollama) on a task's rows; resumable: a rerun\n"+
			"continues in the --out file, and refuses other settings than it was started with.")
	s := stage.Source{From: stage.FromAPI}
	fs.StringVar(&s.Endpoint, "endpoint", "", "the server's base `URL`, e.g. http://localhost:8000")
	fs.StringVar(&s.LLM, "llm", "", "the LLM's `NAME` as in the datasets (org/model)")
	fs.StringVar(&s.Model, "model", "", "the model `NAME` the server knows (default --llm)")
	fs.StringVar(&s.Task, "task", "", "the `TASK` (see \"routerdc score help\")")
	fs.StringVar(&s.Input, "input", "", "the task's rows `FILE` (JSON array or JSON lines)")
	fs.IntVar(&s.Samples, "samples", 0, "`N` samples per open-ended query (default 10, as the paper)")
	fs.IntVar(&s.Concurrency, "concurrency", 0, "`N` queries in flight (default 4)")
	reqTimeout := fs.Duration("request-timeout", 60*time.Second, "limit for one HTTP request, a `DURATION`; a request past it is retried")
	fs.BoolVar(&s.Chat, "chat", false, "generate through /v1/chat/completions")
	fs.StringVar(&s.MCMethod, "mc-method", "", "multiple choice: `auto|echo|first-token` (default auto)")
	temp := fs.String("temperature", "", "sampling temperature `T` (default 0.2)")
	fs.IntVar(&s.MaxTokens, "max-tokens", 0, "`N` tokens per generation (default 512)")
	fs.Int64Var(&s.Seed, "seed", 0, "first sampling seed `N`")
	fs.StringVar(&s.Mode, "mode", "", "answer checking: `normalized|routerdc|flexible` (default normalized)")
	fs.BoolVar(&s.Execute, "execute", false, "code tasks: run model-written code against its tests (opt-in)")
	fs.StringVar(&s.Timeout, "timeout", "", "per-sample execution timeout, a `DURATION` (default 3s)")
	fs.StringVar(&s.Sandbox, "sandbox", "", sandboxUsage)
	key := fs.String("api-key", "", "API `KEY` (default $OPENAI_API_KEY)")
	out := fs.String("out", "", "results `FILE` (JSON lines; a rerun resumes it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *out == "" {
		return errors.New("--out FILE is required (the results file a rerun resumes)")
	}
	if *reqTimeout <= 0 {
		return fmt.Errorf("--request-timeout %s: want a positive duration", *reqTimeout)
	}
	s.RequestTimeout = reqTimeout.String()
	if *temp != "" {
		t, err := strconv.ParseFloat(*temp, 64)
		if err != nil {
			return fmt.Errorf("--temperature %q: %v", *temp, err)
		}
		s.Temperature = &t
	}
	// The results file remembers the settings it was scored with, so a
	// rerun with other settings is refused rather than mixing scores.
	fp, err := stage.Key(s)
	if err != nil {
		return err
	}
	ctx, cancel := interruptible()
	defer cancel()
	recs, err := s.Records(ctx, stage.RunOptions{Out: *out, APIKey: *key, Progress: progress(), Log: os.Stderr, Fingerprint: fp})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d queries scored in %s\n", len(recs), *out)
	return nil
}

func cmdScoreQuestions(args []string) error {
	fs := newFlags("score questions --task TASK --input FILE [--out FILE]",
		"Writes the task's questions in the paper's text formats, with prompts and answers (JSON lines).")
	task := fs.String("task", "", "the `TASK` (see \"routerdc score help\")")
	input := fs.String("input", "", "the task's rows `FILE` (JSON array or JSON lines)")
	out := fs.String("out", "", "write to `FILE` (default stdout)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	qs, err := questions.ReadQueries(*task, *input)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := score.WriteQueries(&b, qs); err != nil {
		return err
	}
	return writeOutput(*out, b.Bytes(), fmt.Sprintf("%d queries", len(qs)))
}

// splitList splits a comma-separated flag.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func cmdScoreMerge(args []string) error {
	fs := newFlags("score merge --out FILE [--llms a,b,...] [--task TASK] [--fill X | --drop-incomplete] [NAME=]FILE ...",
		"Merges per-LLM score files into one RouterDC dataset with one LLM order.")
	out := fs.String("out", "", "the RouterDC dataset `FILE` to write (JSON)")
	llms := fs.String("llms", "", "comma-separated LLM order, `NAMES` (default: the order of the files)")
	task := fs.String("task", "", "keep only this `TASK`'s records")
	fill := fs.String("fill", "", "give missing scores the value `X` instead of refusing")
	drop := fs.Bool("drop-incomplete", false, "drop queries some LLM has no score for")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("--out DATASET.json is required")
	}
	if fs.NArg() == 0 {
		return errors.New("give per-LLM score files ([NAME=]FILE)")
	}
	opt := score.MergeOptions{LLMOrder: splitList(*llms), DropIncomplete: *drop}
	if *task != "" {
		t, err := questions.Resolve(*task)
		if err != nil {
			return err
		}
		opt.Task = t.Name
	}
	if *fill != "" {
		v, err := strconv.ParseFloat(*fill, 64)
		if err != nil {
			return fmt.Errorf("--fill %q: %v", *fill, err)
		}
		opt.Fill = &v
	}
	var in []score.Input
	for _, a := range fs.Args() {
		in = append(in, score.ParseInput(a))
	}
	m, err := score.Merge(in, opt)
	if err != nil {
		return err
	}
	if err := m.WriteDataset(*out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d queries x %d LLMs (%s) written to %s", len(m.Rows), len(m.LLMs), strings.Join(m.LLMs, ", "), *out)
	if m.Filled > 0 || m.Dropped > 0 {
		fmt.Fprintf(os.Stderr, "; %d scores filled, %d queries dropped", m.Filled, m.Dropped)
	}
	fmt.Fprintln(os.Stderr)
	return nil
}

func cmdScoreRun(args []string) error {
	fs := newFlags("score run [--cache DIR] [--no-cache] [--force] [--dry-run] FILE ...",
		"Runs scoring declarations (YAML, kind: scores), cached; also \"routerdc run FILE\".")
	cacheDir := fs.String("cache", cache.DefaultDir, "cache `DIR` of stage outputs")
	noCache := fs.Bool("no-cache", false, "neither read nor write the cache")
	force := fs.Bool("force", false, "recompute every step even when cached")
	dryRun := fs.Bool("dry-run", false, "print what would run, run nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("give scoring declarations (YAML, kind: scores)")
	}
	for _, f := range fs.Args() {
		d, err := stage.Load(f)
		if err != nil {
			return err
		}
		if err := runScoreDecl(d, f, *cacheDir, *noCache, *force, *dryRun); err != nil {
			return err
		}
	}
	return nil
}

func runScoreDecl(d *stage.Decl, file, cacheDir string, noCache, force, dryRun bool) error {
	start := time.Now()
	o := stage.Options{Force: force, DryRun: dryRun, Progress: progress(), Log: os.Stderr}
	if !noCache {
		store, err := cache.Open(cacheDir, cache.DefaultWait, os.Stderr)
		if err != nil {
			return err
		}
		defer store.Close()
		o.Cache = store
	}
	ctx, cancel := interruptible()
	defer cancel()
	fmt.Fprintf(os.Stderr, "%s (%s)\n", d.Name, file)
	res, err := stage.Run(ctx, d, o)
	if err != nil {
		return err
	}
	if !dryRun {
		fmt.Fprintf(os.Stderr, "%s finished in %s (score: %d cached, %d ran)\n", d.Name,
			time.Since(start).Round(time.Millisecond), res.Cached, res.Scored)
		printOutputs(nil, res.Written)
	}
	return nil
}

func cmdScoreSandbox(args []string) error {
	fs := newFlags("score sandbox [--sandbox auto|bwrap|namespaces|none]",
		"Says what code execution isolates on this machine (measured, not assumed).")
	sandbox := fs.String("sandbox", "", sandboxUsage)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rep, err := execute.Isolation(execute.Options{Sandbox: execute.Sandbox(*sandbox)})
	if err != nil {
		return err
	}
	fmt.Println(rep.String())
	if m := rep.Missing(); len(m) > 0 {
		fmt.Fprintf(os.Stderr, "not isolated: %s\n", strings.Join(m, "; "))
	}
	return nil
}
