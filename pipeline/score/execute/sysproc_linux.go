package execute

import (
	"errors"
	"os"
	"syscall"
)

// processAttr puts the interpreter in its own process group, so that a
// timeout kills its children too, and kills it if this process dies. With
// namespaces it also gets new user, network, PID, IPC and UTS namespaces:
// the network namespace has only a loopback device that is down, and when the
// interpreter (PID 1 there) exits the kernel kills everything it started.
func processAttr(namespaces bool) (*syscall.SysProcAttr, error) {
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if namespaces {
		attr.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET | syscall.CLONE_NEWPID |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS
		// The caller's own ids, mapped to themselves: an unprivileged user
		// may map only those, and the sample keeps the caller's file access.
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}}
	}
	return attr, nil
}

// killGroup kills the process group led by pid.
func killGroup(pid int) error {
	err := syscall.Kill(-pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// cpuLimitKilled: the kernel stopped the sample for RLIMIT_CPU, the backstop
// behind the wall-clock timeout.
func cpuLimitKilled(ps *os.ProcessState) bool {
	if ps == nil {
		return false
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGXCPU
}
