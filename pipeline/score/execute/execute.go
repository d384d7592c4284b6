// Package execute runs generated Python programs against their reference
// tests, as bigcode-evaluation-harness does for HumanEval and MBPP: one
// subprocess per sample running program + "\n" + tests in a fresh temp dir,
// with a wall-clock timeout (3 s by default).
//
// Running model-written code is dangerous, so callers must opt in, and the
// package confines each sample as far as the machine allows: bubblewrap when
// it is installed (no network, read-only filesystem except the work dir,
// private PID namespace), else Linux user and network namespaces, always
// resource limits. What is actually in force is measured, not assumed:
// Isolation reports it so that a missing protection can be named.
package execute

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a run. The zero value means the defaults.
type Options struct {
	// Timeout is the wall-clock limit per sample (default 3 s, as the
	// harness). On expiry the sample's whole process tree is killed.
	Timeout time.Duration
	// MemoryBytes is RLIMIT_AS (address space) per process; 0 means 1 GiB,
	// negative means no limit.
	MemoryBytes int64
	// MaxProcs is RLIMIT_NPROC (processes and threads); 0 means 64, negative
	// means no limit. It is only applied where it counts the sample's own
	// processes (a private user namespace), see Report.Processes.
	MaxProcs int
	// FileBytes is RLIMIT_FSIZE, the largest file a sample may write; 0
	// means 16 MiB, negative means no limit.
	FileBytes int64
	// OutputBytes bounds how much of stdout and of stderr is kept (the head
	// and the tail); 0 means 8 KiB.
	OutputBytes int
	// Python is the interpreter, a name looked up on PATH or a path; default
	// "python3".
	Python string
	// Sandbox picks the isolation; "" (Auto) uses the strongest that works.
	Sandbox Sandbox
}

const (
	defaultTimeout     = 3 * time.Second
	defaultMemoryBytes = 1 << 30
	defaultMaxProcs    = 64
	defaultFileBytes   = 16 << 20
	defaultOutputBytes = 8 << 10
)

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.MemoryBytes == 0 {
		o.MemoryBytes = defaultMemoryBytes
	}
	if o.MaxProcs == 0 {
		o.MaxProcs = defaultMaxProcs
	}
	if o.FileBytes == 0 {
		o.FileBytes = defaultFileBytes
	}
	if o.OutputBytes <= 0 {
		o.OutputBytes = defaultOutputBytes
	}
	if o.Python == "" {
		o.Python = "python3"
	}
	return o
}

// Outcomes, as the harness writes them in its per-sample results.
const (
	OutcomePassed   = "passed"
	OutcomeTimedOut = "timed out"
	failedPrefix    = "failed: "
)

// Result is one sample's run.
type Result struct {
	Passed bool
	// Outcome is "passed", "timed out" or "failed: <reason>", the reason
	// being the last line of stderr (usually the exception).
	Outcome string
	// ExitCode is the interpreter's exit status, -1 if it was killed or
	// never ran.
	ExitCode int
	// Stdout and Stderr are bounded to Options.OutputBytes each (head and
	// tail kept, the middle replaced by a marker).
	Stdout, Stderr string
	Duration       time.Duration
	// Err is set when the sample could not be judged (no interpreter, no
	// sandbox, the caller's context ended): not a failed sample.
	Err error
}

// Run executes program + "\n" + tests in a fresh temp dir, removed
// afterwards, and reports whether it exited with status 0 within the timeout.
func Run(ctx context.Context, program, tests string, opt Options) Result {
	opt = opt.withDefaults()
	sb, err := sandboxFor(opt)
	if err != nil {
		return setupFailure(err)
	}
	lim := limits{
		memory: opt.MemoryBytes,
		procs:  int64(opt.MaxProcs),
		file:   opt.FileBytes,
		// A CPU-time backstop in case the wall-clock kill fails; one second
		// above the timeout so that the timeout is what normally fires.
		cpu: int64(math.Ceil(opt.Timeout.Seconds())) + 1,
	}
	if !sb.nprocUsable {
		lim.procs = -1
	}
	return sb.run(ctx, program+"\n"+tests, nil, lim, opt.Timeout, opt.OutputBytes)
}

func setupFailure(err error) Result {
	return Result{Outcome: failedPrefix + err.Error(), ExitCode: -1, Err: err}
}

// PassRate runs every sample against the same tests, concurrency at a time
// (at least 1), and returns the fraction that passed: the per-problem
// pass@1 score. Results are in the order of samples. An error means some
// sample could not be judged; the rate is then not meaningful.
func PassRate(ctx context.Context, samples []string, tests string, opt Options, concurrency int) (float64, []Result, error) {
	if len(samples) == 0 {
		return 0, nil, errors.New("execute: no samples")
	}
	concurrency = max(concurrency, 1)
	results := make([]Result, len(samples))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, s := range samples {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = Run(ctx, s, tests, opt)
		}()
	}
	wg.Wait()
	passed := 0
	for i, r := range results {
		if r.Err != nil {
			return 0, results, fmt.Errorf("execute: sample %d: %w", i, r.Err)
		}
		if r.Passed {
			passed++
		}
	}
	return float64(passed) / float64(len(samples)), results, nil
}

// limits are the rlimits the preamble sets; -1 means none.
type limits struct{ memory, procs, file, cpu int64 }

// preamble runs first in the interpreter: it sets the limits (hard = soft,
// so an unprivileged program cannot raise them again) and then runs the
// sample as __main__. Doing this in Python needs no prlimit binary and works
// inside every sandbox. argv: AS NPROC FSIZE CPU program [args...].
const preamble = `import resource, runpy, sys
for name, value in zip(("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_CPU"), sys.argv[1:5]):
    value = int(value)
    if value >= 0:
        res = getattr(resource, name)
        hard = resource.getrlimit(res)[1]
        if hard != resource.RLIM_INFINITY and hard < value:
            value = hard
        resource.setrlimit(res, (value, value))
sys.argv = sys.argv[5:]
runpy.run_path(sys.argv[0], run_name="__main__")
`

// programFile is the sample's file name inside its work dir.
const programFile = "program.py"

// run executes source in a fresh work dir inside sb.
func (sb *sandbox) run(ctx context.Context, source string, args []string, lim limits, timeout time.Duration, outputBytes int) Result {
	start := time.Now()
	dir, err := os.MkdirTemp("", "routerdc-exec-*")
	if err != nil {
		return setupFailure(err)
	}
	defer removeAll(dir)
	if err := os.WriteFile(filepath.Join(dir, programFile), []byte(source), 0o644); err != nil {
		return setupFailure(err)
	}

	pyArgs := []string{"-I", "-B", "-c", preamble,
		strconv.FormatInt(lim.memory, 10), strconv.FormatInt(lim.procs, 10),
		strconv.FormatInt(lim.file, 10), strconv.FormatInt(lim.cpu, 10),
		programFile}
	pyArgs = append(pyArgs, args...)

	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd, err := sb.command(runCtx, dir, pyArgs)
	if err != nil {
		return setupFailure(err)
	}
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + dir,
		"TMPDIR=" + dir,
		"LANG=C.UTF-8",
		// Numeric libraries start a thread per core, which would trip the
		// process limit on a large machine; the harness sets these too.
		"OMP_NUM_THREADS=1",
		"OPENBLAS_NUM_THREADS=1",
		"MKL_NUM_THREADS=1",
	}
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }

	// Our own pipes rather than exec's: Wait then returns when the
	// interpreter exits, even if a stray child still holds the write ends.
	stdout, stderr := newCapture(outputBytes), newCapture(outputBytes)
	outR, outW, err := os.Pipe()
	if err != nil {
		return setupFailure(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return setupFailure(err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	startErr := cmd.Start()
	outW.Close()
	errW.Close()
	if startErr != nil {
		outR.Close()
		errR.Close()
		return setupFailure(fmt.Errorf("start %s: %w", cmd.Path, startErr))
	}
	copied := make(chan struct{}, 2)
	go func() { io.Copy(stdout, outR); copied <- struct{}{} }()
	go func() { io.Copy(stderr, errR); copied <- struct{}{} }()

	waitErr := cmd.Wait()
	// Children the sample left behind die with it, whether it passed or not.
	killGroup(cmd.Process.Pid)
	drain := time.After(500 * time.Millisecond)
	for pending := 2; pending > 0; {
		select {
		case <-copied:
			pending--
		case <-drain:
			// Something outside the group (it called setsid) still holds a
			// pipe: stop reading rather than wait for it.
			outR.Close()
			errR.Close()
			drain = nil
		}
	}
	outR.Close()
	errR.Close()

	res := Result{
		ExitCode: -1,
		Stdout:   stdout.String(),
		Stderr:   stderr.String(),
		Duration: time.Since(start),
	}
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	switch {
	case waitErr == nil:
		res.Passed, res.Outcome = true, OutcomePassed
	case ctx.Err() != nil:
		res.Err = ctx.Err()
		res.Outcome = failedPrefix + ctx.Err().Error()
	case runCtx.Err() != nil || cpuLimitKilled(cmd.ProcessState):
		res.Outcome = OutcomeTimedOut
	default:
		res.Outcome = failedPrefix + failureReason(res.Stderr, cmd.ProcessState)
	}
	return res
}

// failureReason is the last non-empty stderr line, which for an uncaught
// exception is "AssertionError" or "NameError: name 'x' is not defined".
func failureReason(stderr string, ps *os.ProcessState) string {
	lines := strings.Split(strings.TrimRight(stderr, "\n \t"), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		if len(last) > 200 {
			last = last[:200] + "..."
		}
		return last
	}
	if ps != nil {
		return ps.String()
	}
	return "unknown error"
}

// removeAll removes a work dir even if the sample took the write permission
// off its subdirectories.
func removeAll(dir string) {
	if os.RemoveAll(dir) == nil {
		return
	}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(path, 0o700)
		}
		return nil
	})
	os.RemoveAll(dir)
}

// capture keeps the first and the last max/2 bytes written to it, so that
// both the start of the output and the final exception survive.
type capture struct {
	max     int
	head    []byte
	tail    []byte
	dropped int64
}

func newCapture(max int) *capture { return &capture{max: max} }

func (c *capture) Write(p []byte) (int, error) {
	n := len(p)
	if room := c.max/2 - len(c.head); room > 0 {
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	c.tail = append(c.tail, p...)
	if keep := c.max - c.max/2; len(c.tail) > 2*keep {
		c.dropped += int64(len(c.tail) - keep)
		c.tail = append(c.tail[:0], c.tail[len(c.tail)-keep:]...)
	}
	return n, nil
}

func (c *capture) String() string {
	keep := c.max - c.max/2
	tail, dropped := c.tail, c.dropped
	if len(tail) > keep {
		dropped += int64(len(tail) - keep)
		tail = tail[len(tail)-keep:]
	}
	if dropped == 0 {
		return string(c.head) + string(tail)
	}
	return fmt.Sprintf("%s\n[... %d bytes dropped ...]\n%s", c.head, dropped, tail)
}
