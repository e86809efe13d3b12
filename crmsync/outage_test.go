package crmsync_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync"
	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/hubtest"
)

// TestTwoHourOutage: the CzRM is down (every call 503, the token
// endpoint too) for two hours of simulated time, with the worker's real
// schedule (backoff 1 s…5 min with full jitter, breaker 5 failures / 30 s).
// The office goes on — a visit issued, called, started and finished every
// minute — while the status shows the backlog and its age grow, the
// breaker open and the last error. When the CzRM comes back the backlog
// drains to zero and every visit is there in its final state.
func TestTwoHourOutage(t *testing.T) {
	t.Parallel()
	loc, _ := time.LoadLocation("Europe/Rome")
	clock := newFakeClock(time.Date(2026, 12, 1, 9, 0, 0, 0, loc))
	ph := startPeer(t)
	h := hubtest.Start(t, hubtest.Options{Clock: clock.Now})
	r := &rig{t: t, h: h, ph: ph}
	rng := rand.New(rand.NewPCG(6, 2))
	var rngMu sync.Mutex
	r.w = r.newWorker(func(c *crmsync.Config) {
		c.Clock = clock.Now
		c.BackoffBase, c.BackoffCap = time.Second, 5*time.Minute
		c.BreakerThreshold, c.BreakerCooldown = 5, 30*time.Second
		c.Rand = func() float64 { rngMu.Lock(); defer rngMu.Unlock(); return rng.Float64() }
	})
	run(t, r.w)
	if err := ph.faults().Set(peer.KindAll, peer.Fault{Mode: peer.ModeError, Status: 503}); err != nil {
		t.Fatal(err)
	}
	r.open("4", "clerk04")
	var ids []string
	start := clock.Now()
	for minute := 1; clock.Now().Sub(start) < 2*time.Hour; minute++ {
		tk := r.issue("certificati")
		r.call("4", "clerk04", tk.ID)
		r.start("4", "clerk04")
		r.finish("4", "clerk04", "rilasciato")
		ids = append(ids, tk.ID)
		if got := r.ticket(tk.ID).Status; got != hub.StatusDone {
			t.Fatalf("minute %d: the visit is %s: the queue stopped", minute, got)
		}
		if minute == 10 {
			// The worker has tried and given up for now.
			eventually(t, "the breaker open", func() bool { return r.w.Status().BreakerState != crmsync.BreakerClosed })
		}
		clock.Advance(time.Minute)
		r.w.Notify()
	}
	eventually(t, "the outbox read", func() bool { return r.w.Status().Unread == 0 })
	s := r.w.Status()
	if s.Backlog != len(ids) || s.DeliveredTotal != 0 {
		t.Fatalf("after two hours down: backlog %d (want %d), delivered %d", s.Backlog, len(ids), s.DeliveredTotal)
	}
	if s.OldestPendingAgeS < int64((2*time.Hour - time.Minute).Seconds()) {
		t.Fatalf("oldest pending %ds ago, want about two hours", s.OldestPendingAgeS)
	}
	if s.BreakerState == crmsync.BreakerClosed || !strings.Contains(s.LastError, "503") {
		t.Fatalf("during the outage: breaker %s, last error %q", s.BreakerState, s.LastError)
	}
	if ph.faults().Stats(peer.KindAll).Applied != 0 {
		t.Fatal("the peer applied something while down")
	}
	calls := ph.faults().Stats(peer.KindAll).Calls
	// The breaker kept the worker from hammering the peer: about one
	// probe per cool-down, not one call per visit and minute.
	if limit := uint64(2*time.Hour/(30*time.Second)) + 20; calls > limit {
		t.Fatalf("%d calls to a peer that was down for two hours, want at most %d", calls, limit)
	}

	ph.faults().ClearAll()
	clock.Advance(6 * time.Minute) // past the cool-down and any lane's backoff
	r.w.Notify()
	eventually(t, "the backlog drained", func() bool {
		// Time goes on while it drains: a call that fails now (a slow
		// answer under load) is retried after its backoff, as in an office.
		clock.Advance(time.Second)
		r.w.Notify()
		return r.drained()
	})
	for _, id := range ids {
		if !r.matches(id) {
			t.Fatalf("visit %s is not at the peer in its final state", id)
		}
	}
	s = r.w.Status()
	if s.Backlog != 0 || s.OldestPendingAgeS != 0 || s.BreakerState != crmsync.BreakerClosed || s.DeliveredTotal < uint64(len(ids)) {
		t.Fatalf("after the outage: %+v", s)
	}
	t.Logf("%d visits during a two-hour outage; %s calls while down", len(ids), fmt.Sprint(calls))
}
