//go:build !linux

package execute

import (
	"errors"
	"os"
	"syscall"
)

var errNotLinux = errors.New("execute: running code is supported on Linux only")

func processAttr(namespaces bool) (*syscall.SysProcAttr, error) { return nil, errNotLinux }

func killGroup(pid int) error { return nil }

func cpuLimitKilled(ps *os.ProcessState) bool { return false }
