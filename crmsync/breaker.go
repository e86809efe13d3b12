package crmsync

import (
	"sync"
	"time"
)

// Breaker states.
const (
	BreakerClosed   = "closed"
	BreakerOpen     = "open"
	BreakerHalfOpen = "half_open"
)

func rank(s string) int {
	switch s {
	case BreakerOpen:
		return 2
	case BreakerHalfOpen:
		return 1
	}
	return 0
}

func worse(a, b string) string {
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// PeerState is one peer's breaker, as the status shows it.
type PeerState struct {
	State               string     `json:"state"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	OpenedAt            *time.Time `json:"opened_at,omitempty"`
	PausedUntil         *time.Time `json:"paused_until,omitempty"`
}

// breaker is a per-peer circuit breaker: it opens after threshold
// consecutive retryable failures, lets one probe through after cooldown
// (half-open), closes on the probe's success and opens again on its
// failure. A Retry-After pauses the peer without opening it.
type breaker struct {
	mu          sync.Mutex
	threshold   int
	cooldown    time.Duration
	state       string
	failures    int
	openedAt    time.Time
	probing     bool
	pausedUntil time.Time
}

func newBreaker(threshold int, cooldown time.Duration) *breaker {
	return &breaker{threshold: threshold, cooldown: cooldown, state: BreakerClosed}
}

// allow reports whether a call may go now; probe is set for the single
// call of a half-open breaker.
func (b *breaker) allow(now time.Time) (ok, probe bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Before(b.pausedUntil) {
		return false, false
	}
	switch b.state {
	case BreakerOpen:
		if now.Sub(b.openedAt) < b.cooldown {
			return false, false
		}
		b.state, b.probing = BreakerHalfOpen, true
		return true, true
	case BreakerHalfOpen:
		if b.probing {
			return false, false
		}
		b.probing = true
		return true, true
	}
	return true, false
}

func (b *breaker) success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state, b.failures, b.probing = BreakerClosed, 0, false
}

func (b *breaker) failure(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	switch {
	case b.state == BreakerHalfOpen:
		b.state, b.openedAt, b.probing = BreakerOpen, now, false
	case b.state == BreakerClosed && b.failures >= b.threshold:
		b.state, b.openedAt = BreakerOpen, now
	}
}

// abort gives the probe back (the worker stopped before it finished).
func (b *breaker) abort(probe bool) {
	if !probe {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerHalfOpen {
		b.probing = false
	}
}

func (b *breaker) pause(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
}

func (b *breaker) snapshot(now time.Time) PeerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	ps := PeerState{State: b.state, ConsecutiveFailures: b.failures}
	if b.state != BreakerClosed {
		ps.OpenedAt = timePtr(b.openedAt)
	}
	if now.Before(b.pausedUntil) {
		ps.PausedUntil = timePtr(b.pausedUntil)
	}
	return ps
}
