package hub_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is an injected clock the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	loc, _ := time.LoadLocation("Europe/Rome")
	return &clock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, loc)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type env struct {
	t     *testing.T
	dir   string
	clock *clock
	store *boltstore.Store
	eng   *hub.Engine
	cfg   hub.Config
}

var ctx = context.Background()

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newEnv(t *testing.T, mod ...func(*hub.Config)) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clock: newClock()}
	e.cfg = hub.Config{Site: hub.BuiltinSite(), Clock: e.clock.Now, AutoNoShowRecalls: 2, Logger: quiet}
	for _, m := range mod {
		m(&e.cfg)
	}
	e.open()
	t.Cleanup(e.close)
	return e
}

func (e *env) open() {
	e.t.Helper()
	st, err := boltstore.Open(filepath.Join(e.dir, "sportello.db"), boltstore.Options{NoSync: true, Logger: quiet})
	require.NoError(e.t, err)
	e.store = st
	cfg := e.cfg
	cfg.Store = st
	eng, err := hub.New(cfg)
	require.NoError(e.t, err)
	e.eng = eng
}

func (e *env) close() {
	if e.eng != nil {
		e.eng.Close()
		e.store.Close()
		e.eng = nil
	}
}

// restart closes and reopens the engine on the same store file.
func (e *env) restart() {
	e.close()
	e.open()
}

func (e *env) issue(service string, p hub.Priority) *hub.Ticket {
	e.t.Helper()
	t, created, err := e.eng.Issue(ctx, hub.IssueRequest{Service: service, Priority: p, By: "totem-1"})
	require.NoError(e.t, err)
	require.True(e.t, created)
	return t
}

func (e *env) open1(counter, clerk string) {
	e.t.Helper()
	_, err := e.eng.OpenCounter(ctx, counter, clerk)
	require.NoError(e.t, err)
}

func code(err error) string { return hub.ErrorCode(err) }

func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	a := e.issue("certificati", hub.PriorityNone)
	require.Equal(t, "A001", a.Number)
	require.Equal(t, hub.StatusWaiting, a.Status)
	require.Equal(t, "cedir-20261201-A001", a.ID)
	require.NotEmpty(t, a.TrackToken)

	_, err := e.eng.CallNext(ctx, "1", "clerk01")
	require.Equal(t, "counter_closed", code(err))
	e.open1("1", "clerk01")
	_, err = e.eng.CallNext(ctx, "1", "clerk02")
	require.Equal(t, "not_at_counter", code(err))
	_, err = e.eng.Start(ctx, "1", "clerk01")
	require.Equal(t, "no_current_ticket", code(err))

	e.clock.Advance(3 * time.Minute)
	c, err := e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err)
	require.Equal(t, a.ID, c.ID)
	require.Equal(t, hub.StatusCalled, c.Status)
	require.Equal(t, "1", c.Counter)

	_, err = e.eng.CallNext(ctx, "1", "clerk01")
	require.Equal(t, "counter_busy", code(err))
	_, err = e.eng.CloseCounter(ctx, "1", "clerk01")
	require.Equal(t, "counter_busy", code(err))

	r, err := e.eng.Recall(ctx, "1", "clerk01")
	require.NoError(t, err)
	require.Equal(t, 1, r.Recalls)
	s, err := e.eng.Start(ctx, "1", "clerk01")
	require.NoError(t, err)
	require.Equal(t, hub.StatusServing, s.Status)
	_, err = e.eng.NoShow(ctx, "1", "clerk01")
	require.Equal(t, "ticket_not_called", code(err))
	e.clock.Advance(6 * time.Minute)
	f, err := e.eng.Finish(ctx, "1", "clerk01", hub.FinishRequest{Outcome: "rilasciato", Services: []string{"certificati", "stato_civile"}, Notes: "due certificati"})
	require.NoError(t, err)
	require.Equal(t, hub.StatusDone, f.Status)
	require.Equal(t, []string{"certificati", "stato_civile"}, f.Delivered)
	require.Equal(t, "rilasciato", f.Outcome)
	require.Len(t, f.Steps, 1)

	n, err := e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err)
	require.Nil(t, n, "nothing waiting: no ticket")
	_, err = e.eng.CloseCounter(ctx, "1", "clerk01")
	require.NoError(t, err)
}

func TestAutoNoShowAfterRecalls(t *testing.T) {
	e := newEnv(t) // AutoNoShowRecalls: 2
	e.issue("certificati", hub.PriorityNone)
	e.open1("1", "clerk01")
	_, err := e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err)
	for i := 1; i <= 2; i++ {
		r, err := e.eng.Recall(ctx, "1", "clerk01")
		require.NoError(t, err)
		require.Equal(t, hub.StatusCalled, r.Status)
		require.Equal(t, i, r.Recalls)
	}
	r, err := e.eng.Recall(ctx, "1", "clerk01")
	require.NoError(t, err)
	require.Equal(t, hub.StatusNoShow, r.Status)
	cv, err := e.eng.Counter("1")
	require.NoError(t, err)
	require.Nil(t, cv.Ticket)
}

func TestNumbersPerPrefixPerDayNeverReused(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, "A001", e.issue("certificati", hub.PriorityNone).Number)
	require.Equal(t, "A002", e.issue("certificati", hub.PriorityNone).Number)
	cie := e.issue("cie", hub.PriorityNone)
	require.NotEqual(t, byte('A'), cie.Number[0])
	require.Equal(t, "001", cie.Number[1:])
	e.restart()
	require.Equal(t, "A003", e.issue("certificati", hub.PriorityNone).Number, "numbers go on after a restart")
	e.clock.Advance(24 * time.Hour)
	next := e.issue("certificati", hub.PriorityNone)
	require.Equal(t, "A001", next.Number, "numbers reset each day")
	require.Equal(t, "cedir-20261202-A001", next.ID)
	e.restart()
	require.Equal(t, "A002", e.issue("certificati", hub.PriorityNone).Number)
}

func TestCallNextExactlyOnceConcurrent(t *testing.T) {
	e := newEnv(t)
	site := e.eng.Site()
	// 500 waiting tickets over every counter service.
	var services []string
	for _, s := range site.Services {
		if !s.Room {
			services = append(services, s.ID)
		}
	}
	want := map[string]string{}
	for i := 0; i < 500; i++ {
		t := e.issue(services[i%len(services)], hub.Priorities[i%len(hub.Priorities)])
		want[t.ID] = t.Service
	}
	var counters []hub.CounterDef
	for _, c := range site.Counters {
		if c.Kind == hub.KindCounter {
			counters = append(counters, c)
		}
	}
	require.Len(t, counters, 18)
	for i, c := range counters {
		e.open1(c.ID, fmt.Sprintf("clerk%02d", i+1))
	}
	var mu sync.Mutex
	calledBy := map[string]string{}
	dup := []string{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range counters {
		wg.Add(1)
		go func(c hub.CounterDef, clerk string) {
			defer wg.Done()
			<-start
			for {
				tk, err := e.eng.CallNext(ctx, c.ID, clerk)
				if err != nil {
					t.Errorf("call-next %s: %v", c.ID, err)
					return
				}
				if tk == nil {
					return
				}
				mu.Lock()
				if prev, ok := calledBy[tk.ID]; ok {
					dup = append(dup, tk.ID+" by "+prev+" and "+c.ID)
				}
				calledBy[tk.ID] = c.ID
				mu.Unlock()
				if _, err := e.eng.Finish(ctx, c.ID, clerk, hub.FinishRequest{}); err != nil {
					t.Errorf("finish %s: %v", c.ID, err)
					return
				}
			}
		}(c, fmt.Sprintf("clerk%02d", i+1))
	}
	close(start)
	wg.Wait()
	require.Empty(t, dup, "tickets called twice")
	require.Len(t, calledBy, 500, "every ticket called")
	for id, counter := range calledBy {
		def, _ := site.Counter(counter)
		require.Contains(t, def.Services, want[id], "ticket %s called by counter %s that does not serve it", id, counter)
	}
}

func TestFairPolicy(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	p := hub.NewFairPolicy(hub.FairPolicyConfig{MaxWait: 60 * time.Minute, PriorityWeight: 2, Targets: map[string]time.Duration{"a": 20 * time.Minute, "b": 10 * time.Minute}})
	tk := func(id, svc string, waited time.Duration, prio hub.Priority) *hub.Ticket {
		return &hub.Ticket{ID: id, Number: id, Service: svc, Prio: prio, Arrival: now.Add(-waited), Status: hub.StatusWaiting}
	}
	slot := now.Add(2 * time.Minute)
	appt := tk("appt", "a", 1*time.Minute, hub.PriorityNone)
	appt.Slot = &slot
	// Checked in before a slot that passed 4½ minutes ago: its grace
	// is about to end.
	pastSlot := now.Add(-4*time.Minute - 30*time.Second)
	due := tk("due", "a", 10*time.Minute, hub.PriorityNone)
	due.Slot = &pastSlot
	farSlot := now.Add(30 * time.Minute)
	early := tk("early", "a", 1*time.Minute, hub.PriorityNone)
	early.Slot = &farSlot
	c := &hub.Counter{ID: "1", Services: []string{"a", "b"}, State: hub.CounterOpen}
	cases := []struct {
		name string
		in   []*hub.Ticket
		want string
	}{
		{"fifo within a service", []*hub.Ticket{tk("n2", "a", 5*time.Minute, ""), tk("n1", "a", 9*time.Minute, "")}, "n1"},
		{"priority ages twice as fast", []*hub.Ticket{tk("n", "a", 9*time.Minute, hub.PriorityNone), tk("p", "a", 5*time.Minute, hub.PriorityDisability)}, "p"},
		{"priority does not jump a much longer wait", []*hub.Ticket{tk("n", "a", 30*time.Minute, hub.PriorityNone), tk("p", "a", 5*time.Minute, hub.PriorityPregnancy)}, "n"},
		{"shorter target is more urgent", []*hub.Ticket{tk("a", "a", 12*time.Minute, ""), tk("b", "b", 8*time.Minute, "")}, "b"},
		{"hard bound beats priority and appointments", []*hub.Ticket{tk("p", "a", 50*time.Minute, hub.PriorityElderly), appt, tk("old", "b", 61*time.Minute, "")}, "old"},
		{"appointment due goes before walk-ins", []*hub.Ticket{tk("p", "a", 30*time.Minute, hub.PriorityElderly), due}, "due"},
		{"appointment not due yet lets walk-ins go first", []*hub.Ticket{tk("n", "a", 1*time.Minute, ""), appt}, "n"},
		{"appointment far from slot waits like others", []*hub.Ticket{tk("n", "a", 10*time.Minute, ""), early}, "n"},
		{"ties by arrival then number", []*hub.Ticket{tk("x2", "a", 5*time.Minute, ""), tk("x1", "a", 5*time.Minute, "")}, "x1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, p.Pick(now, c, tc.in).ID)
			// Order agrees with Pick.
			q := append([]*hub.Ticket(nil), tc.in...)
			p.Order(now, q)
			require.Equal(t, tc.want, q[0].ID)
		})
	}
}

// TestNoStarvation: with priority tickets arriving faster than one counter
// serves, a normal ticket is still called once it reaches the hard bound.
func TestNoStarvation(t *testing.T) {
	e := newEnv(t, func(c *hub.Config) {
		c.Policy = hub.FairPolicyFor(c.Site, hub.FairPolicyConfig{MaxWait: 30 * time.Minute})
	})
	normal := e.issue("certificati", hub.PriorityNone)
	e.open1("1", "clerk01")
	for i := 0; i < 40; i++ {
		e.issue("certificati", hub.PriorityDisability)
		e.issue("certificati", hub.PriorityElderly)
		e.clock.Advance(time.Minute)
		c, err := e.eng.CallNext(ctx, "1", "clerk01")
		require.NoError(t, err)
		_, err = e.eng.Finish(ctx, "1", "clerk01", hub.FinishRequest{})
		require.NoError(t, err)
		if c.ID == normal.ID {
			require.LessOrEqual(t, e.clock.Now().Sub(normal.Arrival), 31*time.Minute)
			return
		}
	}
	t.Fatal("the normal ticket was never called")
}

func TestAppointmentCheckIn(t *testing.T) {
	e := newEnv(t)
	slot := e.clock.Now().Add(20 * time.Minute)
	a, err := e.eng.Book(ctx, hub.BookRequest{Service: "cie", Slot: slot})
	require.NoError(t, err)
	require.Len(t, a.Code, 8)
	e.issue("cie", hub.PriorityNone)
	e.clock.Advance(10 * time.Minute)
	tk, created, err := e.eng.Issue(ctx, hub.IssueRequest{Appointment: a.Code, By: "totem-2"})
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "cie", tk.Service)
	require.Equal(t, a.Code, tk.Appointment)
	again, created, err := e.eng.Issue(ctx, hub.IssueRequest{Appointment: a.Code, By: "totem-1"})
	require.NoError(t, err)
	require.False(t, created, "checking in twice returns the same ticket")
	require.Equal(t, tk.ID, again.ID)
	_, _, err = e.eng.Issue(ctx, hub.IssueRequest{Appointment: "NOPE2345"})
	require.Equal(t, "appointment_not_found", code(err))

	// Before its slot window the walk-in who came first is called first;
	// near the slot the appointment goes ahead.
	e.open1("3", "clerk03")
	e.clock.Advance(6 * time.Minute) // slot - 4 min
	c, err := e.eng.CallNext(ctx, "3", "clerk03")
	require.NoError(t, err)
	require.Equal(t, tk.ID, c.ID)
}

func TestTransferKeepsArrival(t *testing.T) {
	e := newEnv(t)
	first := e.issue("certificati", hub.PriorityNone)
	e.clock.Advance(10 * time.Minute)
	e.issue("tributi", hub.PriorityNone)
	e.open1("1", "clerk01")
	_, err := e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err)
	moved, err := e.eng.Transfer(ctx, "1", "clerk01", hub.TransferRequest{Service: "tributi"})
	require.NoError(t, err)
	require.Equal(t, hub.StatusWaiting, moved.Status)
	require.Equal(t, "tributi", moved.Service)
	require.Equal(t, first.Arrival, moved.Arrival)
	v, err := e.eng.Ticket(moved.ID)
	require.NoError(t, err)
	require.Equal(t, 1, v.Position, "kept its place: ahead of the later tributi ticket")

	// To the back of the queue on request.
	e.open1("12", "clerk12")
	cv, _ := e.eng.Counter("12")
	require.Contains(t, cv.Counter.Services, "tributi")
	c, err := e.eng.CallNext(ctx, "12", "clerk12")
	require.NoError(t, err)
	require.Equal(t, moved.ID, c.ID)
	e.clock.Advance(time.Minute)
	back, err := e.eng.Transfer(ctx, "12", "clerk12", hub.TransferRequest{Service: "tributi", Back: true})
	require.NoError(t, err)
	require.Equal(t, e.clock.Now(), back.Arrival)
	v, _ = e.eng.Ticket(back.ID)
	require.Equal(t, 2, v.Position)
}

func TestTransferToRoom(t *testing.T) {
	e := newEnv(t)
	tk := e.issue("tributi", hub.PriorityNone)
	e.open1("12", "clerk12")
	_, err := e.eng.CallNext(ctx, "12", "clerk12")
	require.NoError(t, err)
	room, _ := e.eng.Site().Counter("R3")
	moved, err := e.eng.Transfer(ctx, "12", "clerk12", hub.TransferRequest{Counter: "R3"})
	require.NoError(t, err)
	require.Equal(t, "R3", moved.Target)
	require.Equal(t, "consulenza_tributaria", moved.Service)
	require.Contains(t, room.Services, moved.Service)
	// Another room with the same service does not see it; R3 does.
	e.open1("R4", "clerk11")
	e.open1("R3", "clerk13")
	views := e.eng.Tickets(hub.TicketFilter{Counter: "R4"})
	for _, v := range views {
		require.NotEqual(t, tk.ID, v.Ticket.ID)
	}
	c, err := e.eng.CallNext(ctx, "R4", "clerk11")
	require.NoError(t, err)
	require.Nil(t, c)
	c, err = e.eng.CallNext(ctx, "R3", "clerk13")
	require.NoError(t, err)
	require.Equal(t, tk.ID, c.ID)
	require.Len(t, c.Steps, 2)
}

func TestCancel(t *testing.T) {
	e := newEnv(t)
	tk := e.issue("informazioni", hub.PriorityNone)
	c, err := e.eng.Cancel(ctx, tk.ID, "clerk01")
	require.NoError(t, err)
	require.Equal(t, hub.StatusCancelled, c.Status)
	_, err = e.eng.Cancel(ctx, tk.ID, "clerk01")
	require.Equal(t, "ticket_not_cancellable", code(err))
	_, err = e.eng.Cancel(ctx, "nope", "clerk01")
	require.True(t, errors.Is(err, hub.ErrTicketNotFound))
}

func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	r := hub.IssueRequest{Service: "certificati", IdemKey: "k1", By: "totem-1"}
	a, created, err := e.eng.Issue(ctx, r)
	require.NoError(t, err)
	require.True(t, created)
	b, created, err := e.eng.Issue(ctx, r)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, a.ID, b.ID)
	other := r
	other.By = "totem-2"
	c, created, err := e.eng.Issue(ctx, other)
	require.NoError(t, err)
	require.True(t, created, "keys are scoped to the device")
	require.NotEqual(t, a.ID, c.ID)
	e.restart()
	d, created, err := e.eng.Issue(ctx, r)
	require.NoError(t, err)
	require.False(t, created, "keys survive a restart")
	require.Equal(t, a.ID, d.ID)
	e.clock.Advance(23 * time.Hour)
	d, created, err = e.eng.Issue(ctx, r)
	require.NoError(t, err)
	require.False(t, created, "keys are kept at least 24 h")
	require.Equal(t, a.ID, d.ID)
}

// A retried report is the one first filed, also after a restart and when
// the retry is grouped in the same commit as the first call; a ticket's
// key does not stand for a report's.
func TestReportIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	r := hub.ReportRequest{Kind: "segnalazione", Topic: "strade", Description: "Buca in via Roma", By: "totem-1", IdemKey: "k1"}
	_, _, err := e.eng.Issue(ctx, hub.IssueRequest{Service: "certificati", IdemKey: "k1", By: "totem-1"})
	require.NoError(t, err)
	a, created, err := e.eng.FileReportOnce(ctx, r)
	require.NoError(t, err)
	require.True(t, created, "a ticket's key is not a report's")
	b, created, err := e.eng.FileReportOnce(ctx, r)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, a.Protocol, b.Protocol)
	e.restart()
	c, created, err := e.eng.FileReportOnce(ctx, r)
	require.NoError(t, err)
	require.False(t, created, "keys survive a restart")
	require.Equal(t, a.Protocol, c.Protocol)

	// Concurrent retries of a new key: one report, whatever the grouping.
	r.IdemKey = "k2"
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, _, err := e.eng.FileReportOnce(ctx, r)
			if assert.NoError(t, err) {
				got[i] = rep.Protocol
			}
		}()
	}
	wg.Wait()
	for _, p := range got {
		require.Equal(t, got[0], p)
	}
	require.NotEqual(t, a.Protocol, got[0])
}

func TestRestartRebuildsState(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 5; i++ {
		e.issue("certificati", hub.PriorityNone)
	}
	e.open1("1", "clerk01")
	called, err := e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err)
	seq := e.eng.LastSeq()
	snap, _ := e.eng.Snapshot()
	e.restart()
	require.Equal(t, seq, e.eng.LastSeq())
	snap2, _ := e.eng.Snapshot()
	require.Equal(t, snap.Counters, snap2.Counters)
	require.Equal(t, len(snap.Calls), len(snap2.Calls))
	v, err := e.eng.Ticket(called.ID)
	require.NoError(t, err)
	require.Equal(t, hub.StatusCalled, v.Ticket.Status)
	cv, _ := e.eng.Counter("1")
	require.Equal(t, called.ID, cv.Ticket.Ticket.ID)
	require.Equal(t, 4, len(e.eng.Tickets(hub.TicketFilter{Status: hub.StatusWaiting})))
	// The seq goes on increasing.
	e.issue("certificati", hub.PriorityNone)
	require.Greater(t, e.eng.LastSeq(), seq)
}

func TestPositionsAndEstimates(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := 0; i < 4; i++ {
		ids = append(ids, e.issue("certificati", hub.PriorityNone).ID)
		e.clock.Advance(time.Minute)
	}
	e.open1("1", "clerk01")
	var prev time.Duration = -1
	for i, id := range ids {
		v, err := e.eng.Ticket(id)
		require.NoError(t, err)
		require.Equal(t, i+1, v.Position)
		require.Greater(t, v.EWT, prev, "estimates grow with the position")
		prev = v.EWT
	}
	before, _ := e.eng.Ticket(ids[3])
	// Opening a second counter for the service shortens the wait.
	e.open1("2", "clerk02")
	after, _ := e.eng.Ticket(ids[3])
	require.Less(t, after.EWT, before.EWT)
	// A call moves everybody up.
	_, err := e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err)
	v, _ := e.eng.Ticket(ids[3])
	require.Equal(t, 3, v.Position)
	q := e.eng.Queue()
	for _, entry := range q {
		if entry.Service == "certificati" {
			require.Equal(t, 3, entry.Waiting)
			require.Equal(t, 3, entry.LongestWaitMin)
			require.Greater(t, entry.EWTMin, 0)
		}
	}
}

// failingStore fails every commit once armed: the engine must answer with
// an error and keep its state as the disk has it.
type failingStore struct {
	hub.Store
	fail bool
}

func (f *failingStore) Commit(b *hub.Batch) error {
	if f.fail {
		return errors.New("disk full")
	}
	return f.Store.Commit(b)
}

func TestFailedCommitChangesNothing(t *testing.T) {
	dir := t.TempDir()
	st, err := boltstore.Open(filepath.Join(dir, "s.db"), boltstore.Options{NoSync: true})
	require.NoError(t, err)
	defer st.Close()
	fs := &failingStore{Store: st}
	eng, err := hub.New(hub.Config{Site: hub.BuiltinSite(), Store: fs})
	require.NoError(t, err)
	defer eng.Close()
	_, _, err = eng.Issue(ctx, hub.IssueRequest{Service: "certificati"})
	require.NoError(t, err)
	seq := eng.LastSeq()
	fs.fail = true
	_, _, err = eng.Issue(ctx, hub.IssueRequest{Service: "certificati"})
	require.Equal(t, "store_failed", code(err))
	require.Equal(t, hub.KindUnavailable, hub.ErrorKind(err))
	require.Equal(t, seq, eng.LastSeq())
	require.Len(t, eng.Tickets(hub.TicketFilter{}), 1)
	fs.fail = false
	tk, _, err := eng.Issue(ctx, hub.IssueRequest{Service: "certificati"})
	require.NoError(t, err)
	require.Equal(t, "A002", tk.Number, "the failed number was never issued, so it is not skipped either")
}

func TestOutboxWrittenWithEachVisitChange(t *testing.T) {
	e := newEnv(t)
	tk := e.issue("certificati", hub.PriorityNone)
	e.open1("1", "clerk01")
	_, err := e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err)
	_, err = e.eng.Finish(ctx, "1", "clerk01", hub.FinishRequest{Outcome: "ok"})
	require.NoError(t, err)
	_, recs, err := e.store.Outbox(0, 0)
	require.NoError(t, err)
	var types []string
	for _, r := range recs {
		require.Equal(t, tk.ID, r.TicketID)
		types = append(types, r.Type)
	}
	require.Equal(t, []string{hub.EventTicketIssued, hub.EventTicketCalled, hub.EventTicketFinished}, types)
	require.Equal(t, hub.StatusDone, recs[2].Ticket.Status)
}

func TestLiveFeedPublishesAfterCommitInOrder(t *testing.T) {
	e := newEnv(t)
	sub, _, seq := e.eng.Subscribe(64)
	defer sub.Close()
	e.issue("certificati", hub.PriorityDisability)
	e.open1("1", "clerk01")
	_, err := e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err)
	var got []hub.Event
	for len(got) < 3 {
		select {
		case ev := <-sub.C:
			got = append(got, ev)
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
	}
	require.Equal(t, []string{hub.EventTicketIssued, hub.EventCounterOpened, hub.EventTicketCalled}, []string{got[0].Type, got[1].Type, got[2].Type})
	for i, ev := range got {
		require.Equal(t, seq+uint64(i)+1, ev.Seq)
		// Published events are already in the store.
		stored, ok, err := e.store.EventsSince(ev.Seq-1, 1)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, ev.Seq, stored[0].Seq)
	}
	pub := got[2].Public()
	require.Empty(t, pub.Data.Priority)
	require.Empty(t, pub.Data.TicketID)
	require.Equal(t, "1", pub.Data.Counter)
}

func TestSlowSubscriberDropped(t *testing.T) {
	e := newEnv(t)
	slow, _, _ := e.eng.Subscribe(2)
	fast, _, _ := e.eng.Subscribe(100)
	for i := 0; i < 5; i++ {
		e.issue("certificati", hub.PriorityNone)
	}
	n := 0
	for n < 5 {
		select {
		case <-fast.C:
			n++
		case <-time.After(5 * time.Second):
			t.Fatal("fast subscriber starved")
		}
	}
	require.True(t, slow.Dropped())
	fast.Close()
}

// Before the office opens (every counter closed) the first citizens are
// told the wait as if the counters opened now: not the projection's
// horizon, and no overload advice. Once one desk is open and forty wait,
// the estimate is long and the advice is given.
func TestEstimateBeforeOpening(t *testing.T) {
	e := newEnv(t)
	first := e.issue("certificati", hub.PriorityNone)
	v, err := e.eng.Ticket(first.ID)
	require.NoError(t, err)
	require.Less(t, v.EWT, 15*time.Minute, "the first citizen before opening")
	require.False(t, v.Advice())
	for range 40 {
		e.issue("certificati", hub.PriorityNone)
	}
	e.open1("1", "clerk01")
	last := e.issue("certificati", hub.PriorityNone)
	v, err = e.eng.Ticket(last.ID)
	require.NoError(t, err)
	require.Greater(t, v.EWT, hub.AdviceWait)
	require.True(t, v.Advice())
}

// A queue deeper than the projection replays one by one: the tickets
// beyond it follow at the projected pace, later ones later, not all at
// the horizon.
func TestEstimateBeyondProjectionDepth(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for range 260 {
		ids = append(ids, e.issue("certificati", hub.PriorityNone).ID)
	}
	for _, c := range []string{"1", "2", "3", "4"} {
		e.open1(c, "clerk0"+c)
	}
	prev := time.Duration(-1)
	for i, id := range ids {
		v, err := e.eng.Ticket(id)
		require.NoError(t, err)
		require.GreaterOrEqual(t, v.EWT, prev, "ticket %d of %d", i+1, len(ids))
		prev = v.EWT
	}
	require.Less(t, prev, 8*time.Hour, "the last of 260 is estimated, not left at the horizon")
	require.Greater(t, prev, 2*time.Hour)
}
