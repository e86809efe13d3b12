package crmsync_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync"
	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/comune-rc/sportello/hub"
)

// heldSeq is the version the peer holds for a visit (0: none).
func (r *rig) heldSeq(id string) uint64 {
	rec := r.ph.record(id)
	if rec == nil {
		return 0
	}
	var v uint64
	_ = json.Unmarshal(rec.Fields[crmsync.DefaultSeqField], &v)
	return v
}

// TestLateOlderStateRefused: the hazard the version guard closes, end to
// end over HTTP. The first upsert of a visit (waiting) is slowed by the
// peer past the worker's attempt timeout; meanwhile the visit is called
// and the worker delivers the newer state; then the slow call reaches the
// peer's store. It is refused (409 STALE_VERSION), and the peer keeps the
// newer state with its version.
func TestLateOlderStateRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(c *crmsync.Config) { c.AttemptTimeout = 400 * time.Millisecond })
	f := r.ph.faults()
	if err := f.Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeSlow, Delay: 1500 * time.Millisecond, Count: 1}); err != nil {
		t.Fatal(err)
	}
	run(t, r.w)
	tk := r.issue("certificati")
	eventually(t, "the first upsert held by the peer", func() bool {
		return f.Stats(peer.KindUpsert).Calls >= 1 && len(f.Active()) == 0
	})
	r.open("4", "clerk04")
	r.call("4", "clerk04", tk.ID)
	eventually(t, "the late call refused", func() bool { return f.Stats(peer.KindUpsert).Stale == 1 })
	eventually(t, "the newer state delivered", func() bool { return r.matches(tk.ID) && r.drained() })
	rec := r.ph.record(tk.ID)
	if got := string(rec.Fields["Status__c"]); got != `"called"` {
		t.Fatalf("the peer holds %s: the late older state overwrote the newer one", got)
	}
	var last crmsync.Attempt
	for _, a := range r.log.list() {
		if a.Outcome == crmsync.OutcomeDelivered {
			last = a
		}
	}
	if last.Seq == 0 || r.heldSeq(tk.ID) != last.Seq {
		t.Fatalf("the peer holds version %d, the last delivery was seq %d", r.heldSeq(tk.ID), last.Seq)
	}
	first := r.log.list()[0]
	if first.Outcome != crmsync.OutcomeRetry || deliveryCode(first.Err) != "timeout" || first.Seq >= last.Seq {
		t.Fatalf("first attempt %+v, last delivery %+v", first, last)
	}
}

// TestStaleAnswerIsSuperseded: when the CRM answers that it holds a newer
// state, the worker records the change as delivered-superseded: one
// attempt, no retry, no dead letter, counted in the status; the CRM's
// state is left alone.
func TestStaleAnswerIsSuperseded(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	tk := r.issue("certificati")
	// The CzRM already holds a newer state of the visit than any the hub
	// will send now (as after a cursor reset, or a hub restored from an
	// older backup).
	if _, err := r.up.Upsert(bg, tk.ID, map[string]any{"Status__c": "done", crmsync.DefaultSeqField: 1_000_000}); err != nil {
		t.Fatal(err)
	}
	run(t, r.w)
	eventually(t, "the lane done", func() bool { return r.drained() && r.w.Status().SupersededTotal == 1 })
	atts := r.log.list()
	if len(atts) != 1 || atts[0].Outcome != crmsync.OutcomeSuperseded || crmsync.Classify(atts[0].Err) != crmsync.Superseded ||
		deliveryCode(atts[0].Err) != peer.StaleVersion {
		t.Fatalf("attempts %+v", atts)
	}
	s := r.w.Status()
	if s.DeadLetters != 0 || s.DeliveredTotal != 0 || s.LastError != "" || s.Backlog != 0 || s.Pending != 0 {
		t.Fatalf("status after a superseded change: %+v", s)
	}
	if dl, err := r.w.DeadLetters(); err != nil || len(dl) != 0 {
		t.Fatalf("dead letters %v %v", dl, err)
	}
	rec := r.ph.record(tk.ID)
	if got := string(rec.Fields["Status__c"]); got != `"done"` || r.heldSeq(tk.ID) != 1_000_000 {
		t.Fatalf("the CzRM's newer state was touched: %s v%d", got, r.heldSeq(tk.ID))
	}
	if st := r.ph.faults().Stats(peer.KindUpsert); st.Stale != 1 || st.Calls != 2 {
		t.Fatalf("peer stats %+v: want the one stale refusal and no retry", st)
	}
}

// TestVersionFieldMapping: the version goes in the configured field
// (Sync_Seq__c by default), never in the state compared by
// reconciliation; "-" sends none; the field cannot clash with another.
func TestVersionFieldMapping(t *testing.T) {
	t.Parallel()
	tk := &hub.Ticket{ID: "cedir-20260105-A001", Number: "A001", Service: "certificati", Status: hub.StatusWaiting}
	cases := []struct {
		name  string
		m     crmsync.Mapping
		field string
	}{
		{"default", crmsync.Mapping{}, "Sync_Seq__c"},
		{"configured", crmsync.Mapping{SeqField: "Versione__c"}, "Versione__c"},
		{"none", crmsync.Mapping{SeqField: crmsync.NoSeqField}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.m.VersionField(); got != c.field {
				t.Fatalf("VersionField %q, want %q", got, c.field)
			}
			body := c.m.UpsertFields(tk, 42)
			state := c.m.VisitFields(tk)
			if c.field != "" {
				if body[c.field] != uint64(42) {
					t.Fatalf("body %v: no version 42 in %s", body, c.field)
				}
				delete(body, c.field)
			}
			if len(body) != len(state) {
				t.Fatalf("the body %v is the state %v plus the version only", body, state)
			}
			if _, ok := state[c.field]; ok {
				t.Fatal("the version is part of the state")
			}
		})
	}
	for _, bad := range []crmsync.Mapping{
		{SeqField: "Id"},
		{SeqField: "Visit_Ext_Id__c"},
		{SeqField: "Status__c"},
		{SeqField: "status__C"},
	} {
		if bad.Validate() == nil {
			t.Fatalf("version field %q accepted", bad.SeqField)
		}
	}
}

// TestReconcileResendVersions: reconciliation re-sends a visit's state
// with a version no lower than the one delivered (so the CRM takes it),
// and leaves alone a visit with a change not yet read from the outbox
// (that change reaches the CRM anyway, with its own higher seq).
func TestReconcileResendVersions(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	stop := run(t, r.w)
	a, b := r.issue("certificati"), r.issue("cie")
	r.open("4", "clerk04")
	r.call("4", "clerk04", a.ID)
	r.finish("4", "clerk04", "ok")
	eventually(t, "first deliveries", func() bool { return r.matches(a.ID) && r.matches(b.ID) && r.drained() })
	stop()
	va, vb := r.heldSeq(a.ID), r.heldSeq(b.ID)
	if va == 0 || vb == 0 {
		t.Fatalf("versions held %d %d", va, vb)
	}
	// Both records edited behind our back (same version: an agent's
	// tool does not know of it); b also changes in the hub, unread.
	for _, id := range []string{a.ID, b.ID} {
		if _, err := r.up.Upsert(bg, id, map[string]any{"Status__c": "cancelled"}); err != nil {
			t.Fatal(err)
		}
	}
	r.open("3", "clerk03")
	if _, err := r.h.Engine.CallTicket(bg, "3", "clerk03", b.ID); err != nil {
		t.Fatal(err)
	}
	out, err := r.w.Reconcile(bg, a.Day)
	if err != nil || out.Visits != 2 || out.Stale != 1 || out.Requeued != 1 || out.Skipped != 1 || out.StaleIDs[0] != a.ID {
		t.Fatalf("reconcile: %+v %v", out, err)
	}
	pend, err := r.w.Pending()
	if err != nil || len(pend) != 1 || pend[0].ExternalID != a.ID || pend[0].Seq < va || pend[0].Origin != "reconcile" {
		t.Fatalf("pending after the reconciliation %+v %v (delivered version %d)", pend, err, va)
	}
	run(t, r.w)
	eventually(t, "both put right", func() bool { return r.matches(a.ID) && r.matches(b.ID) && r.drained() })
	if got, want := r.heldSeq(a.ID), pend[0].Seq; got != want {
		t.Fatalf("a: the CzRM holds version %d, the re-send was %d", got, want)
	}
	if r.heldSeq(b.ID) <= vb || r.w.Status().SupersededTotal != 0 {
		t.Fatalf("b: version %d after %d; status %+v", r.heldSeq(b.ID), vb, r.w.Status())
	}
}
