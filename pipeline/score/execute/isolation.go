package execute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sandbox names an isolation method.
type Sandbox string

const (
	// Auto picks the strongest method that works here: Bwrap, then
	// Namespaces, then None.
	Auto Sandbox = ""
	// Bwrap runs the interpreter under bubblewrap: new user, network, PID,
	// IPC and UTS namespaces, the root filesystem read-only, only the work
	// dir writable, all capabilities dropped.
	Bwrap Sandbox = "bwrap"
	// Namespaces clones the interpreter into new user, network, PID, IPC and
	// UTS namespaces itself (what `unshare -r -n -p` does): no network and
	// a clean kill, but the filesystem is as writable as for the caller.
	Namespaces Sandbox = "namespaces"
	// None is a plain subprocess with resource limits only.
	None Sandbox = "none"
)

// Protection is one measured aspect of the isolation.
type Protection struct {
	OK bool
	// How says what provides the protection, or, starting with "NOT", why
	// it is missing.
	How string
}

// Report is what a sample run here is protected against, measured by running
// a probe program in the sandbox (it tries to write outside its dir, connect
// to a local port, map memory, fork, and raise its limits).
type Report struct {
	Sandbox Sandbox
	// Python is the interpreter actually run (pyenv-style shims resolved).
	Python string
	// Network: the program cannot open connections (not even to localhost).
	Network Protection
	// Filesystem: the program can write only inside its own work dir.
	Filesystem Protection
	// Memory: RLIMIT_AS holds and the program cannot raise it.
	Memory Protection
	// Processes: RLIMIT_NPROC bounds the number of processes the program
	// can start (a fork bomb).
	Processes Protection
	// Cleanup: on timeout every process the program started dies, even one
	// that left the process group.
	Cleanup Protection
	// Skipped says why stronger sandboxes were not used (Auto only).
	Skipped []string
}

func (r Report) protections() []struct {
	name string
	p    Protection
} {
	return []struct {
		name string
		p    Protection
	}{
		{"network", r.Network}, {"filesystem", r.Filesystem}, {"memory limit", r.Memory},
		{"process limit", r.Processes}, {"cleanup", r.Cleanup},
	}
}

// Lines describes each protection, one line each, e.g.
// "network: isolated: fresh network namespace (bwrap)".
func (r Report) Lines() []string {
	out := []string{fmt.Sprintf("sandbox: %s (python %s)", r.Sandbox, r.Python)}
	for _, x := range r.protections() {
		out = append(out, x.name+": "+x.p.How)
	}
	for _, s := range r.Skipped {
		out = append(out, "not used: "+s)
	}
	return out
}

// Missing names the protections that are not in place ("network", ...).
func (r Report) Missing() []string {
	var out []string
	for _, x := range r.protections() {
		if !x.p.OK {
			out = append(out, x.name)
		}
	}
	return out
}

func (r Report) String() string { return strings.Join(r.Lines(), "\n") }

// Isolation probes (once per interpreter and Sandbox) and reports what a
// sample run with opt would be protected against. An error means no sample
// can run: no interpreter, or the requested Sandbox does not work here.
func Isolation(opt Options) (Report, error) {
	sb, err := sandboxFor(opt.withDefaults())
	if err != nil {
		return Report{}, err
	}
	return sb.report, nil
}

// sandbox is a probed, working isolation method.
type sandbox struct {
	kind   Sandbox
	python string // resolved interpreter
	bwrap  string // bubblewrap binary, for Bwrap
	// nprocUsable: RLIMIT_NPROC counts only the sample's own processes and
	// holds, so it is safe and useful to set.
	nprocUsable bool
	report      Report
}

type cacheKey struct {
	python  string
	sandbox Sandbox
}

var (
	cacheMu sync.Mutex
	cache   = map[cacheKey]*sandbox{}
)

// sandboxFor returns the probed sandbox for opt, probing on first use. Errors
// are not cached: a missing tool may be installed while the process runs.
func sandboxFor(opt Options) (*sandbox, error) {
	key := cacheKey{opt.Python, opt.Sandbox}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if sb := cache[key]; sb != nil {
		return sb, nil
	}
	python, err := resolvePython(opt.Python)
	if err != nil {
		return nil, err
	}
	var sb *sandbox
	switch opt.Sandbox {
	case Auto:
		var skipped []string
		for _, kind := range []Sandbox{Bwrap, Namespaces, None} {
			sb, err = probe(kind, python)
			if err == nil {
				break
			}
			skipped = append(skipped, err.Error())
		}
		if err != nil {
			return nil, fmt.Errorf("execute: no way to run %s here: %s", python, strings.Join(skipped, "; "))
		}
		sb.report.Skipped = skipped
	case Bwrap, Namespaces, None:
		if sb, err = probe(opt.Sandbox, python); err != nil {
			return nil, fmt.Errorf("execute: %w", err)
		}
	default:
		return nil, fmt.Errorf("execute: unknown sandbox %q (want bwrap, namespaces or none)", opt.Sandbox)
	}
	cache[key] = sb
	return sb, nil
}

// resolvePython finds the interpreter and asks it for its real path: a
// pyenv or asdf shim is a shell script that needs the caller's environment,
// which the sandbox does not pass on.
func resolvePython(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("execute: python interpreter %q not found: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-I", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		return "", fmt.Errorf("execute: %s does not run: %w", path, err)
	}
	real := strings.TrimSpace(string(out))
	if real == "" {
		return path, nil
	}
	return real, nil
}

// command builds the process for one run; pyArgs follow the interpreter.
func (sb *sandbox) command(ctx context.Context, dir string, pyArgs []string) (*exec.Cmd, error) {
	switch sb.kind {
	case Bwrap:
		args := []string{
			"--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
			// Everything read-only (also /tmp, so that nothing written there
			// outlives the run), fresh /dev and /proc, then the work dir
			// writable on top.
			"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
			"--bind", dir, dir, "--chdir", dir,
			"--", sb.python,
		}
		cmd := exec.CommandContext(ctx, sb.bwrap, append(args, pyArgs...)...)
		attr, err := processAttr(false)
		cmd.SysProcAttr = attr
		return cmd, err
	case Namespaces:
		cmd := exec.CommandContext(ctx, sb.python, pyArgs...)
		attr, err := processAttr(true)
		cmd.SysProcAttr = attr
		return cmd, err
	default:
		cmd := exec.CommandContext(ctx, sb.python, pyArgs...)
		attr, err := processAttr(false)
		cmd.SysProcAttr = attr
		return cmd, err
	}
}

// probeScript measures the sandbox from inside. argv: a path outside the work
// dir to try to write, and a local TCP port to try to connect to. It prints
// one JSON object.
const probeScript = `import json, mmap, os, resource, socket, sys
out = {"uid": os.getuid()}
for ns in ("net", "pid", "user"):
    try:
        out[ns] = os.readlink("/proc/self/ns/" + ns)
    except OSError:
        out[ns] = ""
# The work dir must be writable, or no sample can run here.
with open("inside", "w") as f:
    f.write("x")
try:
    with open(sys.argv[1], "w") as f:
        f.write("x")
except OSError:
    pass
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=2).close()
except OSError:
    pass
# Twice the probe's RLIMIT_AS, mapped but never touched, so this costs no
# memory even where the limit does not hold.
try:
    mmap.mmap(-1, 512 << 20).close()
    out["memory"] = False
except (OSError, MemoryError):
    out["memory"] = True
def forks():
    try:
        pid = os.fork()
    except OSError:
        return False
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return True
out["fork"] = forks()
resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))
out["nproc"] = not forks()
# Only a privileged process can raise a hard limit.
hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
try:
    resource.setrlimit(resource.RLIMIT_CPU, (hard + 1, hard + 1))
    out["raise"] = True
except (ValueError, OSError):
    out["raise"] = False
print(json.dumps(out))
`

type probeOutput struct {
	UID    int    `json:"uid"`
	Net    string `json:"net"`
	PID    string `json:"pid"`
	User   string `json:"user"`
	Memory bool   `json:"memory"`
	Fork   bool   `json:"fork"`
	NProc  bool   `json:"nproc"`
	Raise  bool   `json:"raise"`
}

// probeLimits: memory 256 MiB (the script maps twice that), 16 processes.
var probeLimits = limits{memory: 256 << 20, procs: 16, file: 1 << 20, cpu: 10}

// probe checks that kind runs Python here and measures what it protects.
func probe(kind Sandbox, python string) (*sandbox, error) {
	sb := &sandbox{kind: kind, python: python}
	if kind == Bwrap {
		path, err := exec.LookPath("bwrap")
		if err != nil {
			return nil, errors.New("bwrap: not found on PATH (install bubblewrap for filesystem isolation)")
		}
		sb.bwrap = path
	}
	outside, err := os.MkdirTemp("", "routerdc-exec-probe-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(outside)
	target := filepath.Join(outside, "written-from-sandbox")
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	res := sb.run(context.Background(), probeScript, []string{target, port}, probeLimits, 20*time.Second, 64<<10)
	if res.Err != nil && kind == Namespaces {
		// The kernel's errno here is cryptic (ENOSPC when
		// max_user_namespaces is 0, EPERM under seccomp or AppArmor).
		return nil, fmt.Errorf("%s: user namespaces are not available here: %v", kind, res.Err)
	}
	if res.Err != nil {
		return nil, fmt.Errorf("%s: %v", kind, res.Err)
	}
	if !res.Passed {
		return nil, fmt.Errorf("%s: does not work here: %s", kind, strings.TrimPrefix(res.Outcome, failedPrefix))
	}
	var got probeOutput
	if err := json.Unmarshal([]byte(strings.TrimSpace(res.Stdout)), &got); err != nil {
		return nil, fmt.Errorf("%s: probe printed %q: %v", kind, res.Stdout, err)
	}
	_, statErr := os.Stat(target)
	wrote := statErr == nil
	ln.SetDeadline(time.Now().Add(200 * time.Millisecond))
	connected := false
	if c, err := ln.Accept(); err == nil {
		connected = true
		c.Close()
	}

	host := func(ns string) string {
		s, _ := os.Readlink("/proc/self/ns/" + ns)
		return s
	}
	privateNet := got.Net != "" && got.Net != host("net")
	privatePID := got.PID != "" && got.PID != host("pid")
	privateUser := got.User != "" && got.User != host("user")
	via := map[Sandbox]string{
		Bwrap:      "bwrap",
		Namespaces: "clone with new user, network and PID namespaces",
		None:       "plain subprocess",
	}[kind]

	r := Report{Sandbox: kind, Python: python}
	switch {
	case privateNet && !connected:
		r.Network = Protection{true, "isolated: fresh network namespace, loopback only (" + via + ")"}
	case connected:
		r.Network = Protection{false, "NOT isolated: the probe connected to a local port (install bubblewrap or allow user namespaces)"}
	default:
		r.Network = Protection{false, "NOT isolated: no private network namespace"}
	}
	if wrote {
		r.Filesystem = Protection{false, fmt.Sprintf(
			"NOT isolated: the program can write wherever uid %d can; only its work dir is private (install bubblewrap)", os.Getuid())}
	} else {
		r.Filesystem = Protection{true, "isolated: root read-only, only the work dir writable (" + via + ")"}
	}
	switch {
	case !got.Memory:
		r.Memory = Protection{false, "NOT limited: RLIMIT_AS did not hold"}
	case got.Raise:
		r.Memory = Protection{false, "NOT binding: RLIMIT_AS is set but the program is privileged and can raise it"}
	default:
		r.Memory = Protection{true, "RLIMIT_AS per process, hard limit"}
	}
	switch {
	case got.Raise:
		r.Processes = Protection{false, "NOT limited: the program is privileged and can raise RLIMIT_NPROC"}
	case !privateUser:
		r.Processes = Protection{false, "NOT limited: without a private user namespace RLIMIT_NPROC would count every process of the user"}
	case !got.Fork || !got.NProc:
		r.Processes = Protection{false, fmt.Sprintf(
			"NOT limited: RLIMIT_NPROC does not hold for this user (uid %d; root is exempt)", os.Getuid())}
	default:
		sb.nprocUsable = true
		r.Processes = Protection{true, "RLIMIT_NPROC, counted in a private user namespace"}
	}
	if privatePID {
		r.Cleanup = Protection{true, "private PID namespace: every process of a sample dies with it (" + via + ")"}
	} else {
		r.Cleanup = Protection{false, "NOT complete: process group only, a program that calls setsid() can outlive its timeout"}
	}
	sb.report = r
	return sb, nil
}
