package hub

import (
	"context"
	"sort"
)

// Park sets the current ticket aside (the citizen must fetch a document,
// say): it waits again, reserved to this counter, and is called back by
// name with CallTicket. Its arrival time is kept.
func (e *Engine) Park(ctx context.Context, counterID, clerk, notes string) (*Ticket, error) {
	return e.counterAction(ctx, counterID, clerk, func(tx *txn, c *Counter, t *Ticket) (*Ticket, error) {
		if len(notes) > 2000 {
			return nil, FieldError("invalid_notes", "notes", "notes are at most 2000 characters")
		}
		now := tx.now
		s := t.current()
		s.EndedAt, s.EndedBy, s.Notes = &now, "parked", notes
		t.Status, t.Counter, t.CalledAt, t.Target, t.Parked = StatusWaiting, "", nil, c.ID, true
		c.Ticket = ""
		tx.putCounter(c)
		ev := tx.emit(EventTicketParked, EventData{TicketID: t.ID, Number: t.Number, Service: t.Service, Counter: c.ID, Kind: string(c.Kind), Status: t.Status, Priority: t.Prio})
		tx.putTicket(t, &ev)
		return t.Clone(), nil
	})
}

// AddService adds a service to the current visit: the citizen who came
// for a certificate also needs a residence change.
func (e *Engine) AddService(ctx context.Context, counterID, clerk, service string) (*Ticket, error) {
	return e.counterAction(ctx, counterID, clerk, func(tx *txn, c *Counter, t *Ticket) (*Ticket, error) {
		if _, ok := tx.e.site.Service(service); !ok {
			return nil, unknownService("service", service)
		}
		for _, s := range append([]string{t.Service}, t.Requested...) {
			if s == service {
				return nil, FieldError("duplicate_service", "service", "the visit already has service %q", service)
			}
		}
		t.Requested = append(t.Requested, service)
		ev := tx.emit(EventTicketUpdated, EventData{TicketID: t.ID, Number: t.Number, Service: t.Service, Counter: c.ID, Status: t.Status, Priority: t.Prio})
		tx.putTicket(t, &ev)
		return t.Clone(), nil
	})
}

// SetCounterServices changes a counter's skill profile live (supervisor).
func (e *Engine) SetCounterServices(ctx context.Context, counterID string, services []string, by string) (*Counter, error) {
	v, err := e.do(ctx, by, func(tx *txn) (any, error) {
		c, ok := tx.e.counters[counterID]
		if !ok {
			return nil, ErrCounterNotFound
		}
		if err := checkProfile(tx.e.site, c.Kind, services); err != nil {
			return nil, err
		}
		c.Services = append([]string(nil), services...)
		tx.putCounter(c)
		tx.emit(EventCounterUpdated, EventData{Counter: c.ID, Kind: string(c.Kind), State: string(c.State)})
		return c.Clone(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Counter), nil
}

// ForceClose closes a counter whatever its clerk (supervisor): a clerk who
// left without closing. Its current ticket goes back to waiting, keeping
// its place.
func (e *Engine) ForceClose(ctx context.Context, counterID, by string) (*Counter, error) {
	v, err := e.do(ctx, by, func(tx *txn) (any, error) {
		c, ok := tx.e.counters[counterID]
		if !ok {
			return nil, ErrCounterNotFound
		}
		if c.State == CounterClosed {
			return c.Clone(), nil
		}
		if t, ok := tx.e.tickets[c.Ticket]; ok && c.Ticket != "" {
			now := tx.now
			s := t.current()
			s.EndedAt, s.EndedBy = &now, "counter_closed"
			t.Status, t.Counter, t.CalledAt = StatusWaiting, "", nil
			ev := tx.emit(EventTicketTransferred, EventData{TicketID: t.ID, Number: t.Number, Service: t.Service, Status: t.Status, FromCounter: c.ID, Priority: t.Prio})
			tx.putTicket(t, &ev)
		}
		clerk := c.Clerk
		c.State, c.Clerk, c.Ticket, c.Since, c.Reason = CounterClosed, "", "", tx.now, ""
		tx.putCounter(c)
		tx.emit(EventCounterClosed, EventData{Counter: c.ID, Kind: string(c.Kind), State: string(c.State), Clerk: clerk, Reason: "closed by supervisor"})
		return c.Clone(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Counter), nil
}

// EndOfDay closes every ticket still open (waiting, called, serving) with
// a reason, and every counter: nothing carries over to tomorrow unseen.
// It returns how many tickets it closed.
func (e *Engine) EndOfDay(ctx context.Context, reason, by string) (int, error) {
	if err := validText("reason", reason, 200, true); err != nil {
		return 0, err
	}
	v, err := e.do(ctx, by, func(tx *txn) (any, error) {
		now := tx.now
		var open []*Ticket
		for _, t := range tx.e.tickets {
			if !t.Status.Closed() {
				open = append(open, t)
			}
		}
		sort.Slice(open, func(i, j int) bool { return open[i].ID < open[j].ID })
		for _, t := range open {
			if s := t.current(); s != nil {
				s.EndedAt, s.EndedBy = &now, "end_of_day"
			}
			t.Status, t.ClosedAt, t.Outcome = StatusCancelled, &now, "end_of_day"
			if t.Notes == "" {
				t.Notes = reason
			}
			t.Parked = false
			tx.ticketEvent(EventTicketCancelled, t)
		}
		for _, def := range tx.e.site.Counters {
			c := tx.e.counters[def.ID]
			if c.State != CounterClosed || c.Ticket != "" {
				c.State, c.Clerk, c.Ticket, c.Since, c.Reason = CounterClosed, "", "", now, ""
				tx.putCounter(c)
				tx.emit(EventCounterClosed, EventData{Counter: c.ID, Kind: string(c.Kind), State: string(c.State), Reason: "end of day"})
			}
		}
		tx.emit(EventDayClosed, EventData{Reason: reason})
		return len(open), nil
	})
	if err != nil {
		return 0, err
	}
	return v.(int), nil
}

// AuditEntry is one line of the audit trail: who did what, when.
type AuditEntry struct {
	Seq    uint64 `json:"seq"`
	At     string `json:"at"`
	Actor  string `json:"actor"`
	Action string `json:"action"`
	// Target is the ticket number, counter or totem acted upon.
	Target string `json:"target,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Audit returns the audit trail after seq (oldest first, at most limit),
// read from the event log: every state change records its actor in the
// same transaction as the change, so the trail cannot miss one.
func (e *Engine) Audit(since uint64, limit int, actor string) ([]AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var out []AuditEntry
	for len(out) < limit {
		evs, _, err := e.store.EventsSince(since, 1000)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			since = ev.Seq
			if actor != "" && ev.Data.Actor != actor {
				continue
			}
			a := AuditEntry{Seq: ev.Seq, At: ev.At.Format("2006-01-02T15:04:05.000Z07:00"), Actor: ev.Data.Actor, Action: ev.Type}
			switch {
			case ev.Data.Number != "":
				a.Target = ev.Data.Number
				if ev.Data.Counter != "" {
					a.Detail = "counter " + ev.Data.Counter
				}
			case ev.Data.Counter != "":
				a.Target = "counter " + ev.Data.Counter
			case ev.Data.Totem != "":
				a.Target = ev.Data.Totem
			case ev.Data.User != "":
				a.Target = "user " + ev.Data.User
			case ev.Data.Device != "":
				a.Target = "device " + ev.Data.Device
			case ev.Type == EventServiceCreated || ev.Type == EventServiceUpdated:
				a.Target = "service " + ev.Data.Service
			}
			if ev.Data.Outcome != "" {
				a.Detail = joinDetail(a.Detail, "outcome "+ev.Data.Outcome)
			}
			if ev.Data.Reason != "" {
				a.Detail = joinDetail(a.Detail, ev.Data.Reason)
			}
			out = append(out, a)
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
