package printer

import (
	"errors"
	"testing"
	"time"

	"github.com/comune-rc/sportello/printer/printertest"
)

// The fake printer lives in printertest, shared with the totem agent's
// tests.
type fakePrinter = printertest.Printer

var (
	newFakePrinter  = printertest.NewPrinter
	startPTYPrinter = printertest.StartPTY
	openPTY         = printertest.OpenPTY
)

// within fails the test unless fn returns within limit; it returns how
// long fn took.
func within(t *testing.T, limit time.Duration, what string, fn func()) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(limit + 5*time.Second):
		t.Fatalf("%s: still running after %v", what, limit+5*time.Second)
	}
	took := time.Since(start)
	if took > limit {
		t.Errorf("%s took %v, want ≤ %v", what, took.Round(time.Millisecond), limit)
	}
	return took
}

func isOffline(err error) bool { return errors.Is(err, ErrOffline) }
