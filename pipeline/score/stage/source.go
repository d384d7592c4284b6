// Package stage is the scoring stage of the pipeline: a declared list of
// score sources (evaluation logs or a served model, one LLM and task each)
// scored into per-LLM record files, then merged into RouterDC-format
// datasets, every step cached like the other stages. The CLI's `routerdc
// score import|api` run one Source directly.
package stage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/score"
	"github.com/routerdc-go/routerdc/pipeline/score/answer"
	"github.com/routerdc-go/routerdc/pipeline/score/api"
	"github.com/routerdc-go/routerdc/pipeline/score/bigcode"
	"github.com/routerdc-go/routerdc/pipeline/score/execute"
	"github.com/routerdc-go/routerdc/pipeline/score/lmeval"
	"github.com/routerdc-go/routerdc/pipeline/score/questions"
	"github.com/routerdc-go/routerdc/pipeline/yamlstrict"

	"gopkg.in/yaml.v3"
)

// label names the source for people: "org/a on MMLU (split train)".
func (s Source) label() string {
	if s.Split == "" {
		return s.LLM + " on " + s.Task
	}
	return s.LLM + " on " + s.Task + " (split " + s.Split + ")"
}

// Where scores come from.
const (
	FromLMEval  = "lm-eval" // lm-evaluation-harness --log_samples files
	FromBigcode = "bigcode" // bigcode-evaluation-harness per-sample results, or generations to execute
	FromAPI     = "api"     // an OpenAI-compatible server, scored here
)

// Source is one LLM's scores on one task and where they come from. Paths are
// relative to the declaration's directory (or the working directory on the
// command line).
type Source struct {
	LLM  string `yaml:"llm" json:"llm"`
	Task string `yaml:"task" json:"task"`
	// Split tells apart the scores of one LLM on one task's different
	// splits (say train and test, each its own log); a dataset merges the
	// sources of its split. Empty is a split of its own.
	Split string `yaml:"split" json:"split,omitempty"`
	From  string `yaml:"from" json:"from"`
	// Cost is the LLM's price of one query in dollars, recorded with each
	// score (the datasets then carry costs; optional).
	Cost *float64 `yaml:"cost" json:"cost,omitempty"`
	// Files: lm-eval log files; for bigcode one per-sample results file.
	Files []string `yaml:"files" json:"files,omitempty"`
	// Mode checks generated answers (GSM8K, MATH): normalized (default),
	// routerdc (the paper's exact string rule) or flexible.
	Mode string `yaml:"mode" json:"mode,omitempty"`

	// Problems: the task's rows (bigcode; HumanEval/MBPP test split in the
	// harness's order), for the question text and the tests.
	Problems string `yaml:"problems" json:"problems,omitempty"`
	// Generations and References: bigcode --save_generations and
	// --save_references files, run here when Execute is set.
	Generations string `yaml:"generations" json:"generations,omitempty"`
	References  string `yaml:"references" json:"references,omitempty"`
	// Key says what bigcode results' keys are: "index" (positions, what
	// the harness writes) or "task_id"; empty guesses (see bigcode.KeyAuto).
	Key string `yaml:"key" json:"key,omitempty"`
	// Execute opts into running model-written code (bigcode generations,
	// or code tasks scored through the API).
	Execute bool `yaml:"execute" json:"execute,omitempty"`
	// Timeout per executed sample (default 3s) and the sandbox (auto,
	// bwrap, namespaces, none).
	Timeout string `yaml:"timeout" json:"timeout,omitempty"`
	Sandbox string `yaml:"sandbox" json:"sandbox,omitempty"`

	// API scoring: the server, the task rows to build questions from
	// (Input) and how to sample.
	Endpoint    string   `yaml:"endpoint" json:"endpoint,omitempty"`
	Model       string   `yaml:"model" json:"model,omitempty"`
	Input       string   `yaml:"input" json:"input,omitempty"`
	Samples     int      `yaml:"samples" json:"samples,omitempty"`
	Chat        bool     `yaml:"chat" json:"chat,omitempty"`
	MCMethod    string   `yaml:"mc_method" json:"mc_method,omitempty"`
	Temperature *float64 `yaml:"temperature" json:"temperature,omitempty"`
	MaxTokens   int      `yaml:"max_tokens" json:"max_tokens,omitempty"`
	Seed        int64    `yaml:"seed" json:"seed,omitempty"`
	// Concurrency, RequestTimeout (the limit for one HTTP request, default
	// 60s) and APIKeyEnv do not change the scores, so they stay out of the
	// cache key (json "-"); the key itself is never written in a declaration.
	Concurrency    int    `yaml:"concurrency" json:"-"`
	RequestTimeout string `yaml:"request_timeout" json:"-"`
	APIKeyEnv      string `yaml:"api_key_env" json:"-"`

	line int
}

func (s *Source) UnmarshalYAML(n *yaml.Node) error {
	type plain Source
	if err := yamlstrict.Decode(n, "sources[]", (*plain)(s)); err != nil {
		return err
	}
	s.line = n.Line
	return nil
}

// Check reports a source that cannot run, naming the missing or misused key.
func (s *Source) Check() error {
	if s.LLM == "" {
		return errors.New(`"llm" is missing`)
	}
	if s.Cost != nil && !(*s.Cost >= 0 && *s.Cost < math.Inf(1)) {
		return fmt.Errorf(`"cost": %v is not a finite non-negative number of dollars`, *s.Cost)
	}
	if _, err := questions.Resolve(s.Task); err != nil {
		return fmt.Errorf(`"task": %w`, err)
	}
	if _, err := answer.ParseMode(s.Mode); err != nil {
		return fmt.Errorf(`"mode": %w`, err)
	}
	if s.Timeout != "" {
		if _, err := time.ParseDuration(s.Timeout); err != nil {
			return fmt.Errorf(`"timeout": %w`, err)
		}
	}
	if _, err := s.requestTimeout(); err != nil {
		return err
	}
	apiOnly := s.Endpoint != "" || s.Input != "" || s.Samples != 0 || s.Chat || s.MCMethod != "" ||
		s.Temperature != nil || s.MaxTokens != 0 || s.Model != "" || s.Concurrency != 0 || s.APIKeyEnv != "" ||
		s.RequestTimeout != ""
	switch s.From {
	case FromLMEval:
		if len(s.Files) == 0 {
			return errors.New(`from lm-eval needs "files"`)
		}
		if apiOnly || s.Problems != "" || s.Generations != "" || s.Execute || s.Key != "" {
			return errors.New(`from lm-eval takes "files" and "mode" only`)
		}
	case FromBigcode:
		if s.Problems == "" {
			return errors.New(`from bigcode needs "problems" (the task's rows, for the question text)`)
		}
		if apiOnly {
			return errors.New(`from bigcode does not take API keys ("endpoint", "input", ...)`)
		}
		if k := bigcode.KeyMode(s.Key); k != bigcode.KeyAuto && k != bigcode.KeyIndex && k != bigcode.KeyTaskID {
			return fmt.Errorf(`"key": %q, want index or task_id`, s.Key)
		}
		switch {
		case len(s.Files) == 1 && s.Generations == "":
		case len(s.Files) == 0 && s.Generations != "" && s.References != "":
			if !s.Execute {
				return errors.New(`scoring bigcode generations runs model-written code: set "execute: true" to opt in`)
			}
		default:
			return errors.New(`from bigcode needs either one per-sample results file in "files", or "generations" and "references" (with "execute: true")`)
		}
	case FromAPI:
		if s.Endpoint == "" || s.Input == "" {
			return errors.New(`from api needs "endpoint" and "input" (the task's rows)`)
		}
		if len(s.Files) > 0 || s.Problems != "" || s.Generations != "" || s.Key != "" {
			return errors.New(`from api takes "input", not "files", "problems" or "generations"`)
		}
	default:
		return fmt.Errorf(`"from": %q, want %s, %s or %s`, s.From, FromLMEval, FromBigcode, FromAPI)
	}
	return nil
}

// requestTimeout is RequestTimeout parsed; 0 (api's default) when unset.
func (s *Source) requestTimeout() (time.Duration, error) {
	if s.RequestTimeout == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s.RequestTimeout)
	if err != nil {
		return 0, fmt.Errorf(`"request_timeout": %w`, err)
	}
	if d <= 0 {
		return 0, fmt.Errorf(`"request_timeout": %s is not a positive duration`, s.RequestTimeout)
	}
	return d, nil
}

// inputs are the files a source reads: their contents enter its cache key.
func (s *Source) inputs() []string {
	out := append([]string{}, s.Files...)
	for _, p := range []string{s.Problems, s.Generations, s.References, s.Input} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// RunOptions say how to run one source.
type RunOptions struct {
	// Out is the API results file: appended to as queries finish, so a
	// killed run resumes (required for FromAPI).
	Out string
	// APIKey overrides the key read from the source's api_key_env (or
	// OPENAI_API_KEY).
	APIKey   string
	Progress io.Writer
	// Log receives one-line notes (the sandbox in force, resumed queries).
	Log io.Writer
	// Fingerprint is kept beside the API results file; resuming a file
	// scored with another one is refused (see Key).
	Fingerprint string
}

// Records scores the source. Paths must already be resolved.
func (s *Source) Records(ctx context.Context, r RunOptions) ([]score.Record, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	mode, _ := answer.ParseMode(s.Mode)
	log := r.Log
	if log == nil {
		log = io.Discard
	}
	switch s.From {
	case FromLMEval:
		return lmeval.ImportFiles(s.Files, lmeval.Options{Task: s.Task, LLM: s.LLM, Mode: mode})
	case FromBigcode:
		opts := bigcode.Options{Task: s.Task, LLM: s.LLM, Key: bigcode.KeyMode(s.Key)}
		if len(s.Files) == 1 {
			return bigcode.Import(s.Files[0], s.Problems, opts)
		}
		progs, err := bigcode.LoadPrograms(s.Generations, s.References, s.Problems, opts)
		if err != nil {
			return nil, err
		}
		return s.executePrograms(ctx, progs, log)
	default:
		return s.api(ctx, r, mode, log)
	}
}

func (s *Source) execOptions(log io.Writer) (execute.Options, error) {
	opt := execute.Options{Sandbox: execute.Sandbox(s.Sandbox)}
	if s.Timeout != "" {
		opt.Timeout, _ = time.ParseDuration(s.Timeout)
	}
	rep, err := execute.Isolation(opt)
	if err != nil {
		return opt, err
	}
	fmt.Fprintf(log, "executing model-written code; isolation in force:\n%s\n", indent(rep.String()))
	if missing := rep.Missing(); len(missing) > 0 {
		fmt.Fprintf(log, "WARNING: not isolated: %v\n", missing)
	}
	return opt, nil
}

func (s *Source) executePrograms(ctx context.Context, progs []bigcode.Program, log io.Writer) ([]score.Record, error) {
	opt, err := s.execOptions(log)
	if err != nil {
		return nil, err
	}
	task, _ := questions.Resolve(s.Task)
	out := make([]score.Record, 0, len(progs))
	for _, p := range progs {
		rate, _, err := execute.PassRate(ctx, p.Samples, p.Reference, opt, 2)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.ID, err)
		}
		out = append(out, score.Record{ID: p.ID, Question: p.Question, Score: rate, LLM: s.LLM, Task: task.Name})
	}
	return out, nil
}

func (s *Source) api(ctx context.Context, r RunOptions, mode answer.Mode, log io.Writer) ([]score.Record, error) {
	if r.Out == "" {
		return nil, errors.New("scoring through an API needs a results file (--out)")
	}
	qs, err := questions.ReadQueries(s.Task, s.Input)
	if err != nil {
		return nil, err
	}
	check, err := s.checker(qs, mode, log)
	if err != nil {
		return nil, err
	}
	key := r.APIKey
	if key == "" {
		env := s.APIKeyEnv
		if env == "" {
			env = "OPENAI_API_KEY"
		}
		key = os.Getenv(env)
	}
	timeout, _ := s.requestTimeout() // checked by Check
	opt := api.Options{
		Endpoint: s.Endpoint, LLM: s.LLM, Model: s.Model, APIKey: key, Out: r.Out, Chat: s.Chat,
		MCMethod: s.MCMethod, Samples: s.Samples, Temperature: s.Temperature, MaxTokens: s.MaxTokens,
		Seed: s.Seed, Concurrency: s.Concurrency, Timeout: timeout, Progress: r.Progress, Log: log,
		Fingerprint: r.Fingerprint,
	}
	if r.Fingerprint != "" {
		if opt.Settings, err = s.settings(mode); err != nil {
			return nil, err
		}
	}
	_, err = api.Run(ctx, qs, check, opt)
	if err != nil {
		return nil, err
	}
	return score.ReadRecords(r.Out)
}

// settings are what decides an API source's scores beyond api.Options,
// as the results file keeps them, so that a refused rerun names what
// changed; defaults are applied as Key applies them.
func (s *Source) settings(mode answer.Mode) ([]api.Setting, error) {
	t, _ := questions.Resolve(s.Task) // checked by Check
	task := t.Name
	if t.Subtask != "" {
		task += "/" + t.Subtask
	}
	sum, err := data.FileSHA256(s.Input)
	if err != nil {
		return nil, err
	}
	timeout := 3 * time.Second
	if s.Timeout != "" {
		timeout, _ = time.ParseDuration(s.Timeout) // checked by Check
	}
	return []api.Setting{
		{Name: "task", Value: task},
		{Name: "mode", Value: string(cmp.Or(mode, answer.Normalized))},
		{Name: "input_sha256", Value: sum},
		{Name: "execute", Value: strconv.FormatBool(s.Execute)},
		{Name: "timeout", Value: timeout.String()},
		{Name: "sandbox", Value: cmp.Or(s.Sandbox, "auto")},
	}, nil
}

// checker checks one sampled output: the answer checker of the task, or for
// code tasks the program run against its tests (opt-in).
func (s *Source) checker(qs []score.Query, mode answer.Mode, log io.Writer) (api.Checker, error) {
	kind := score.Generate
	if len(qs) > 0 {
		kind = qs[0].Kind
	}
	switch kind {
	case score.MultipleChoice:
		return func(score.Query, string) (float64, error) {
			return 0, errors.New("multiple-choice queries are scored from log-likelihoods, not checked")
		}, nil
	case score.Code:
		if !s.Execute {
			return nil, fmt.Errorf("%s is a code task: scoring it runs model-written code; opt in with --execute (execute: true)", s.Task)
		}
		opt, err := s.execOptions(log)
		if err != nil {
			return nil, err
		}
		return func(q score.Query, output string) (float64, error) {
			res := execute.Run(context.Background(), q.Prompt+output, q.Tests, opt)
			if res.Err != nil {
				return 0, res.Err
			}
			if res.Passed {
				return 1, nil
			}
			return 0, nil
		}, nil
	default:
		ans, err := answer.For(s.Task, mode)
		if err != nil {
			return nil, err
		}
		return func(q score.Query, output string) (float64, error) { return ans(output, q.Answer) }, nil
	}
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }
