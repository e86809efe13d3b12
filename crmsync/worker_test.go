package crmsync_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync"
	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/hubtest"
)

// A visit issued, called, started and finished reaches the peer as one
// record with the final fields; delivering it all again (cursor reset)
// leaves the record's version as it was.
func TestVisitReachesPeerOnceInEffect(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(c *crmsync.Config) { c.BatchSize = 2 }) // the outbox is read in several rounds
	run(t, r.w)
	tk := r.issue("certificati")
	r.open("4", "clerk04")
	r.call("4", "clerk04", tk.ID)
	r.start("4", "clerk04")
	r.finish("4", "clerk04", "rilasciato")
	r.w.Notify()
	eventually(t, "the final state at the peer", func() bool { return r.matches(tk.ID) && r.drained() })

	rec := r.ph.record(tk.ID)
	if rec.Version < 1 || rec.Version > 4 {
		t.Fatalf("version %d: want 1…4 (4 changes, some possibly collapsed)", rec.Version)
	}
	if got := string(rec.Fields["Status__c"]); got != `"done"` {
		t.Fatalf("Status__c = %s", got)
	}
	if got := string(rec.Fields["Outcome__c"]); got != `"rilasciato"` {
		t.Fatalf("Outcome__c = %s", got)
	}
	for k := range rec.Fields {
		if strings.Contains(strings.ToLower(k), "prior") {
			t.Fatalf("the priority category reached the CRM without being configured: %s", k)
		}
	}
	if recs, _ := r.ph.peer().Records(tk.ID); len(recs) != 1 {
		t.Fatalf("%d records under the visit's external id, want 1", len(recs))
	}
	st := r.ph.faults().Stats(peer.KindUpsert)
	if st.Created != 1 {
		t.Fatalf("created %d records, want 1", st.Created)
	}
	version, applies, delivered := rec.Version, rec.Applies, r.w.Status().DeliveredTotal
	before := len(r.log.list())
	lastSeq := r.log.list()[before-1].Seq

	if err := r.w.ResetCursor(0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the repeated delivery", func() bool {
		return r.w.Status().DeliveredTotal > delivered && r.drained()
	})
	rec = r.ph.record(tk.ID)
	if rec.Applies <= applies {
		t.Fatalf("applies %d → %d: the repeat did not reach the peer", applies, rec.Applies)
	}
	if rec.Version != version {
		t.Fatalf("version %d → %d: a repeated delivery changed the record", version, rec.Version)
	}
	if !r.matches(tk.ID) {
		t.Fatal("fields changed after the repeat")
	}
	// Re-reading from the start never shows the CRM an older state.
	for _, x := range r.log.list()[before:] {
		if x.Seq < lastSeq {
			t.Fatalf("after the reset the worker sent seq %d, older than the delivered %d", x.Seq, lastSeq)
		}
	}
}

// A token the peer no longer accepts (401) is refreshed once and the
// delivery goes on.
func TestExpiredTokenRefreshed(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	run(t, r.w)
	a := r.issue("certificati")
	eventually(t, "first delivery", func() bool { return r.matches(a.ID) && r.drained() })
	if err := r.ph.peer().RevokeTokens(); err != nil {
		t.Fatal(err)
	}
	b := r.issue("cie")
	eventually(t, "delivery with a new token", func() bool { return r.matches(b.ID) && r.drained() })
	if st := r.ph.faults().Stats(peer.KindToken); st.Applied != 2 {
		t.Fatalf("%d tokens issued, want 2 (one refresh)", st.Applied)
	}
	if n := r.log.count(crmsync.OutcomeRetry); n != 0 {
		t.Fatalf("%d failed attempts: the 401 should be absorbed by the refresh", n)
	}
}

// Open311 errors: a 400 "General Service Error" (the CRM behind is down)
// is retried; an unknown service code (404) is a dead letter.
func TestReportErrorsClassified(t *testing.T) {
	t.Parallel()
	ph := startPeer(t)
	h := hubtest.Start(t, hubtest.Options{})
	r := &rig{t: t, h: h, ph: ph}
	r.bindings()
	var err error
	r.o, err = crmsync.NewOpen311Client(crmsync.Open311Config{Endpoint: ph.URL + "/open311/v2", APIKey: "demo",
		ServiceCodes: map[string]string{"verde": "giardinaggio"}})
	if err != nil {
		t.Fatal(err)
	}
	r.w = r.newWorker(nil)
	if err := ph.faults().Set(peer.KindOpen311, peer.Fault{Mode: peer.ModeError, Status: 400, Count: 1}); err != nil {
		t.Fatal(err)
	}
	run(t, r.w)
	ok, err := h.Engine.FileReport(bg, hub.ReportRequest{Kind: "segnalazione", Topic: "rifiuti", Description: "Cassonetto rotto", Location: "Via Roma 1", By: "totem-1"})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := h.Engine.FileReport(bg, hub.ReportRequest{Kind: "segnalazione", Topic: "verde", Description: "Albero caduto", Location: "Villa Comunale", By: "totem-1"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "one filed, one dead", func() bool {
		reqs, _ := ph.peer().ServiceRequestsByExternalID(ok.Protocol)
		ds, _ := r.w.DeadLetters()
		return len(reqs) == 1 && len(ds) == 1 && r.w.Status().InFlight == 0
	})
	ds, _ := r.w.DeadLetters()
	if ds[0].ExternalID != bad.Protocol || ds[0].HTTPStatus != 404 || ds[0].Kind != crmsync.KindReport {
		t.Fatalf("dead letter %+v", ds[0])
	}
	if r.log.count(crmsync.OutcomeRetry) < 1 {
		t.Fatal("the General Service Error was not retried")
	}
	if reqs, _ := ph.peer().ServiceRequestsByExternalID(ok.Protocol); len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
}

// Interleaved changes of two visits, with slow answers so that changes
// pile up and collapse: each visit's deliveries go in outbox order and
// the peer ends with each visit's last state.
func TestPerVisitOrder(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	if err := r.ph.faults().Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeSlow, Delay: 15 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	run(t, r.w)
	a := r.issue("certificati")
	b := r.issue("tributi")
	r.open("4", "clerk04")
	r.open("12", "clerk12")
	r.open("3", "clerk03")
	r.call("4", "clerk04", a.ID)
	r.call("12", "clerk12", b.ID)
	r.start("12", "clerk12")
	r.start("4", "clerk04")
	r.finish("12", "clerk12", "pagato")
	if _, err := r.h.Engine.Transfer(bg, "4", "clerk04", hub.TransferRequest{Service: "residenza"}); err != nil {
		t.Fatal(err)
	}
	r.call("3", "clerk03", a.ID)
	r.start("3", "clerk03")
	r.finish("3", "clerk03", "variato")
	r.w.Notify()
	eventually(t, "both final states", func() bool { return r.matches(a.ID) && r.matches(b.ID) && r.drained() })

	last := map[string]uint64{}
	for _, x := range r.log.list() {
		if x.Outcome != crmsync.OutcomeDelivered {
			continue
		}
		if x.Seq <= last[x.Lane] {
			t.Fatalf("lane %s: delivered seq %d after %d", x.Lane, x.Seq, last[x.Lane])
		}
		last[x.Lane] = x.Seq
	}
	if len(last) != 2 {
		t.Fatalf("deliveries for %d lanes, want 2", len(last))
	}
	if got := string(r.ph.record(a.ID).Fields["Service__c"]); got != `"residenza"` {
		t.Fatalf("visit A's service at the peer: %s", got)
	}
}

// The peer answers 500 for a while: the worker keeps retrying with
// backoff, the status shows the backlog and the error, and everything
// arrives once the peer is back.
func TestOutage500(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	if err := r.ph.faults().Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeError, Status: 500}); err != nil {
		t.Fatal(err)
	}
	run(t, r.w)
	ids := []string{r.issue("certificati").ID, r.issue("cie").ID, r.issue("tributi").ID}
	eventually(t, "retries", func() bool { return r.log.count(crmsync.OutcomeRetry) >= 9 })
	s := r.w.Status()
	if s.Backlog != 3 || s.OldestPendingAt == nil || s.LastErrorAt == nil || !strings.Contains(s.LastError, "500") {
		t.Fatalf("status during the outage: %+v", s)
	}
	if s.DeliveredTotal != 0 {
		t.Fatalf("delivered %d during the outage", s.DeliveredTotal)
	}
	pend, err := r.w.Pending()
	if err != nil || len(pend) != 3 {
		t.Fatalf("pending %v %v", pend, err)
	}
	for _, p := range pend {
		if p.Attempts == 0 || p.LastError == "" {
			t.Fatalf("lane without recorded attempts: %+v", p)
		}
	}
	r.ph.faults().ClearAll()
	eventually(t, "recovery", func() bool {
		return r.matches(ids[0]) && r.matches(ids[1]) && r.matches(ids[2]) && r.drained()
	})
	if s := r.w.Status(); s.DeliveredTotal != 3 || s.OldestPendingAt != nil {
		t.Fatalf("status after recovery: %+v", s)
	}
}

// 429 with Retry-After: the next attempt waits at least that long on the
// injected clock, and the whole peer is paused meanwhile.
func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Now())
	r := newRig(t, func(c *crmsync.Config) { c.Clock = clock.Now })
	if err := r.ph.faults().Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeThrottle, RetryAfter: 7, Count: 1}); err != nil {
		t.Fatal(err)
	}
	run(t, r.w)
	tk := r.issue("certificati")
	eventually(t, "the throttled attempt", func() bool { return r.log.count(crmsync.OutcomeRetry) == 1 })
	first := r.log.list()[0]
	if first.RetryAfter != 7*time.Second || first.Delay < 7*time.Second {
		t.Fatalf("throttled attempt: retry-after %s, delay %s", first.RetryAfter, first.Delay)
	}
	pend, _ := r.w.Pending()
	if len(pend) != 1 || pend[0].NextAt == nil || pend[0].NextAt.Sub(first.At) < 7*time.Second {
		t.Fatalf("next attempt not at least 7 s later: %+v", pend)
	}
	if ps := r.w.Status().Peers[r.up.Name()]; ps.PausedUntil == nil || ps.PausedUntil.Sub(first.At) < 7*time.Second {
		t.Fatalf("peer not paused: %+v", ps)
	}
	clock.Advance(3 * time.Second)
	r.w.Notify()
	if r.ph.record(tk.ID) != nil {
		t.Fatal("delivered before Retry-After passed")
	}
	clock.Advance(4 * time.Second)
	r.w.Notify()
	eventually(t, "delivery after Retry-After", func() bool { return r.matches(tk.ID) && r.drained() })
	all := r.log.list()
	last := all[len(all)-1]
	if last.Outcome != crmsync.OutcomeDelivered || last.At.Sub(first.At) < 7*time.Second {
		t.Fatalf("delivered at +%s, want ≥ 7s after the 429", last.At.Sub(first.At))
	}
	for _, x := range all[1:] {
		if x.At.Sub(first.At) < 7*time.Second {
			t.Fatalf("an attempt %s after the 429", x.At.Sub(first.At))
		}
	}
}

// A call that never answers times out and is retried.
func TestTimeoutRetried(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(c *crmsync.Config) { c.AttemptTimeout = 200 * time.Millisecond })
	if err := r.ph.faults().Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeHang, Count: 1}); err != nil {
		t.Fatal(err)
	}
	run(t, r.w)
	tk := r.issue("certificati")
	eventually(t, "delivery after the timeout", func() bool { return r.matches(tk.ID) && r.drained() })
	first := r.log.list()[0]
	if first.Outcome != crmsync.OutcomeRetry || deliveryCode(first.Err) != "timeout" {
		t.Fatalf("first attempt: %+v", first)
	}
	if st := r.ph.faults().Stats(peer.KindUpsert); st.Faulted != 1 || st.Created != 1 {
		t.Fatalf("peer stats %+v", st)
	}
}

// The peer applies the upsert, then drops the connection: the worker
// cannot know, retries, and the record shows one change, two applies.
func TestApplyThenDropIsAppliedOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	if err := r.ph.faults().Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeDrop, Count: 1}); err != nil {
		t.Fatal(err)
	}
	run(t, r.w)
	tk := r.issue("certificati") // one change: one upsert
	eventually(t, "delivery", func() bool { return r.matches(tk.ID) && r.drained() })
	rec := r.ph.record(tk.ID)
	if rec.Version != 1 || rec.Applies != 2 {
		t.Fatalf("version %d applies %d: want version 1 (one change) and 2 applies", rec.Version, rec.Applies)
	}
	st := r.ph.faults().Stats(peer.KindUpsert)
	if st.Created != 1 || st.Unchanged != 1 || st.Dropped != 1 {
		t.Fatalf("peer stats %+v", st)
	}
	first := r.log.list()[0]
	de, ok := first.Err.(*crmsync.DeliveryError)
	if first.Outcome != crmsync.OutcomeRetry || !ok || !de.Ambiguous {
		t.Fatalf("first attempt: %+v", first)
	}
}

// The breaker opens after N consecutive failures, lets one probe through
// after the cool-down (a failed probe opens it again) and closes when the
// peer is back.
func TestBreakerOpensAndRecovers(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Now())
	r := newRig(t, func(c *crmsync.Config) {
		c.Clock = clock.Now
		c.BreakerThreshold = 3
		c.BreakerCooldown = 30 * time.Second
		c.Concurrency = 1
		c.Rand = func() float64 { return 0 } // retry at once: only the breaker holds back
	})
	if err := r.ph.faults().Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeError, Status: 503}); err != nil {
		t.Fatal(err)
	}
	run(t, r.w)
	a, b := r.issue("certificati"), r.issue("cie")
	eventually(t, "the breaker to open", func() bool {
		return r.w.Status().BreakerState == crmsync.BreakerOpen && r.log.count(crmsync.OutcomeRetry) >= 3
	})
	if n := r.log.count(crmsync.OutcomeRetry); n != 3 {
		t.Fatalf("%d attempts before opening, want 3", n)
	}
	clock.Advance(29 * time.Second)
	r.w.Notify()
	if s := r.w.Status(); s.BreakerState != crmsync.BreakerOpen {
		t.Fatalf("breaker %s before the cool-down", s.BreakerState)
	}
	clock.Advance(2 * time.Second)
	r.w.Notify()
	eventually(t, "a failed probe", func() bool { return r.log.count(crmsync.OutcomeRetry) == 4 })
	if p := r.log.list()[3]; !p.Probe {
		t.Fatalf("4th attempt is not the probe: %+v", p)
	}
	if s := r.w.Status(); s.Peers[r.up.Name()].State != crmsync.BreakerOpen {
		t.Fatalf("breaker %+v after the failed probe", s.Peers)
	}
	if n := len(r.log.list()); n != 4 {
		t.Fatalf("%d attempts while open, want 4", n)
	}
	r.ph.faults().ClearAll()
	clock.Advance(31 * time.Second)
	r.w.Notify()
	eventually(t, "recovery", func() bool { return r.matches(a.ID) && r.matches(b.ID) && r.drained() })
	all := r.log.list()
	if !all[4].Probe || all[4].Outcome != crmsync.OutcomeDelivered {
		t.Fatalf("recovery did not start with a successful probe: %+v", all[4])
	}
	if s := r.w.Status(); s.BreakerState != crmsync.BreakerClosed {
		t.Fatalf("breaker %s after recovery", s.BreakerState)
	}
}

// The worker stops mid-way (a call hanging), the hub restarts, more
// changes come: a new worker resumes from the durable cursor and lanes,
// and every visit ends at the peer in its final state.
func TestCrashResumesFromCursor(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	stop := run(t, r.w)
	a, b, c := r.issue("certificati"), r.issue("cie"), r.issue("tributi")
	eventually(t, "first deliveries", func() bool { return r.matches(a.ID) && r.matches(b.ID) && r.matches(c.ID) && r.drained() })

	if err := r.ph.faults().Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeHang}); err != nil {
		t.Fatal(err)
	}
	r.open("4", "clerk04")
	r.call("4", "clerk04", a.ID)
	r.start("4", "clerk04")
	d, e := r.issue("residenza"), r.issue("certificati")
	r.w.Notify()
	eventually(t, "a call hanging at the peer", func() bool { return r.ph.faults().Stats(peer.KindUpsert).Faulted >= 1 })
	stop()
	before := r.w.Status()
	if before.Cursor == 0 || before.Backlog == 0 {
		t.Fatalf("status at the stop: %+v", before)
	}

	r.h.Restart(t, hubtest.Options{})
	pend, err := crmsync.ListPending(r.h.Store)
	if err != nil || len(pend) == 0 {
		t.Fatalf("no durable lanes after the restart: %v %v", pend, err)
	}
	r.finish("4", "clerk04", "ok")
	f := r.issue("cie")
	r.ph.faults().ClearAll()
	r.w = r.newWorker(nil)
	run(t, r.w)
	for _, id := range []string{a.ID, b.ID, c.ID, d.ID, e.ID, f.ID} {
		eventually(t, "visit "+id, func() bool { return r.matches(id) })
	}
	eventually(t, "an empty backlog", r.drained)
	if got := string(r.ph.record(a.ID).Fields["Status__c"]); got != `"done"` {
		t.Fatalf("visit A at the peer: %s", got)
	}
}

// A permanent 400 sends the change to the dead letters while other
// visits go on; newer changes of that visit wait behind it; the replay
// (also from a stopped hub's store) delivers the visit's latest state.
func TestDeadLetterAndReplay(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(c *crmsync.Config) { c.Concurrency = 1 })
	if err := r.ph.faults().Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeError, Status: 400, Count: 1}); err != nil {
		t.Fatal(err)
	}
	a, b := r.issue("certificati"), r.issue("cie") // a is older: it goes first
	stop := run(t, r.w)
	eventually(t, "the dead letter and the other visit", func() bool {
		ds, _ := r.w.DeadLetters()
		return len(ds) == 1 && r.matches(b.ID) && r.w.Status().DeliveredTotal == 1
	})
	ds, _ := r.w.DeadLetters()
	dl := ds[0]
	if dl.ExternalID != a.ID || dl.HTTPStatus != 400 || dl.Number != a.Number || dl.Held {
		t.Fatalf("dead letter %+v", dl)
	}
	if r.ph.record(a.ID) != nil {
		t.Fatal("the refused visit is at the peer")
	}
	// A newer change of the dead visit is held behind it.
	r.open("4", "clerk04")
	r.call("4", "clerk04", a.ID)
	r.w.Notify()
	eventually(t, "the newer change held", func() bool { s := r.w.Status(); return s.Held == 1 && s.Pending == 1 })
	s := r.w.Status()
	if s.DeadLetters != 1 || s.Backlog != 1 {
		t.Fatalf("status %+v", s)
	}
	if ds, _ := r.w.DeadLetters(); !ds[0].Held {
		t.Fatal("the dead letter does not say a change waits behind it")
	}
	stop()

	// The `sportello crmsync` functions on the stopped hub's store.
	st, err := crmsync.ReadStatus(r.h.Store)
	if err != nil || st.Running || st.DeadLetters != 1 || st.Held != 1 {
		t.Fatalf("offline status %+v %v", st, err)
	}
	offline, err := crmsync.ListDead(r.h.Store)
	if err != nil || len(offline) != 1 || offline[0].Seq != dl.Seq {
		t.Fatalf("offline dead letters %+v %v", offline, err)
	}
	if _, err := crmsync.ReplayDead(r.h.Store, dl.Seq+1000); hub.ErrorCode(err) != "dead_letter_not_found" {
		t.Fatalf("replay of an unknown seq: %v", err)
	}
	if _, err := crmsync.ReplayDead(r.h.Store, dl.Seq); err != nil {
		t.Fatal(err)
	}
	r.w = r.newWorker(nil)
	run(t, r.w)
	eventually(t, "the replayed visit", func() bool { return r.matches(a.ID) && r.drained() })
	if got := string(r.ph.record(a.ID).Fields["Status__c"]); got != `"called"` {
		t.Fatalf("the replay delivered %s, want the latest state (called)", got)
	}
	if s := r.w.Status(); s.DeadLetters != 0 || s.Held != 0 {
		t.Fatalf("status after the replay %+v", s)
	}
}

// A report reaches Open311 exactly once although the first POST was
// applied and its connection dropped: the retry searches by the
// protocol first. OnReportDelivered gets the service_request_id (and a
// failing callback is retried without filing again).
func TestReportFiledExactlyOnce(t *testing.T) {
	t.Parallel()
	type call struct{ protocol, id string }
	var mu sync.Mutex
	var calls []call
	var h *hubtest.Hub
	r := newRig(t, func(c *crmsync.Config) {
		c.OnReportDelivered = func(protocol, id string) error {
			mu.Lock()
			calls = append(calls, call{protocol, id})
			n := len(calls)
			mu.Unlock()
			if n == 1 {
				return hub.Errorf(hub.KindUnavailable, "unavailable", "the engine is busy")
			}
			_, err := h.Engine.ReportDelivered(bg, protocol, id)
			return err
		}
	})
	h = r.h
	if err := r.ph.faults().Set(peer.KindOpen311, peer.Fault{Mode: peer.ModeDrop, Count: 1}); err != nil {
		t.Fatal(err)
	}
	run(t, r.w)
	rep, err := r.h.Engine.FileReport(bg, hub.ReportRequest{Kind: "segnalazione", Topic: "illuminazione",
		Description: "Lampione spento davanti al civico 12", Location: "Via Marina 12", Channel: hub.ChannelTotem, By: "totem-1"})
	if err != nil {
		t.Fatal(err)
	}
	r.w.Notify()
	eventually(t, "the report sent", func() bool {
		got, err := r.h.Store.Report(rep.Protocol)
		return err == nil && got.Status == "sent" && r.drained()
	})
	reqs, err := r.ph.peer().ServiceRequestsByExternalID(rep.Protocol)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("%d service requests for the report (%v), want exactly 1", len(reqs), err)
	}
	got, _ := r.h.Store.Report(rep.Protocol)
	if got.ServiceRequestID != reqs[0].ServiceRequestID {
		t.Fatalf("the hub has %q, the peer %q", got.ServiceRequestID, reqs[0].ServiceRequestID)
	}
	if st := r.ph.faults().Stats(peer.KindOpen311); st.Duplicates != 0 || st.Created != 1 {
		t.Fatalf("open311 stats %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 2 || calls[1].protocol != rep.Protocol || calls[1].id != reqs[0].ServiceRequestID {
		t.Fatalf("callbacks %+v", calls)
	}
	first := r.log.list()[0]
	if de, ok := first.Err.(*crmsync.DeliveryError); first.Outcome != crmsync.OutcomeRetry || !ok || !de.Ambiguous {
		t.Fatalf("first attempt %+v", first)
	}
}

// Reconciliation re-delivers what the peer lost (a peer restarted on an
// empty data dir: records, reports and tokens gone) and what was changed
// behind our back.
func TestReconcileRedeliversLostRecords(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(c *crmsync.Config) {
		c.OnReportDelivered = func(p, id string) error { return nil }
	})
	run(t, r.w)
	a, b := r.issue("certificati"), r.issue("cie")
	r.open("4", "clerk04")
	r.call("4", "clerk04", a.ID)
	r.finish("4", "clerk04", "ok")
	rep, err := r.h.Engine.FileReport(bg, hub.ReportRequest{Kind: "reclamo", Topic: "servizi", Description: "Attesa troppo lunga allo sportello", Channel: hub.ChannelDesk, By: "clerk04"})
	if err != nil {
		t.Fatal(err)
	}
	r.w.Notify()
	eventually(t, "first deliveries", func() bool { return r.matches(a.ID) && r.matches(b.ID) && r.drained() })
	day := a.Day

	out, err := r.w.Reconcile(bg, day)
	if err != nil || out.Visits != 2 || out.Reports != 1 || out.Matched != 3 || out.Requeued != 0 {
		t.Fatalf("reconcile of a healthy day: %+v %v", out, err)
	}

	r.ph.replace(t, t.TempDir())
	out, err = r.w.Reconcile(bg, day)
	if err != nil {
		t.Fatal(err)
	}
	if out.Missing != 3 || out.Requeued != 3 {
		t.Fatalf("reconcile after the loss: %+v", out)
	}
	eventually(t, "re-delivery", func() bool { return r.matches(a.ID) && r.matches(b.ID) && r.drained() })
	eventually(t, "the report filed again", func() bool {
		reqs, _ := r.ph.peer().ServiceRequestsByExternalID(rep.Protocol)
		return len(reqs) == 1
	})

	// An edit behind our back of a field we own is put right.
	if _, err := r.up.Upsert(bg, b.ID, map[string]any{"Status__c": "cancelled"}); err != nil {
		t.Fatal(err)
	}
	out, err = r.w.Reconcile(bg, day)
	if err != nil || out.Stale != 1 || out.Requeued != 1 || out.StaleIDs[0] != b.ID {
		t.Fatalf("reconcile of a stale record: %+v %v", out, err)
	}
	eventually(t, "the stale record put right", func() bool { return r.matches(b.ID) && r.drained() })
	if s := r.w.Status(); s.LastReconcile == nil || s.LastReconcile.Day != day {
		t.Fatalf("status lacks the last reconciliation: %+v", s.LastReconcile)
	}
}

// The nightly schedule runs the day's reconciliation at ReconcileAt on
// the injected clock.
func TestReconcileSchedule(t *testing.T) {
	t.Parallel()
	loc := hub.BuiltinSite().Location()
	now := time.Now().In(loc)
	clock := newFakeClock(time.Date(now.Year(), now.Month(), now.Day(), 23, 29, 0, 0, loc))
	r := newRig(t, func(c *crmsync.Config) {
		c.Clock = clock.Now
		c.NoReconcile = false
		c.ReconcileAt = "23:30"
	})
	run(t, r.w)
	tk := r.issue("certificati")
	eventually(t, "delivery", func() bool { return r.matches(tk.ID) && r.drained() })
	eventually(t, "yesterday's catch-up run", func() bool {
		lr := r.w.Status().LastReconcile
		return lr != nil && lr.Day == now.AddDate(0, 0, -1).Format(time.DateOnly)
	})
	r.ph.replace(t, t.TempDir())
	clock.Advance(2 * time.Minute)
	r.w.Notify()
	eventually(t, "the scheduled reconciliation", func() bool {
		lr := r.w.Status().LastReconcile
		return lr != nil && lr.Day == tk.Day && lr.Requeued == 1
	})
	eventually(t, "re-delivery", func() bool { return r.matches(tk.ID) && r.drained() })
}

func TestMappingAndValidation(t *testing.T) {
	t.Parallel()
	tk := &hub.Ticket{ID: "cedir-20260105-A001", Number: "A001", Service: "certificati", Status: hub.StatusWaiting, Prio: hub.PriorityPregnancy, Channel: hub.ChannelTotem, Notes: "x"}
	f := crmsync.DefaultMapping().VisitFields(tk)
	for k := range f {
		if strings.Contains(strings.ToLower(k), "prior") || strings.Contains(strings.ToLower(k), "note") {
			t.Fatalf("default mapping sends %s", k)
		}
	}
	if f["Called_At__c"] != nil || f["Ticket_Number__c"] != "A001" {
		t.Fatalf("fields %v", f)
	}
	m := crmsync.Mapping{Fields: map[string]string{"number": "Name", "priority": "Priority__c", "ticket.fiscal_code": "Codice_Fiscale__c"}}
	f = m.VisitFields(tk)
	if f["Priority__c"] != "pregnancy" || len(f) != 2 {
		t.Fatalf("configured mapping %v (an absent personal field must not be sent)", f)
	}
	for _, bad := range []crmsync.Mapping{
		{Fields: map[string]string{"number": "Id"}},
		{Fields: map[string]string{"number": "Visit_Ext_Id__c"}},
		{Fields: map[string]string{"nonsense": "X__c"}},
		{Fields: map[string]string{"number": "A__c", "service": "a__c"}},
	} {
		if bad.Validate() == nil {
			t.Fatalf("mapping %v accepted", bad.Fields)
		}
	}
}
