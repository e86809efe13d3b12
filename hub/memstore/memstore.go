// Package memstore is an in-memory hub.Store: events, tickets, counters,
// appointments, numbers, idempotency keys, reports and the CzRM outbox are
// kept in maps and slices. Nothing is durable; it exists so that the
// simulator can run many office days through the real engine quickly, and
// for tests. It is safe for concurrent use.
package memstore

import (
	"encoding/json"
	"errors"
	"io"
	"sort"
	"sync"

	"github.com/comune-rc/sportello/hub"
)

// Options tune the store.
type Options struct {
	// KeepEvents bounds how many events are kept for EventsSince: at
	// least the last KeepEvents, older ones are dropped in steps. 0 keeps
	// them all.
	KeepEvents int
}

// Store is the in-memory store.
type Store struct {
	mu           sync.RWMutex
	opts         Options
	lastSeq      uint64
	events       []hub.Event // ascending seq
	tickets      map[string]*hub.Ticket
	counters     map[string]*hub.Counter
	appointments map[string]*hub.Appointment
	numbers      map[string]int
	idem         map[string]hub.IdemRecord
	outbox       []hub.OutboxRecord
	reports      map[string]*hub.Report
	notice       hub.Text
	catalogue    *hub.Catalogue
}

var _ hub.Store = (*Store)(nil)

// New returns an empty store.
func New(opts Options) *Store {
	return &Store{
		opts:         opts,
		tickets:      map[string]*hub.Ticket{},
		counters:     map[string]*hub.Counter{},
		appointments: map[string]*hub.Appointment{},
		numbers:      map[string]int{},
		idem:         map[string]hub.IdemRecord{},
		reports:      map[string]*hub.Report{},
	}
}

// Load implements hub.Store: today's tickets and every open one, the
// counters, the appointments, the numbers, the idempotency keys and the
// last calls.
func (s *Store) Load(day string) (*hub.State, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := &hub.State{LastSeq: s.lastSeq, Numbers: map[string]int{}, Notice: s.notice, Catalogue: s.catalogue}
	for _, t := range s.tickets {
		if t.Day == day || !t.Status.Closed() {
			st.Tickets = append(st.Tickets, t.Clone())
		}
	}
	sort.Slice(st.Tickets, func(i, j int) bool { return st.Tickets[i].ID < st.Tickets[j].ID })
	for _, c := range s.counters {
		st.Counters = append(st.Counters, c.Clone())
	}
	sort.Slice(st.Counters, func(i, j int) bool { return st.Counters[i].ID < st.Counters[j].ID })
	for _, a := range s.appointments {
		c := *a
		st.Appointments = append(st.Appointments, &c)
	}
	sort.Slice(st.Appointments, func(i, j int) bool { return st.Appointments[i].Code < st.Appointments[j].Code })
	for k, v := range s.numbers {
		st.Numbers[k] = v
	}
	for _, r := range s.idem {
		st.Idem = append(st.Idem, r)
	}
	sort.Slice(st.Idem, func(i, j int) bool { return st.Idem[i].Key < st.Idem[j].Key })
	for i := len(s.events) - 1; i >= 0 && len(st.RecentCalls) < 20; i-- {
		ev := s.events[i]
		if ev.Type == hub.EventTicketCalled || ev.Type == hub.EventTicketRecalled {
			st.RecentCalls = append(st.RecentCalls, ev)
		}
	}
	// Oldest first, as they happened.
	for i, j := 0, len(st.RecentCalls)-1; i < j; i, j = i+1, j-1 {
		st.RecentCalls[i], st.RecentCalls[j] = st.RecentCalls[j], st.RecentCalls[i]
	}
	return st, nil
}

// Commit implements hub.Store: the whole batch is applied under one lock,
// so readers see all of it or none of it.
func (s *Store) Commit(b *hub.Batch) error {
	if b == nil {
		return errors.New("memstore: nil batch")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range b.Events {
		if ev.Seq <= s.lastSeq {
			return errors.New("memstore: event seq not increasing")
		}
	}
	for _, ev := range b.Events {
		s.events = append(s.events, ev)
		s.lastSeq = ev.Seq
	}
	// Prune in amortised steps: keep at least KeepEvents, at most twice.
	// In place: EventsSince hands out copies.
	if k := s.opts.KeepEvents; k > 0 && len(s.events) >= 2*k {
		n := copy(s.events, s.events[len(s.events)-k:])
		clear(s.events[n:])
		s.events = s.events[:n]
	}
	// The batch's tickets and counters are the engine's own copies, never
	// changed after the commit: they are kept as they are (copying every
	// ticket a second time showed in the simulator's profile). Load and
	// Ticket hand out copies.
	for _, t := range b.Tickets {
		s.tickets[t.ID] = t
	}
	for _, c := range b.Counters {
		s.counters[c.ID] = c
	}
	for _, a := range b.Appointments {
		c := *a
		s.appointments[a.Code] = &c
	}
	for k, v := range b.Numbers {
		s.numbers[k] = v
	}
	for _, r := range b.Idem {
		s.idem[r.Key] = r
	}
	s.outbox = append(s.outbox, b.Outbox...)
	for _, r := range b.Reports {
		c := *r
		s.reports[r.Protocol] = &c
	}
	if b.Notice != nil {
		s.notice = *b.Notice
	}
	// The batch's catalogue is the engine's own copy, never changed after.
	// Account records (Users, Devices, EndSessionsOf) are not kept: this
	// store has no accounts (it is not a hub.AuthStore).
	if b.Catalogue != nil {
		s.catalogue = b.Catalogue
	}
	return nil
}

// EventsSince implements hub.Store.
func (s *Store) EventsSince(since uint64, limit int) ([]hub.Event, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.events) > 0 && since+1 < s.events[0].Seq {
		return nil, false, nil
	}
	if len(s.events) == 0 && since < s.lastSeq {
		return nil, false, nil
	}
	i := sort.Search(len(s.events), func(i int) bool { return s.events[i].Seq > since })
	var out []hub.Event
	for ; i < len(s.events) && (limit <= 0 || len(out) < limit); i++ {
		out = append(out, s.events[i])
	}
	return out, true, nil
}

// Ticket implements hub.Store.
func (s *Store) Ticket(id string) (*hub.Ticket, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tickets[id]
	if !ok {
		return nil, hub.ErrTicketNotFound
	}
	return t.Clone(), nil
}

// Report implements hub.Store.
func (s *Store) Report(protocol string) (*hub.Report, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.reports[protocol]
	if !ok {
		return nil, hub.ErrReportNotFound
	}
	c := *r
	return &c, nil
}

// Outbox returns a copy of the CzRM outbox records, in commit order.
func (s *Store) Outbox() []hub.OutboxRecord {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]hub.OutboxRecord(nil), s.outbox...)
}

// backup is the JSON document WriteBackup writes.
type backup struct {
	LastSeq      uint64             `json:"last_seq"`
	Events       []hub.Event        `json:"events"`
	Tickets      []*hub.Ticket      `json:"tickets"`
	Counters     []*hub.Counter     `json:"counters"`
	Appointments []*hub.Appointment `json:"appointments"`
	Numbers      map[string]int     `json:"numbers"`
	Idem         []hub.IdemRecord   `json:"idempotency"`
	Outbox       []hub.OutboxRecord `json:"outbox"`
	Reports      []*hub.Report      `json:"reports"`
	Notice       hub.Text           `json:"notice"`
}

// WriteBackup implements hub.Store: a consistent JSON copy of everything,
// taken under the read lock, with map contents in key order.
func (s *Store) WriteBackup(w io.Writer) (int64, error) {
	s.mu.RLock()
	b := backup{LastSeq: s.lastSeq, Events: s.events, Numbers: s.numbers, Outbox: s.outbox, Notice: s.notice}
	for _, t := range s.tickets {
		b.Tickets = append(b.Tickets, t)
	}
	sort.Slice(b.Tickets, func(i, j int) bool { return b.Tickets[i].ID < b.Tickets[j].ID })
	for _, c := range s.counters {
		b.Counters = append(b.Counters, c)
	}
	sort.Slice(b.Counters, func(i, j int) bool { return b.Counters[i].ID < b.Counters[j].ID })
	for _, a := range s.appointments {
		b.Appointments = append(b.Appointments, a)
	}
	sort.Slice(b.Appointments, func(i, j int) bool { return b.Appointments[i].Code < b.Appointments[j].Code })
	for _, r := range s.idem {
		b.Idem = append(b.Idem, r)
	}
	sort.Slice(b.Idem, func(i, j int) bool { return b.Idem[i].Key < b.Idem[j].Key })
	for _, r := range s.reports {
		b.Reports = append(b.Reports, r)
	}
	sort.Slice(b.Reports, func(i, j int) bool { return b.Reports[i].Protocol < b.Reports[j].Protocol })
	data, err := json.Marshal(b)
	s.mu.RUnlock()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(data)
	return int64(n), err
}
