package gateway

import (
	"sync"
	"time"
)

// breaker is one upstream's circuit: after `failures` consecutive failed
// attempts it opens and the upstream is skipped for `cooldown`; then one
// request may try it (half-open): success closes the circuit, failure opens
// it for another cool-down.
type breaker struct {
	mu        sync.Mutex
	failures  int
	threshold int
	cooldown  time.Duration
	openUntil time.Time
	probing   bool // half-open: a trial request is in flight
}

// Breaker states as /healthz and /metrics show them.
const (
	stateClosed   = "closed"
	stateOpen     = "open"
	stateHalfOpen = "half-open"
)

// allow says whether a request may try the upstream now, and whether it
// is the trial of a half-open circuit.
func (b *breaker) allow(now time.Time) (ok, trial bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures < b.threshold {
		return true, false
	}
	if now.Before(b.openUntil) || b.probing {
		return false, false
	}
	b.probing = true
	return true, true
}

// result records an attempt's outcome. An attempt that ends for the
// client's sake (it went away) is neither: call release instead.
func (b *breaker) result(ok, trial bool, now time.Time) (opened bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if trial {
		b.probing = false
	}
	if ok {
		b.failures = 0
		return false
	}
	b.failures++
	if trial || b.failures == b.threshold {
		b.openUntil = now.Add(b.cooldown)
		return true
	}
	return false
}

// release ends an attempt whose outcome says nothing about the upstream.
func (b *breaker) release(trial bool) {
	if !trial {
		return
	}
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}

func (b *breaker) state(now time.Time) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.failures < b.threshold:
		return stateClosed
	case now.Before(b.openUntil):
		return stateOpen
	}
	return stateHalfOpen
}
