package memstore

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
)

func testSite() *hub.Site {
	return &hub.Site{
		ID: "test", Name: hub.Text{IT: "Test", EN: "Test"}, Comune: "Comune di Test", Timezone: "UTC",
		Services: []hub.Service{{ID: "A", Prefix: "A", Name: hub.Text{IT: "A", EN: "A"}, Category: hub.Informativo, TargetWait: 20 * time.Minute, ServiceTime: 5 * time.Minute}},
		Counters: []hub.CounterDef{{ID: "c1", Kind: hub.KindCounter, Name: hub.Text{IT: "1", EN: "1"}, Services: []string{"A"}}},
	}
}

func TestEngineOnMemstore(t *testing.T) {
	site := testSite()
	if err := site.Validate(); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	st := New(Options{})
	e, err := hub.New(hub.Config{Site: site, Store: st, Clock: func() time.Time { return now }, MaxBatch: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	t1, created, err := e.Issue(ctx, hub.IssueRequest{Service: "A", IdemKey: "k1", By: "totem"})
	if err != nil || !created {
		t.Fatal(err, created)
	}
	// Idempotency: the same key gives the same ticket.
	t2, created, err := e.Issue(ctx, hub.IssueRequest{Service: "A", IdemKey: "k1", By: "totem"})
	if err != nil || created || t2.ID != t1.ID {
		t.Fatalf("idempotency: %v %v %v", err, created, t2)
	}
	if _, err := e.OpenCounter(ctx, "c1", "anna"); err != nil {
		t.Fatal(err)
	}
	c, err := e.CallNext(ctx, "c1", "anna")
	if err != nil || c == nil || c.ID != t1.ID {
		t.Fatal(err, c)
	}
	if _, err := e.Finish(ctx, "c1", "anna", hub.FinishRequest{}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Ticket(t1.ID)
	if err != nil || got.Status != hub.StatusDone {
		t.Fatalf("stored ticket: %v %+v", err, got)
	}
	if _, err := st.Ticket("nope"); err == nil {
		t.Fatal("expected not found")
	}
	evs, ok, err := st.EventsSince(0, 0)
	if err != nil || !ok || len(evs) < 4 {
		t.Fatalf("events: %v %v %d", err, ok, len(evs))
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq <= evs[i-1].Seq {
			t.Fatal("events out of order")
		}
	}
	part, ok, _ := st.EventsSince(evs[1].Seq, 1)
	if !ok || len(part) != 1 || part[0].Seq != evs[2].Seq {
		t.Fatalf("EventsSince with limit: %v", part)
	}
	if len(st.Outbox()) == 0 {
		t.Fatal("no outbox records")
	}
	// A new engine on the same store sees the same state (numbers go on).
	e.Close()
	e2, err := hub.New(hub.Config{Site: site, Store: st, Clock: func() time.Time { return now }, MaxBatch: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	t3, _, err := e2.Issue(ctx, hub.IssueRequest{Service: "A"})
	if err != nil || t3.Number != "A002" {
		t.Fatalf("after reload: %v %v", err, t3)
	}
	var buf bytes.Buffer
	n, err := st.WriteBackup(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatal(err, n)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc["tickets"].([]any)) != 2 {
		t.Fatalf("backup tickets: %v", doc["tickets"])
	}
	if _, err := st.Report("x"); err == nil {
		t.Fatal("expected report not found")
	}
}

func TestKeepEventsPrunes(t *testing.T) {
	st := New(Options{KeepEvents: 2})
	// 5 events with KeepEvents 2: pruned at 4 to the last 2, then one more.
	for i := uint64(1); i <= 5; i++ {
		if err := st.Commit(&hub.Batch{Events: []hub.Event{{Seq: i, Type: "x"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := st.EventsSince(0, 0); ok {
		t.Fatal("pruned events must report ok=false")
	}
	evs, ok, _ := st.EventsSince(3, 0)
	if !ok || len(evs) != 2 {
		t.Fatalf("got %v %v", evs, ok)
	}
	if err := st.Commit(&hub.Batch{Events: []hub.Event{{Seq: 5}}}); err == nil {
		t.Fatal("a repeated seq must fail")
	}
}
