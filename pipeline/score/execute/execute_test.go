package execute

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func requirePython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not on PATH: code execution cannot be tested")
	}
}

// needs names what each sandbox requires, for skip messages.
var needs = map[Sandbox]string{
	Bwrap:      "bwrap (apt-get install bubblewrap) with working user namespaces",
	Namespaces: "user namespaces (as `unshare -r -n` needs)",
}

// eachSandbox runs fn once per sandbox that works here. None must always
// work where python3 does; the others are skipped, naming what they need.
func eachSandbox(t *testing.T, fn func(t *testing.T, opt Options, r Report)) {
	requirePython(t)
	for _, kind := range []Sandbox{Bwrap, Namespaces, None} {
		t.Run(string(kind), func(t *testing.T) {
			opt := Options{Sandbox: kind}
			r, err := Isolation(opt)
			if err != nil {
				if kind == None {
					t.Fatal(err)
				}
				t.Skipf("needs %s: %v", needs[kind], err)
			}
			fn(t, opt, r)
		})
	}
}

func TestIsolationReport(t *testing.T) {
	eachSandbox(t, func(t *testing.T, opt Options, r Report) {
		t.Logf("\n%s", r)
		if r.Sandbox != opt.Sandbox {
			t.Errorf("report is for sandbox %q, want %q", r.Sandbox, opt.Sandbox)
		}
		for _, line := range r.Lines() {
			if strings.Contains(line, ": NOT") != slices.Contains(r.Missing(), strings.SplitN(line, ":", 2)[0]) &&
				!strings.HasPrefix(line, "sandbox:") && !strings.HasPrefix(line, "not used:") {
				t.Errorf("line %q disagrees with Missing() = %v", line, r.Missing())
			}
		}
		if r.Sandbox == None && (r.Network.OK || r.Cleanup.OK) {
			t.Errorf("a plain subprocess cannot isolate the network or the PIDs: %s", r)
		}
	})
	requirePython(t)
	auto, err := Isolation(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("auto picks %s; skipped: %v", auto.Sandbox, auto.Skipped)
}

func TestPassingSample(t *testing.T) {
	eachSandbox(t, func(t *testing.T, opt Options, r Report) {
		res := Run(context.Background(), "def add(a, b):\n    return a + b\n", "assert add(1, 2) == 3\nprint('ok')", opt)
		if !res.Passed || res.Outcome != OutcomePassed || res.ExitCode != 0 || res.Err != nil {
			t.Fatalf("got %+v, want passed", res)
		}
		if res.Stdout != "ok\n" {
			t.Errorf("stdout %q, want %q", res.Stdout, "ok\n")
		}
		t.Logf("passing sample took %v", res.Duration)
	})
}

func TestFailingSample(t *testing.T) {
	eachSandbox(t, func(t *testing.T, opt Options, r Report) {
		cases := []struct{ program, tests, outcome string }{
			{"def add(a, b):\n    return a - b\n", "assert add(1, 2) == 3", "failed: AssertionError"},
			{"def plus(a, b):\n    return a + b\n", "assert add(1, 2) == 3", "failed: NameError: name 'add' is not defined"},
			{"def add(a, b)\n    return a + b\n", "assert add(1, 2) == 3", "failed: SyntaxError"},
			{"import sys\n", "sys.exit(3)", "failed: exit status 3"},
		}
		for _, c := range cases {
			res := Run(context.Background(), c.program, c.tests, opt)
			// Prefixes: the wording of SyntaxError differs across versions.
			if res.Passed || !strings.HasPrefix(res.Outcome, c.outcome) || res.Err != nil {
				t.Errorf("%q: got outcome %q (err %v), want %q; stderr:\n%s", c.program, res.Outcome, res.Err, c.outcome, res.Stderr)
			}
		}
	})
}

// pidsWith lists the processes whose command line contains marker.
func pidsWith(marker string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte(marker)) {
			out = append(out, pid)
		}
	}
	return out
}

// waitGone polls until no process carries marker (SIGKILL is asynchronous).
func waitGone(marker string, within time.Duration) []int {
	deadline := time.Now().Add(within)
	for {
		left := pidsWith(marker)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestInfiniteLoopTimesOut(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("needs /proc to check that the processes are gone")
	}
	eachSandbox(t, func(t *testing.T, opt Options, r Report) {
		opt.Timeout = time.Second
		marker := fmt.Sprintf("routerdc-exec-test-%d-%d", os.Getpid(), time.Now().UnixNano())
		// A child in the process group, a child that left it with setsid,
		// then a busy loop: the timeout must take the group down, and the
		// PID namespace (where there is one) the escaped child as well.
		program := fmt.Sprintf(`import subprocess, sys
child = "import time\nwhile True: time.sleep(0.05)\n# %[1]s-"
subprocess.Popen([sys.executable, "-c", child + "group"])
subprocess.Popen([sys.executable, "-c", child + "session"], start_new_session=True)
print("children started", flush=True)
while True:
    pass
`, marker)
		t.Cleanup(func() {
			for _, pid := range pidsWith(marker) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		})
		res := Run(context.Background(), program, "", opt)
		t.Logf("timed-out sample returned after %v", res.Duration)
		if res.Passed || res.Outcome != OutcomeTimedOut || res.Err != nil {
			t.Fatalf("got %+v, want timed out", res)
		}
		if !strings.Contains(res.Stdout, "children started") {
			t.Fatalf("the children did not start; stdout %q stderr %q", res.Stdout, res.Stderr)
		}
		if slack := 2 * time.Second; res.Duration > opt.Timeout+slack {
			t.Errorf("took %v, want at most the timeout %v + %v", res.Duration, opt.Timeout, slack)
		}
		left := waitGone(marker, 2*time.Second)
		var group, session bool
		for _, pid := range left {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			group = group || bytes.Contains(b, []byte(marker+"-group"))
			session = session || bytes.Contains(b, []byte(marker+"-session"))
		}
		if group {
			t.Error("a child in the sample's process group survived the timeout")
		}
		if session && r.Cleanup.OK {
			t.Errorf("a child that called setsid survived, but the report says: %s", r.Cleanup.How)
		}
		if session {
			t.Logf("as the report says (%s), a setsid child survived", r.Cleanup.How)
		}
	})
}

func TestWriteOutsideWorkDir(t *testing.T) {
	eachSandbox(t, func(t *testing.T, opt Options, r Report) {
		target := filepath.Join(t.TempDir(), "written-by-sample")
		program := fmt.Sprintf("try:\n    open(%q, 'w').write('x')\nexcept OSError as e:\n    print(e)\n", target)
		res := Run(context.Background(), program, "", opt)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		_, err := os.Stat(target)
		created := err == nil
		switch {
		case r.Filesystem.OK && created:
			t.Errorf("the sample wrote %s, but the report says the filesystem is isolated", target)
		case !r.Filesystem.OK && !slices.Contains(r.Missing(), "filesystem"):
			t.Errorf("filesystem not isolated but Missing() = %v", r.Missing())
		case !r.Filesystem.OK:
			t.Logf("filesystem not isolated, as reported: %s (file created: %v)", r.Filesystem.How, created)
		default:
			t.Logf("write refused or hidden: %q", res.Stdout)
		}
	})
}

func TestNetworkConnection(t *testing.T) {
	eachSandbox(t, func(t *testing.T, opt Options, r Report) {
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Skipf("cannot listen on 127.0.0.1: %v", err)
		}
		defer ln.Close()
		port := ln.Addr().(*net.TCPAddr).Port
		program := fmt.Sprintf("import socket\ntry:\n    socket.create_connection(('127.0.0.1', %d), timeout=2).close()\n"+
			"    print('connected')\nexcept OSError as e:\n    print(e)\n", port)
		res := Run(context.Background(), program, "", opt)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		ln.SetDeadline(time.Now().Add(300 * time.Millisecond))
		c, err := ln.Accept()
		arrived := err == nil
		if arrived {
			c.Close()
		}
		switch {
		case r.Network.OK && arrived:
			t.Errorf("a connection arrived, but the report says the network is isolated")
		case !r.Network.OK && !slices.Contains(r.Missing(), "network"):
			t.Errorf("network not isolated but Missing() = %v", r.Missing())
		case !r.Network.OK:
			t.Logf("network not isolated, as reported: %s (connection arrived: %v)", r.Network.How, arrived)
		default:
			t.Logf("connection refused inside the sandbox: %q", strings.TrimSpace(res.Stdout))
		}
	})
}

func TestMemoryLimit(t *testing.T) {
	eachSandbox(t, func(t *testing.T, opt Options, r Report) {
		if !r.Memory.OK {
			t.Skipf("memory limit not in force here: %s", r.Memory.How)
		}
		opt.MemoryBytes = 128 << 20
		// bytearray fails at allocation under RLIMIT_AS, before touching
		// any memory.
		res := Run(context.Background(), "x = bytearray(512 << 20)\n", "", opt)
		if res.Outcome != "failed: MemoryError" {
			t.Errorf("got outcome %q, want failed: MemoryError; stderr %s", res.Outcome, res.Stderr)
		}
	})
}

func TestProcessLimit(t *testing.T) {
	eachSandbox(t, func(t *testing.T, opt Options, r Report) {
		if !r.Processes.OK {
			t.Skipf("process limit not in force here: %s", r.Processes.How)
		}
		opt.MaxProcs = 8
		// A bounded fork bomb: the children only sleep and die with the
		// sample; the parent stops at the first refused fork.
		program := `import os, time
n = 0
try:
    while n < 40:
        if os.fork() == 0:
            time.sleep(10)
            os._exit(0)
        n += 1
except BlockingIOError:
    print(n)
    raise SystemExit(0)
raise SystemExit("all 40 forks succeeded")
`
		res := Run(context.Background(), program, "", opt)
		if !res.Passed {
			t.Fatalf("got %q, want the fork to be refused; stderr %s", res.Outcome, res.Stderr)
		}
		n, err := strconv.Atoi(strings.TrimSpace(res.Stdout))
		if err != nil || n >= opt.MaxProcs {
			t.Errorf("forked %q children, want fewer than %d", res.Stdout, opt.MaxProcs)
		}
	})
}

func TestOutputIsBounded(t *testing.T) {
	requirePython(t)
	program := "print('A' * 100000)\nprint('END')\nraise ValueError('boom')\n"
	res := Run(context.Background(), program, "", Options{OutputBytes: 1024})
	if res.Outcome != "failed: ValueError: boom" {
		t.Errorf("outcome %q, want the last stderr line", res.Outcome)
	}
	if len(res.Stdout) > 1100 || !strings.Contains(res.Stdout, "bytes dropped") || !strings.HasSuffix(res.Stdout, "END\n") {
		t.Errorf("stdout not bounded to head and tail: %d bytes, ends %q", len(res.Stdout), res.Stdout[max(0, len(res.Stdout)-40):])
	}
}

func TestPassRate(t *testing.T) {
	requirePython(t)
	samples := []string{
		"def add(a, b):\n    return a + b\n",
		"def add(a, b):\n    return a * b\n",
		"def add(a, b):\n    return b + a\n",
	}
	rate, results, err := PassRate(context.Background(), samples, "assert add(2, 3) == 5", Options{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 2.0/3 {
		t.Errorf("rate %v, want 2/3", rate)
	}
	want := []bool{true, false, true}
	for i, r := range results {
		if r.Passed != want[i] {
			t.Errorf("sample %d: passed=%v (%s), want %v", i, r.Passed, r.Outcome, want[i])
		}
	}
	if _, _, err := PassRate(context.Background(), nil, "", Options{}, 1); err == nil {
		t.Error("no samples: want an error")
	}
}

func TestCallerCancelIsAnError(t *testing.T) {
	requirePython(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, results, err := PassRate(ctx, []string{"while True: pass"}, "", Options{Timeout: 10 * time.Second}, 1)
	if err == nil || !errors.Is(results[0].Err, context.DeadlineExceeded) {
		t.Errorf("err %v, result %+v: want the caller's deadline as an error, not a failed sample", err, results[0])
	}
}

func TestMissingPython(t *testing.T) {
	res := Run(context.Background(), "pass", "", Options{Python: "no-such-python-routerdc"})
	if res.Err == nil || res.Passed {
		t.Errorf("got %+v, want an error", res)
	}
	if _, err := Isolation(Options{Python: "no-such-python-routerdc"}); err == nil {
		t.Error("Isolation: want an error for a missing interpreter")
	}
	if _, err := Isolation(Options{Sandbox: "chroot"}); err == nil {
		t.Error("Isolation: want an error for an unknown sandbox")
	}
}

func TestCapture(t *testing.T) {
	c := newCapture(10)
	for _, s := range []string{"abc", "defgh", "ijklmnopqrstuvwxyz"} {
		c.Write([]byte(s))
	}
	if got, want := c.String(), "abcde\n[... 16 bytes dropped ...]\nvwxyz"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	c = newCapture(10)
	c.Write([]byte("short"))
	if c.String() != "short" {
		t.Errorf("got %q", c.String())
	}
}
