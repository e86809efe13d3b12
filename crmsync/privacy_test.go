package crmsync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync"
	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/comune-rc/sportello/hub/hubtest"
	"github.com/labstack/echo/v4"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"
)

// syncBuffer is a log sink shared by every part of a run.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPersonalDataReducedPrunedNeverLogged: a visit booked by the contact
// centre with the citizen's fiscal code and name reaches the CzRM with
// the code (so it is on the citizen's timeline there); once delivered
// closed, the hub keeps only the keyed hash, the outbox snapshots that
// carried the data are pruned, a later re-delivery does not erase the
// code at the CzRM, and no log line of the whole run — hub, API, worker,
// peer, at debug level, through retries and a dead letter — carries the
// code or the name.
func TestPersonalDataReducedPrunedNeverLogged(t *testing.T) {
	t.Parallel()
	const cf, name = "RSSMRA85T10A562S", "Mario Rossi"
	const cf2 = "RSSMRAURTMLARSNL"
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	p, err := peer.New(peer.Config{Data: t.TempDir(), Demo: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	psrv := httptest.NewServer(p.Handler())
	t.Cleanup(func() { _ = p.Close(); psrv.CloseClientConnections(); psrv.Close() })

	dir := t.TempDir()
	store, err := boltstore.Open(filepath.Join(dir, "sportello.db"), boltstore.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	site := hub.BuiltinSite()
	acc := hub.NewAccounts(hub.AccountsConfig{Store: store, BcryptCost: bcrypt.MinCost})
	if err := hubtest.Seed(acc, site); err != nil {
		t.Fatal(err)
	}
	up, o311, err := crmsync.NewCzRMBindings(psrv.URL, "sportello", "demo", crmsync.Mapping{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var eng *hub.Engine
	cfg := crmsync.Config{Store: store, Upsert: up, Open311: o311, Location: site.Location(),
		Reduce:          func(ctx context.Context, id string) error { return eng.ReduceCitizen(ctx, id) },
		OutboxRetention: time.Nanosecond, PruneEvery: time.Nanosecond}
	fast(&cfg)
	cfg.Logger = log
	w, err := crmsync.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	eng, err = hub.New(hub.Config{Site: site, Store: store, HashKey: []byte("0123456789abcdef0123456789abcdef"), Logger: log,
		OnCommit: func([]hub.Event) { w.Notify() }})
	if err != nil {
		t.Fatal(err)
	}
	api := httpapi.New(httpapi.Config{Engine: eng, Accounts: acc, Logger: log, Version: "test", Demo: true, Mount: []func(*echo.Echo){crmsync.Mount(w)}})
	hsrv := httptest.NewServer(api.Handler())
	t.Cleanup(func() { hsrv.CloseClientConnections(); hsrv.Close(); eng.Close(); store.Close() })
	run(t, w)

	// The contact centre books for a citizen, linked to a CzRM case; a
	// first delivery fails (500) and is retried.
	if err := p.Faults().Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeError, Count: 2}); err != nil {
		t.Fatal(err)
	}
	agent := login(t, hsrv.URL, "clerk01")
	slot := time.Now().Add(2 * time.Hour).Truncate(time.Minute).Format(time.RFC3339)
	st, body := doJSON(t, "POST", hsrv.URL+"/api/v1/appointments", agent,
		`{"service":"certificati","slot":"`+slot+`","channel":"phone","case_id":"RC-2026-000042","citizen":{"fiscal_code":"`+cf+`","name":"`+name+`"}}`)
	if st != http.StatusCreated {
		t.Fatalf("booking: %d %s", st, body)
	}
	var appt struct{ Code string }
	_ = json.Unmarshal(body, &appt)
	tk, _, err := eng.Issue(bg, hub.IssueRequest{Appointment: appt.Code, Channel: hub.ChannelTotem, By: "totem-1"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Citizen == nil || tk.Citizen.FiscalCode != cf || tk.CaseID != "RC-2026-000042" {
		t.Fatalf("the checked-in ticket does not carry the booking's citizen and case: %+v %q", tk.Citizen, tk.CaseID)
	}
	// A second citizen's visit is refused for good: a dead letter keeps
	// its snapshot (it has not reached the CzRM) but logs nothing of it.
	other, _, err := eng.Issue(bg, hub.IssueRequest{Service: "tributi", Channel: hub.ChannelPhone, By: "clerk01", Citizen: &hub.Citizen{FiscalCode: cf2, Name: "Anna Verdi"}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first visit at the CzRM", func() bool {
		m := crmsync.DefaultMapping()
		r, err := p.Record(m.Object, m.ExtIDField, tk.ID)
		return err == nil && string(r.Fields["Codice_Fiscale__c"]) == `"`+cf+`"` && string(r.Fields["Case_Id__c"]) == `"RC-2026-000042"`
	})
	if err := p.Faults().Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeError, Status: 400, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Cancel(bg, other.ID, "clerk01"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the dead letter", func() bool { ds, _ := w.DeadLetters(); return len(ds) == 1 })

	// The visit goes on and ends; the closed state is delivered, then
	// reduced.
	for _, step := range []func() error{
		func() error { _, err := eng.OpenCounter(bg, "4", "clerk04"); return err },
		func() error { _, err := eng.CallTicket(bg, "4", "clerk04", tk.ID); return err },
		func() error { _, err := eng.Start(bg, "4", "clerk04"); return err },
		func() error {
			_, err := eng.Finish(bg, "4", "clerk04", hub.FinishRequest{Outcome: "rilasciato"})
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	why := ""
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last state: %s; status %+v", why, w.Status())
		}
	})
	eventually(t, "the visit reduced after delivery, the outbox pruned", func() bool {
		got, err := store.Ticket(tk.ID)
		if err != nil || got.Citizen == nil || got.Citizen.FiscalCode != "" || got.Citizen.Name != "" {
			why = fmt.Sprintf("ticket %v %+v", err, got)
			return false
		}
		seqs, recs, _ := store.Outbox(0, 0)
		for i, r := range recs {
			if r.TicketID == tk.ID {
				why = fmt.Sprintf("outbox %d %s %s", seqs[i], r.Type, r.At)
				return false
			}
		}
		why = "dead letters"
		ds, _ := w.DeadLetters()
		s := w.Status()
		return len(ds) == 1 && s.Pending == s.Held
	})
	got, _ := store.Ticket(tk.ID)
	if got.Citizen.Hash != eng.PersonKey(cf) {
		t.Fatalf("the reduced visit keeps %+v, want the keyed hash of the code", got.Citizen)
	}
	m := crmsync.DefaultMapping()
	rec, _ := p.Record(m.Object, m.ExtIDField, tk.ID)
	if string(rec.Fields["Status__c"]) != `"done"` || string(rec.Fields["Codice_Fiscale__c"]) != `"`+cf+`"` {
		t.Fatalf("the CzRM holds %s / %s", rec.Fields["Status__c"], rec.Fields["Codice_Fiscale__c"])
	}

	// Nothing of the first citizen is left in the hub's store (the
	// appointment was reduced with the visit); the dead letter of the
	// second keeps its snapshot until replayed or discarded.
	if err := store.DB().View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(bn []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if bytes.Contains(v, []byte(cf)) || bytes.Contains(v, []byte(name)) {
					t.Errorf("bucket %s key %q still holds the citizen's data", bn, k)
				}
				switch string(bn) {
				case "crmsync_dead", "crmsync_payload", "tickets", "outbox":
				default:
					if bytes.Contains(v, []byte(cf2)) {
						t.Errorf("bucket %s key %q holds the undelivered citizen's data outside its ticket, outbox, lane and dead letter", bn, k)
					}
				}
				return nil
			})
		})
	}); err != nil {
		t.Fatal(err)
	}

	// Reconciliation and any re-delivery see the reduced state: the CzRM
	// keeps the code.
	if rep, err := w.Reconcile(bg, tk.Day); err != nil || rep.Stale != 0 || rep.Missing != 0 || rep.Matched < 1 {
		t.Fatalf("reconciliation after the reduction: %+v %v", rep, err)
	}
	// The outbox snapshots are gone (pruned), so a cursor reset has
	// nothing of this visit to re-send; a re-delivery of the hub's state
	// is what the binding sends for it.
	// (at the version the CzRM holds: an equal version is a re-delivery).
	rec, _ = p.Record(m.Object, m.ExtIDField, tk.ID)
	var held uint64
	if err := json.Unmarshal(rec.Fields[crmsync.DefaultSeqField], &held); err != nil || held == 0 {
		t.Fatalf("the CzRM holds no version: %s", rec.Fields[crmsync.DefaultSeqField])
	}
	if _, err := up.UpsertVisit(bg, got, held); err != nil {
		t.Fatal(err)
	}
	rec, _ = p.Record(m.Object, m.ExtIDField, tk.ID)
	if string(rec.Fields["Codice_Fiscale__c"]) != `"`+cf+`"` {
		t.Fatalf("a re-delivery erased the code at the CzRM: %s", rec.Fields["Codice_Fiscale__c"])
	}

	out := logs.String()
	if !strings.Contains(out, "crmsync") || !strings.Contains(out, "dead letter") || !strings.Contains(out, "will retry") {
		t.Fatalf("the run logged too little to prove anything:\n%s", out)
	}
	for _, secret := range []string{cf, cf2, name, "Anna Verdi", strings.ToLower(cf)} {
		if strings.Contains(out, secret) {
			i := strings.Index(out, secret)
			t.Fatalf("the logs carry %q: …%s…", secret, out[max(0, i-300):min(len(out), i+100)])
		}
	}
}

func doJSON(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// Delivered outbox records are kept for the retention window (a cursor
// reset can re-send them), then deleted by the worker's schedule; the
// records of a visit not delivered (here held by a dead letter) stay.
func TestOutboxPrunedAfterRetention(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Now())
	ph := startPeer(t)
	h := hubtest.Start(t, hubtest.Options{Clock: clock.Now})
	r := &rig{t: t, h: h, ph: ph}
	r.w = r.newWorker(func(c *crmsync.Config) {
		c.Clock = clock.Now
		c.OutboxRetention, c.PruneEvery = time.Hour, time.Minute
	})
	run(t, r.w)
	a := r.issue("certificati")
	eventually(t, "the first visit delivered", func() bool { return r.matches(a.ID) && r.drained() })
	if err := ph.faults().Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeError, Status: 400, Count: 1}); err != nil {
		t.Fatal(err)
	}
	b := r.issue("cie")
	eventually(t, "the second visit dead", func() bool { ds, _ := r.w.DeadLetters(); return len(ds) == 1 })
	outbox := func() map[string]int {
		_, recs, err := h.Store.Outbox(0, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, x := range recs {
			n[x.TicketID]++
		}
		return n
	}
	clock.Advance(30 * time.Minute)
	if n, err := r.w.PruneOutbox(clock.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("pruned %d (%v) within the retention window", n, err)
	}
	if got := outbox(); got[a.ID] != 1 || got[b.ID] != 1 {
		t.Fatalf("outbox %v", got)
	}
	clock.Advance(31 * time.Minute)
	r.w.Notify()
	eventually(t, "the delivered visit's record pruned", func() bool { r.w.Notify(); got := outbox(); return got[a.ID] == 0 && got[b.ID] == 1 })
}
