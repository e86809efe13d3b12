package crmsync_test

import (
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync"
	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/comune-rc/sportello/hub"
)

// TestReportPostLeftInFlightIsNotFiledTwice: a worker is stopped while
// the peer holds its report POST (slow fault: the peer applies it later,
// though the caller is gone), without recording the attempt's outcome —
// what a kill -9 leaves. The next worker on the same store must not look
// the report up at once (the search would find nothing, and its POST
// would make a second case when the held one lands): it waits until
// AmbiguousDelay after the dead call's attempt timeout, then finds the
// held POST by our protocol (attribute[external_id]) and files nothing;
// a second stop before that changes nothing. The CRM's
// service_request_id reaches the hub's report.
func TestReportPostLeftInFlightIsNotFiledTwice(t *testing.T) {
	const (
		attemptTimeout = 1500 * time.Millisecond // real time: the held POST outlives the worker, not this bound
		ambiguousDelay = 2 * time.Second         // on the fake clock
		hold           = 2 * time.Second         // the peer holds the POST past the attempt timeout
	)
	clock := newFakeClock(time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC))
	var r *rig
	tune := func(c *crmsync.Config) {
		c.Clock = clock.Now
		c.AttemptTimeout = attemptTimeout
		c.AmbiguousDelay = ambiguousDelay
		c.OnReportDelivered = func(protocol, id string) error {
			_, err := r.h.Engine.ReportDelivered(bg, protocol, id)
			return err
		}
	}
	r = newRig(t, tune)
	// Only the first Open311 call (the POST: a first attempt does not
	// search) is held.
	if err := r.ph.faults().Set(peer.KindOpen311, peer.Fault{Mode: peer.ModeSlow, Delay: hold, Count: 1}); err != nil {
		t.Fatal(err)
	}
	rep, err := r.h.Engine.FileReport(bg, hub.ReportRequest{Kind: "segnalazione", Topic: "illuminazione",
		Description: "Lampione spento in via Marina", Location: "Via Marina 12", By: "totem-1"})
	if err != nil {
		t.Fatal(err)
	}
	posted := clock.Now()

	stop1 := run(t, r.w)
	eventually(t, "the POST at the peer", func() bool { return r.ph.postsIn.Load() == 1 })
	stop1() // the call is cancelled; the peer applies it all the same
	if n := len(r.log.list()); n != 0 {
		t.Fatalf("the first worker recorded %d attempts: %+v (want none: it was stopped during its POST)", n, r.log.list())
	}

	w2 := r.newWorker(tune)
	stop2 := run(t, w2)
	// The held POST lands while the new worker waits.
	eventually(t, "the held POST to be applied", func() bool {
		return r.ph.postsOut.Load() == r.ph.postsIn.Load() && r.ph.faults().Stats(peer.KindOpen311).Created >= 1
	})
	st := r.ph.faults().Stats(peer.KindOpen311)
	if st.Created != 1 || st.Duplicates != 0 || st.Calls != 1 {
		t.Fatalf("at the peer after the held POST: %+v; want the held request only (created 1, duplicates 0, 1 call): "+
			"the new worker did not wait for the POST left in flight", st)
	}
	wantAt := posted.Add(attemptTimeout + ambiguousDelay)
	eventually(t, "the report to wait until "+wantAt.String(), func() bool {
		ps, err := w2.Pending()
		return err == nil && len(ps) == 1 && ps[0].NextAt != nil && ps[0].NextAt.Equal(wantAt)
	})

	// A second stop before the outcome is recorded: the next worker
	// waits just the same (the mark stays until then).
	stop2()
	w3 := r.newWorker(tune)
	run(t, w3)
	eventually(t, "the report to wait again until "+wantAt.String(), func() bool {
		ps, err := w3.Pending()
		return err == nil && len(ps) == 1 && ps[0].NextAt != nil && ps[0].NextAt.Equal(wantAt) && w3.Status().Running
	})

	clock.Advance(attemptTimeout + ambiguousDelay)
	w3.Notify()
	eventually(t, "the report sent", func() bool {
		got, err := r.h.Engine.Report(rep.Protocol)
		s := w3.Status()
		return err == nil && got.Status == "sent" && s.Backlog == 0 && s.InFlight == 0
	})
	st = r.ph.faults().Stats(peer.KindOpen311)
	if st.Created != 1 || st.Duplicates != 0 || st.Calls != 2 {
		t.Fatalf("at the peer: %+v; want one request, no duplicate, 2 calls (the POST and one search)", st)
	}
	reqs, err := r.ph.peer().ServiceRequestsByExternalID(rep.Protocol)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("requests at the peer for %s: %v %v", rep.Protocol, reqs, err)
	}
	got, _ := r.h.Engine.Report(rep.Protocol)
	if got.ServiceRequestID == "" || got.ServiceRequestID != reqs[0].ServiceRequestID {
		t.Fatalf("the hub's report holds %q, the peer filed %q", got.ServiceRequestID, reqs[0].ServiceRequestID)
	}
	var outcomes []string
	for _, a := range r.log.list() {
		outcomes = append(outcomes, a.Outcome)
	}
	if len(outcomes) != 1 || outcomes[0] != crmsync.OutcomeDelivered {
		t.Fatalf("the last worker's attempts: %v, want one delivered (found by the search)", outcomes)
	}
}
